"""Photographic Tux Paint stamps of ImageNet classes: RGBA cut-outs whose alpha is an exact mask.

Source: Debian ``tuxpaint-stamps-default`` 2022.06.04-1 (the Tux Paint project's stamps, GPL-2;
credit to their photographers as listed in the package's ``copyright`` file). The reviewed mapping
``camlib/resources/stamps_imagenet.tsv`` lists each stamp that is a photograph of one instance of an
ImageNet-1k class, with the class and why (see its header). Only those PNGs are kept, under
``<data root>/assets/tuxpaint-stamps/``, each checked against the SHA-256 in the mapping.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import CorruptFileError
from ..shipped import shipped_text, tsv_rows
from .debian import DebianFiles

DEBIAN_PACKAGE = "tuxpaint-stamps-default"
MAPPING_FILE = "stamps_imagenet.tsv"
_COLUMNS = ["stamp", "class_index", "class_name", "sha256", "notes"]


@dataclass(frozen=True)
class StampEntry:
    """One row of the mapping: the stamp's path below ``usr/share/tuxpaint/stamps``, its ImageNet class and notes."""

    path: str
    class_index: int
    class_name: str
    sha256: str
    notes: str


@dataclass(frozen=True)
class Stamp:
    """A loaded stamp: ``rgba`` uint8 ``(h, w, 4)``, ``mask`` bool ``(h, w)`` (alpha > 0.5) and its class."""

    path: str
    rgba: np.ndarray
    mask: np.ndarray
    class_index: int
    class_name: str


def read_mapping(text: str, source: str = MAPPING_FILE) -> list[StampEntry]:
    """Parse the mapping's TSV text (``#`` comment lines, a header row, then one stamp per row)."""
    entries = []
    for number, fields in enumerate(tsv_rows(text, _COLUMNS, source), start=2):
        row = "\t".join(fields)
        if len(fields) != len(_COLUMNS) or not fields[1].isdigit() or not 0 <= int(fields[1]) < 1000 or len(fields[3]) != 64:
            raise CorruptFileError(f"{source}: data row {number - 1} is not 'stamp, class index 0-999, name, sha256, notes': {row[:80]!r}")
        entries.append(StampEntry(fields[0], int(fields[1]), fields[2], fields[3], fields[4]))
    paths = [e.path for e in entries]
    if len(set(paths)) != len(paths):
        raise CorruptFileError(f"{source}: a stamp is listed twice")
    return entries


@lru_cache(maxsize=1)
def stamp_mapping() -> tuple[StampEntry, ...]:
    """The reviewed mapping shipped with camlib."""
    return tuple(read_mapping(shipped_text(MAPPING_FILE)))


def stamp_files() -> DebianFiles:
    """The mapped stamps as files of the Debian package (fetched into ``assets/tuxpaint-stamps``)."""
    return DebianFiles(DEBIAN_PACKAGE, "usr/share/tuxpaint/stamps", "tuxpaint-stamps",
                       {e.path: e.sha256 for e in stamp_mapping()})


def fetch_stamps() -> list[str]:
    """Fetch the mapped stamps that are missing or corrupt; returns those fetched (``python -m camlib.data.fetch``)."""
    return stamp_files().fetch()


def stamp_paths() -> list[Path]:
    """Verified local paths of every mapped stamp, in mapping order."""
    return stamp_files().paths([e.path for e in stamp_mapping()])


def load_stamps() -> list[Stamp]:
    """Every mapped stamp as RGBA with its exact mask and ImageNet class, in mapping order."""
    stamps = []
    for entry, path in zip(stamp_mapping(), stamp_paths()):
        rgba = np.asarray(Image.open(path).convert("RGBA"))
        stamps.append(Stamp(entry.path, rgba, rgba[..., 3] > 127, entry.class_index, entry.class_name))
    return stamps
