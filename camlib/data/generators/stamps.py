"""Photographic Tux Paint stamps of ImageNet classes: RGBA cut-outs whose alpha is an exact mask.

Source: Debian ``tuxpaint-stamps-default`` 2022.06.04-1 (the Tux Paint project's stamps, GPL-2;
credit to their photographers as listed in the package's ``copyright`` file). Two reviewed mappings
ship with camlib, both read by :func:`read_mapping`:

* ``stamps_imagenet.tsv`` (:data:`MAPPING_FILE`): each stamp that is a photograph of one instance of an
  ImageNet-1k class, with the class and why (see its header);
* ``stamps_groups.tsv`` (:data:`GROUPS_FILE`): photographs of one object grouped into coarse classes
  (mammal, bird, fruit...), several stamps each, for heads trained on some stamps and tested on others.

Only the listed PNGs are kept, under ``<data root>/assets/tuxpaint-stamps/``, each checked against
the SHA-256 in its mapping.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from camlib.utils.errors import CamlibError, CorruptFileError
from camlib.utils.shipped import shipped_text, tsv_rows
from camlib.data.assets.debian import DebianFiles

DEBIAN_PACKAGE = "tuxpaint-stamps-default"
MAPPING_FILE = "stamps_imagenet.tsv"
GROUPS_FILE = "stamps_groups.tsv"
MAPPINGS = (MAPPING_FILE, GROUPS_FILE)
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


@lru_cache(maxsize=len(MAPPINGS))
def stamp_mapping(mapping: str = MAPPING_FILE) -> tuple[StampEntry, ...]:
    """A reviewed mapping shipped with camlib (one of :data:`MAPPINGS`)."""
    if mapping not in MAPPINGS:
        raise CamlibError(f"unknown stamp mapping {mapping!r}; camlib ships {', '.join(MAPPINGS)}")
    return tuple(read_mapping(shipped_text(mapping), mapping))


def stamp_files() -> DebianFiles:
    """Every stamp of every mapping as files of the Debian package (fetched into ``assets/tuxpaint-stamps``)."""
    return DebianFiles(DEBIAN_PACKAGE, "usr/share/tuxpaint/stamps", "tuxpaint-stamps",
                       {e.path: e.sha256 for mapping in MAPPINGS for e in stamp_mapping(mapping)})


def fetch_stamps() -> list[str]:
    """Fetch the mapped stamps that are missing or corrupt; returns those fetched (``python -m camlib.data.fetch``)."""
    return stamp_files().fetch()


def stamp_count() -> int:
    """How many distinct stamps the mappings list (what :func:`fetch_stamps` keeps)."""
    return len(stamp_files().manifest)


def stamp_paths(mapping: str = MAPPING_FILE) -> list[Path]:
    """Verified local paths of every stamp of ``mapping``, in mapping order."""
    return stamp_files().paths([e.path for e in stamp_mapping(mapping)])


def load_stamps(mapping: str = MAPPING_FILE) -> list[Stamp]:
    """Every stamp of ``mapping`` as RGBA with its exact mask and class (an ImageNet class, or a group), in mapping order."""
    stamps = []
    for entry, path in zip(stamp_mapping(mapping), stamp_paths(mapping)):
        rgba = np.asarray(Image.open(path).convert("RGBA"))
        stamps.append(Stamp(entry.path, rgba, rgba[..., 3] > 127, entry.class_index, entry.class_name))
    return stamps
