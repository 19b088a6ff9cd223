"""Fashion-MNIST (Xiao et al. 2017, MIT licence): 70,000 28x28 grey images of 10 clothing classes.

Sources, in order: the Debian package ``dataset-fashion-mnist`` when installed
(``/usr/share/datasets/fashion-mnist``), else ``assets/fashion-mnist/`` filled by
``apt-get download`` + ``dpkg -x`` where apt-get exists, else by the official Zalando URLs.
The files are verified by the SHA-256 of their *decompressed* bytes, which is the same whichever
source (and gzip settings) delivered them; a file that does not match is fetched again.
"""
from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path
from typing import Literal

import numpy as np

from ..cache import atomic_write_bytes
from ..errors import CamlibError, CorruptFileError, DatasetNotFoundError
from .assets import FETCH_COMMAND
from .paths import assets_dir
from .sources import FetchError, deb_members, url_bytes

FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "dataset-fashion-mnist"
URL_BASE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

#: SHA-256 of each file's decompressed idx bytes.
CONTENT_SHA256 = {
    "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def local_dir() -> Path:
    """Where fetched copies live: ``<data root>/assets/fashion-mnist``."""
    return assets_dir() / "fashion-mnist"


def _verified(data: bytes, name: str) -> bytes | None:
    """The decompressed ``data`` of file ``name`` when it matches the recorded hash, else ``None``."""
    try:
        content = gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return None
    return content if hashlib.sha256(content).hexdigest() == CONTENT_SHA256[name] else None


def _verified_content(path: Path) -> bytes | None:
    """The decompressed bytes of ``path`` when they match the recorded hash, else ``None``."""
    return _verified(path.read_bytes(), path.name) if path.is_file() else None


def _content(name: str) -> bytes | None:
    for folder in (SYSTEM_DIR, local_dir()):
        content = _verified_content(folder / name)
        if content is not None:
            return content
    return None


def _download(names: list[str]) -> dict[str, bytes]:
    """The gzip bytes of ``names`` from Debian, else from the official URLs."""
    errors = []
    try:
        members = deb_members(DEBIAN_PACKAGE, [f"{SYSTEM_DIR.relative_to('/')}/{n}" for n in names])
        return {n: members[f"{SYSTEM_DIR.relative_to('/')}/{n}"] for n in names}
    except FetchError as err:
        errors.append(str(err))
    try:
        return {n: url_bytes(URL_BASE + n) for n in names}
    except FetchError as err:
        errors.append(str(err))
    raise DatasetNotFoundError(
        "Fashion-MNIST", f"{SYSTEM_DIR} and {local_dir()}",
        f"Run `{FETCH_COMMAND}` where apt-get (after `apt-get update`) or the internet works, or "
        f"`apt-get install {DEBIAN_PACKAGE}`, or put the four .gz files of "
        f"https://github.com/zalandoresearch/fashion-mnist in {local_dir()} ({'; '.join(errors)})")


def fetch_fashion_mnist() -> list[str]:
    """Make sure all four files are present and intact; returns the names that had to be fetched."""
    todo = [name for name in CONTENT_SHA256 if _content(name) is None]
    if todo:
        for name, data in _download(todo).items():
            if _verified(data, name) is None:
                raise CorruptFileError(f"the downloaded Fashion-MNIST {name} does not match the recorded "
                                       "SHA-256; the source changed, report it to camlib")
            atomic_write_bytes(local_dir() / name, data)
    return todo


def _parse_idx(content: bytes, ndim: int) -> np.ndarray:
    """An idx array (big-endian header: magic, then ``ndim`` sizes; uint8 payload)."""
    dims = np.frombuffer(content, dtype=">i4", count=ndim + 1, offset=0)[1:]
    return np.frombuffer(content, dtype=np.uint8, offset=4 * (ndim + 1)).reshape(tuple(dims)).copy()


def load_fashion_mnist(split: Literal["train", "test"]) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N, 28, 28) (background 0) and labels int64 (N,) of the train (60k) or test (10k) split."""
    if split not in SPLIT_FILES:
        raise CamlibError(f"Fashion-MNIST split must be 'train' or 'test', got {split!r}")
    images_name, labels_name = SPLIT_FILES[split]
    images, labels = _content(images_name), _content(labels_name)
    if images is None or labels is None:
        fetch_fashion_mnist()
        images, labels = _content(images_name), _content(labels_name)
    return _parse_idx(images, 3), _parse_idx(labels, 1).astype(np.int64)
