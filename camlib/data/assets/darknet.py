"""The six example photos of Debian ``darknet`` (0.0.0+git20180914.61c9d02e; GPL-3.0+ or MIT or WTFPL).

``dog``, ``eagle``, ``giraffe``, ``horses``, ``kite`` and ``person.jpg`` from ``/usr/share/darknet/data``
(the package's ``scream.jpg`` is a painting and is not used): real photographs used as annotated
test photos and, cropped to their object-free parts, as backgrounds of generated benchmarks.
"""
from __future__ import annotations

from pathlib import Path

from camlib.data.assets.debian import DebianFiles

#: SHA-256 of each photo, by file name.
MANIFEST = {
    "dog.jpg": "5a9522051c3cec2bbd2f6323fccba32e8fbf3ddcc2b3e2fd46b04c720bc6f866",
    "eagle.jpg": "f95f57297fd51a6c5ddceb5ed6916fa759d1d65f402fee34c05b31a9608755c0",
    "giraffe.jpg": "00dc48a9b2af8a1fe4c4b79319726591f1033c7e1150f21e7577a79f3b6659f1",
    "horses.jpg": "c8f0a677a1356569e2ce71d2fa88c1030c0ae57ecf5e14170e02d9a86a20dcb4",
    "kite.jpg": "87410f52f79cc256c3949b48a3548632c07c8e9943468ef8caa6250f6643be8e",
    "person.jpg": "cdcbab947e46110fc2b77784ac54ddbbab2640f1e44cb5e91fc8984a9793a7d1",
}

DARKNET = DebianFiles("darknet", "usr/share/darknet/data", "darknet", MANIFEST)


def darknet_photo_paths(names: list[str] | None = None) -> list[Path]:
    """Verified local paths of the named photos (default: all six), fetching what is missing."""
    return DARKNET.paths(MANIFEST if names is None else names)
