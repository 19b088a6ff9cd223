"""Real scene-text photos and the Street View Text (SVT) data set in its own file format.

* ``opencv-doc`` (Debian) ships six scene-text photos (``examples/text/scenetext01..06.jpg``) and
  photos without text (``examples/data``) that serve as backgrounds for generated text scenes.
  :func:`fetch_opencv_doc` extracts them with ``apt-get download`` + ``dpkg -x`` into
  ``<data root>/assets/opencv-doc/`` and checks each file's SHA-256.
* SVT (Wang, Babenko and Belongie 2011; 350 Google Street View images, word boxes in XML) is the
  paper's text data set. It cannot be fetched here: :func:`load_svt` reads the official
  ``svt1/{train,test}.xml`` + ``svt1/img/`` layout wherever the user unpacked it.
"""
from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..cache import atomic_write_bytes
from ..errors import CamlibError, CorruptFileError, DatasetNotFoundError
from .assets import is_valid
from .paths import assets_dir, full_dir
from .sources import FetchError, deb_members

DEBIAN_PACKAGE = "opencv-doc"
_DOC = "usr/share/doc/opencv-doc/examples"
SYSTEM_DIR = Path("/") / _DOC

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

SVT_URL = "http://vision.ucsd.edu/~kai/svt/ (svt.zip, unpacks to svt1/)"


def opencv_doc_dir() -> Path:
    """Where the extracted files live: ``<data root>/assets/opencv-doc``."""
    return assets_dir() / "opencv-doc"


def _local_path(name: str) -> Path | None:
    """The intact copy of ``name``: the installed package's if present, else the fetched one."""
    for folder in (SYSTEM_DIR, opencv_doc_dir()):
        if is_valid(folder / name, MANIFEST[name]):
            return folder / name
    return None


def fetch_opencv_doc() -> list[str]:
    """Make sure every file of :data:`MANIFEST` is present and intact; returns the names fetched.

    Uses the installed package's files when ``opencv-doc`` is installed; otherwise downloads the
    package (about 95 MB) once when anything is missing or corrupt.
    """
    todo = [name for name in MANIFEST if _local_path(name) is None]
    if not todo:
        return []
    try:
        members = deb_members(DEBIAN_PACKAGE, [f"{_DOC}/{name}" for name in todo])
    except FetchError as err:
        raise DatasetNotFoundError(
            "opencv-doc photos", opencv_doc_dir(),
            f"Run `apt-get update` once, then retry (camlib runs `apt-get download {DEBIAN_PACKAGE}` and "
            f"`dpkg -x`); or copy /usr/share/doc/opencv-doc/examples/{{text,data}} files there ({err})") from None
    for name in todo:
        data = members[f"{_DOC}/{name}"]
        if hashlib.sha256(data).hexdigest() != MANIFEST[name]:
            raise CorruptFileError(f"{name} in the {DEBIAN_PACKAGE} package does not match the recorded SHA-256; "
                                   "the package changed, report it to camlib")
        atomic_write_bytes(opencv_doc_dir() / name, data)
    return todo


def scene_text_photos() -> list[Path]:
    """Paths of the six scene-text photos, fetched on first use."""
    fetch_opencv_doc()
    return [_local_path(name) for name in SCENE_TEXT_SHA256]


def text_free_photos() -> list[Path]:
    """Paths of the opencv-doc photos without text, fetched on first use."""
    fetch_opencv_doc()
    return [_local_path(name) for name in TEXT_FREE_SHA256]


@dataclass
class SVTImage:
    """One SVT image: ``boxes`` float32 (M, 4) ``[x0, y0, x1, y1]`` (x1/y1 exclusive) with their
    ``words``, the image's ``lexicon`` of candidate words and its ``size`` ``(width, height)``."""

    path: Path
    boxes: np.ndarray
    words: list[str]
    lexicon: list[str]
    size: tuple[int, int]


def svt_root() -> Path:
    """The default SVT folder: ``<data root>/full/svt1``."""
    return full_dir() / "svt1"


def _int_attr(node: ET.Element, name: str, where: str) -> int:
    value = node.get(name)
    if value is None:
        raise CamlibError(f"{where}: <{node.tag}> has no '{name}' attribute")
    try:
        return int(float(value))
    except ValueError:
        raise CamlibError(f"{where}: <{node.tag}> attribute {name}={value!r} is not a number") from None


def parse_svt_xml(xml_path: Path) -> list[SVTImage]:
    """Parse one SVT annotation file (``train.xml`` or ``test.xml``).

    SVT gives each word as ``<taggedRectangle x y width height>`` in pixels; the box is
    ``[x, y, x + width, y + height]`` clipped to the image (a few SVT boxes stick out of it).
    """
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as err:
        raise CamlibError(f"{xml_path}: not valid SVT XML ({err})") from None
    images = []
    for k, node in enumerate(root.iter("image")):
        where = f"{xml_path} image #{k}"
        name = node.findtext("imageName")
        resolution = node.find("Resolution")
        if not name or resolution is None:
            raise CamlibError(f"{where}: needs <imageName> and <Resolution x= y=>")
        width, height = _int_attr(resolution, "x", where), _int_attr(resolution, "y", where)
        boxes, words = [], []
        for rect in node.iter("taggedRectangle"):
            x, y = _int_attr(rect, "x", where), _int_attr(rect, "y", where)
            w, h = _int_attr(rect, "width", where), _int_attr(rect, "height", where)
            boxes.append([max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)])
            words.append((rect.findtext("tag") or "").strip())
        lexicon = [w for w in (node.findtext("lex") or "").replace("\n", "").split(",") if w]
        images.append(SVTImage(xml_path.parent / name, np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
                               words, lexicon, (width, height)))
    return images


def load_svt(split: str = "test", root: str | Path | None = None) -> list[SVTImage]:
    """The SVT ``train`` (100 images) or ``test`` (249 images) split from ``root`` (default :func:`svt_root`).

    Raises :class:`DatasetNotFoundError` when the annotation file is missing and :class:`CamlibError`
    when an image it names is missing.
    """
    if split not in ("train", "test"):
        raise CamlibError(f"SVT split must be 'train' or 'test', got {split!r}")
    root = Path(root) if root is not None else svt_root()
    xml_path = root / f"{split}.xml"
    if not xml_path.is_file():
        raise DatasetNotFoundError("SVT", xml_path, f"Download SVT from {SVT_URL} and unpack it so that "
                                   f"{root}/{split}.xml and {root}/img/ exist")
    images = parse_svt_xml(xml_path)
    missing = [str(im.path) for im in images if not im.path.is_file()]
    if missing:
        raise CamlibError(f"{len(missing)} SVT images listed in {xml_path} are missing, e.g. {missing[0]}")
    return images
