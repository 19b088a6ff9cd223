"""Files of a Debian package, fetched once into ``assets/`` and verified by their SHA-256.

When the package is installed its copies are used; otherwise it is ``apt-get download``-ed and
unpacked with ``dpkg -x`` (no installation, see :func:`~camlib.data.assets.sources.deb_members`), and only
the files camlib needs are kept under ``<data root>/assets/<folder>/``. A missing or modified file is
fetched again, never used.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from camlib.utils.cache import atomic_write_bytes
from camlib.utils.errors import CamlibError, CorruptFileError, DatasetNotFoundError
from camlib.data.assets.packages import is_valid
from camlib.data.assets.paths import assets_dir
from camlib.data.assets.sources import FetchError, deb_members


@dataclass(frozen=True)
class DebianFiles:
    """Files of ``package`` below ``prefix`` (a path inside the package), by name relative to it.

    ``manifest`` maps each name to its SHA-256; fetched copies live in ``assets/<folder>/<name>``.
    """

    package: str
    prefix: str
    folder: str
    manifest: Mapping[str, str]

    def local_dir(self) -> Path:
        """Where fetched copies live: ``<data root>/assets/<folder>``."""
        return assets_dir() / self.folder

    def _intact_copy(self, name: str) -> Path | None:
        for folder in (Path("/") / self.prefix, self.local_dir()):
            if is_valid(folder / name, self.manifest[name]):
                return folder / name
        return None

    def paths(self, names: Iterable[str]) -> list[Path]:
        """Verified local paths of the named files, fetching what is missing or corrupt."""
        names = list(names)
        unknown = [name for name in names if name not in self.manifest]
        if unknown:
            raise CamlibError(f"unknown {self.package} file {unknown[0]!r}; camlib knows {len(self.manifest)} files of it")
        found = [self._intact_copy(name) for name in names]
        fetched = set(self.fetch([name for name, path in zip(names, found) if path is None]))
        return [self.local_dir() / name if name in fetched else path for name, path in zip(names, found)]

    def fetch(self, names: Iterable[str] | None = None) -> list[str]:
        """Fetch the named files (default: the whole manifest) that are missing or corrupt; returns those fetched."""
        todo = [name for name in (self.manifest if names is None else names) if self._intact_copy(name) is None]
        if not todo:
            return []
        try:
            members = deb_members(self.package, [f"{self.prefix}/{name}" for name in todo])
        except FetchError as err:
            raise DatasetNotFoundError(
                f"{self.package} files", self.local_dir(),
                f"Run `apt-get update` once, then retry (camlib runs `apt-get download {self.package}` and `dpkg -x`); "
                f"or `apt-get install {self.package}` ({err})") from None
        for name in todo:
            data = members[f"{self.prefix}/{name}"]
            if hashlib.sha256(data).hexdigest() != self.manifest[name]:
                raise CorruptFileError(f"{name} in the {self.package} package does not match the recorded SHA-256; "
                                       "the package changed, report it to camlib")
            atomic_write_bytes(self.local_dir() / name, data)
        return todo
