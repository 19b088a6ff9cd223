"""Files of OpenCV's documentation package (Debian ``opencv-doc``, BSD licence), fetched once.

camlib uses three kinds of its example files, named by their path under the package's ``examples/``
folder: ``data/digits.png`` (OpenCV's sheet of 5,000 handwritten digits), six scene-text photos
(``text/scenetext01..06.jpg``) and photos without text (``data/*.jpg``, backgrounds for generated
text scenes). When the package is installed its copies are used; otherwise the package is
``apt-get download``-ed (about 95 MB) and unpacked with ``dpkg -x`` (no installation) into
``<data root>/assets/opencv-doc/``. Every file is checked against its recorded SHA-256 and fetched
again when missing or modified.
"""
from __future__ import annotations

from pathlib import Path

from camlib.data.assets.debian import DebianFiles

DEBIAN_PACKAGE = "opencv-doc"
_EXAMPLES = "usr/share/doc/opencv-doc/examples"

#: OpenCV's handwritten-digit sheet (the data of its ``digits.py`` SVM sample).
DIGITS_SHA256 = {"data/digits.png": "60c917758ef97cc090f35cd8e293e4de691ef942847da0ff80dedab33d57c662"}
#: Scene-text photos (OpenCV's text module samples), by name under ``assets/opencv-doc/``.
SCENE_TEXT_SHA256 = {
    "text/scenetext01.jpg": "7f3041a7019ab4d33d2452bc757d8c4f38616bfde71431e12f7ec370d7b2018e",
    "text/scenetext02.jpg": "d4295bff9f348012f91a2cf745753124f85041fe3c3717146c6759c4cd977211",
    "text/scenetext03.jpg": "cadf4a3d29a7ba6fe976b53fa65f490cc2868375e8feb3d93f26029f05c662ca",
    "text/scenetext04.jpg": "28e08d142a04f92f96d01ff2674f7804321841cba95bd968980cdc85ef0af6df",
    "text/scenetext05.jpg": "63985ac1a9989a8320605d5be0ec285af0c6304a78cc9cc5de6c2c7c435f7c0b",
    "text/scenetext06.jpg": "e4d64f10bbfb27b2c5980cb048fd0abe20dd74868ba5460298de473ced53b518",
}
#: Photos of ``examples/data`` checked by eye to show no legible text.
TEXT_FREE_SHA256 = {
    "data/aero1.jpg": "d9a69191f6e3642ea361bc3c62e677b2f40fe6534b78da540f4155e0734b59ef",
    "data/aero3.jpg": "1c407146f8762b3b14a7953ff9bc4c01ed64c467d7277122e769bf7e816017a4",
    "data/aloeL.jpg": "cce5736808efe80d9f04b118dbb978c344d4345672b332718c3e039a3eeb8eee",
    "data/apple.jpg": "e86879de3d9a807dedc742a8f464f39e6b74bbb531a1fba3583155d94997d1cd",
    "data/baboon.jpg": "1a1dd18d78eec44420af3b0b7f08ee3d41c982916cae3ce203d7ff35d754cc0f",
    "data/butterfly.jpg": "34a99716b78ded10eae87b4880de739d3e68cc7dd1a96812bb28f469d5eeaea8",
    "data/fruits.jpg": "9c031d80a1c52da5eca790db896baffec6a7e52bf786cdb7bbfca5c7f880e6a1",
    "data/home.jpg": "23b8cf46a1965d0ec33459b875aed43187802834db49e0daa9fa2cc842e9d8d2",
    "data/leuvenA.jpg": "b2977cdbd9fb3f94dadd6f76cf586d145676deb8a22b5f0f42149d21c058c09f",
    "data/orange.jpg": "152c20d2f380ac985de25e474e1a5f06ed34b932191342099b8272a63a15a079",
    "data/squirrel_cls.jpg": "20bb6e8ae96918a36c9886b6d48e54eedeb3948591e1485c206bc1dc60c8dc8b",
    "data/starry_night.jpg": "accda7a19a90f22a4a922fdc8c230167d7abf5f80882171e2cee125c5f12481d",
    "data/stuff.jpg": "21cd00afbdd0727f445dd91c0a09633e6345ed5b05a3d2355453a1f3c314c6c5",
    "data/chicky_512.png": "4d2cf040de084fd3f34d5e3f96f1251faaa4787c1ac3b548fec5809a0d01854e",
    "data/rubberwhale1.png": "eb312435369dac9efcc92f7e098edbd9ed8d7e6dfede8b3b4d8e3702cd80b796",
    "data/smarties.png": "ad3f751c053fdcf432687c1bc0e56a61a9119d2bb2ae29365f8aa6534fc77417",
}
MANIFEST = {**SCENE_TEXT_SHA256, **TEXT_FREE_SHA256}
#: Photos with an ImageNet class in view, annotated in camlib/resources/real_photo_boxes.tsv (besides text-free ones).
REAL_PHOTO_SHA256 = {"data/messi5.jpg": "1d570e49654e84c7a943918537bd9e5e1ef82920152e147c834006e235be97c9"}
#: The 1000 ImageNet-1k class names in the standard order, one line each (OpenCV's dnn samples).
CLASS_NAMES_FILE = "data/dnn/classification_classes_ILSVRC2012.txt"
CLASS_NAMES_SHA256 = {CLASS_NAMES_FILE: "4eb3da435cf544e4a6f390f62c84cb9c9bb68cf8b14e97f8a063452382e5efd2"}

#: Every file camlib uses (opencv-doc 4.6.0), by path under ``examples/``.
MANIFEST = {**DIGITS_SHA256, **SCENE_TEXT_SHA256, **TEXT_FREE_SHA256, **CLASS_NAMES_SHA256, **REAL_PHOTO_SHA256}


#: The package's files camlib uses, verified and fetched like every Debian asset.
OPENCV_DOC = DebianFiles(DEBIAN_PACKAGE, _EXAMPLES, "opencv-doc", MANIFEST)


def opencv_doc_paths(names: list[str]) -> list[Path]:
    """Verified local paths of the named files (e.g. ``"data/digits.png"``), fetching what is missing."""
    return OPENCV_DOC.paths(names)


def fetch_opencv_doc(names: list[str] | None = None) -> list[str]:
    """Fetch the named files (default: all of :data:`MANIFEST`) that are missing or corrupt; returns those fetched."""
    return OPENCV_DOC.fetch(names)
