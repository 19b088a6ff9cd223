"""Real scene-text photos and the Street View Text (SVT) data set in its own file format.

* The six scene-text photos and the text-free background photos come from OpenCV's documentation
  package (:mod:`camlib.data.assets.opencv_doc`).
* SVT (Wang, Babenko and Belongie 2011; 350 Google Street View images, word boxes in XML) is the
  paper's text data set. It cannot be fetched here: :func:`load_svt` reads the official
  ``svt1/{train,test}.xml`` + ``svt1/img/`` layout wherever the user unpacked it.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from camlib.utils.errors import CamlibError, DatasetNotFoundError
from camlib.data.assets.opencv_doc import SCENE_TEXT_SHA256, TEXT_FREE_SHA256, opencv_doc_paths
from camlib.data.assets.paths import full_dir

SVT_URL = "http://vision.ucsd.edu/~kai/svt/ (svt.zip, unpacks to svt1/)"


def scene_text_photos() -> list[Path]:
    """Paths of the six scene-text photos, fetched on first use."""
    return opencv_doc_paths(list(SCENE_TEXT_SHA256))


def text_free_photos() -> list[Path]:
    """Paths of the opencv-doc photos without text, fetched on first use."""
    return opencv_doc_paths(list(TEXT_FREE_SHA256))


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
