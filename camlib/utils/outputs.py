"""Output files that never replace anything: written whole, under a fresh name, inside their folder.

A file is written to a temporary name in the target folder and then hard-linked to its final
name, which fails if that name exists in any form (file, folder, symbolic link): nothing is
overwritten, nothing is written through a link, and a killed writer leaves at most a hidden
temporary file (removed by the next write of that name), never a truncated output. Two writers
racing for one name get different names. Files are created with the user's umask (as ``open`` does).
"""
from __future__ import annotations

import errno
import glob
import os
import secrets
import stat
import tempfile
from pathlib import Path

from camlib.utils.errors import CamlibError


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists (POSIX)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files of ``path`` whose writer process was killed (``.<name>.<pid>.*.tmp``)."""
    if os.name != "posix":  # os.kill(pid, 0) terminates the process on Windows
        return
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:].split(".")[0]
        if pid.isdigit() and not _is_running(int(pid)):
            try:
                if not stat.S_ISDIR(tmp.lstat().st_mode):  # a folder planted under that name is not ours
                    tmp.unlink()
            except OSError:  # gone already, or not ours to remove: it only takes a name we never use again
                pass


#: Longest file name most file systems take, in bytes.
NAME_MAX = 255
#: Bytes a temporary name adds to its file's name: ``.`` + name + ``.<pid>.<16 hex>.tmp``.
_TEMPORARY_EXTRA = 1 + 1 + 10 + 1 + 16 + 4


def new_temporary(path: Path) -> tuple[int, Path]:
    """Create a fresh temporary file for ``path`` in its folder, named ``.<name>.<pid>.<random>.tmp``, with
    the permissions the user's umask gives (``tempfile.mkstemp`` would make it private); returns ``(fd, path)``."""
    while True:
        tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue


def fitting_stem(stem: str, suffix: str) -> str:
    """``stem`` cut (at a character boundary) so that ``<stem>_<n><suffix>`` and its temporary name fit in
    :data:`NAME_MAX` bytes; a stem that fits is returned unchanged."""
    room = NAME_MAX - _TEMPORARY_EXTRA - len(f"_99999{suffix}".encode())
    kept, used = [], 0
    for char in stem:
        used += len(char.encode("utf-8", "surrogateescape"))
        if used > room:
            break
        kept.append(char)
    return "".join(kept)


def resolved(path: Path) -> Path:
    """``path`` resolved, or only made absolute where links cannot be followed (a loop, a folder it cannot enter)."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def check_output_folder(folder: Path) -> Path:
    """Create ``folder`` if needed and check that files can be written there; returns it resolved.

    Raises ``CamlibError`` when it is a file, lies under a file, or is not writable.
    """
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise CamlibError(f"--out {folder} is a file; give a folder for the overlays")
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except (NotADirectoryError, FileExistsError):
        raise CamlibError(f"--out {folder}: a part of this path is a file; give a folder for the overlays") from None
    except OSError as err:
        if err.errno == errno.ENAMETOOLONG:
            raise CamlibError(f"--out {folder}: a name in this path is longer than the file system allows; choose a shorter one") from None
        raise CamlibError(f"--out {folder}: cannot write there ({err.strerror or err}); choose a writable folder") from None
    return folder.resolve()


def written_temporary(path: Path, data: bytes) -> Path:
    """A fresh temporary file beside ``path`` (:func:`new_temporary`) holding ``data``, flushed to disk; removed again if
    writing fails."""
    fd, tmp = new_temporary(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_new_file(folder: Path, stem: str, suffix: str, data: bytes, avoid: set[Path] = frozenset()) -> Path:
    """Write ``data`` to ``folder/<stem><suffix>``, or ``<stem>_2<suffix>``, ... the first name that
    does not exist and is not in ``avoid`` (resolved paths, e.g. the inputs); returns the path. A stem too
    long for the file system is shortened (:func:`fitting_stem`)."""
    stem = fitting_stem(stem, suffix)
    first = folder / f"{stem}{suffix}"
    remove_stale_temporaries(first)  # left by a killed writer
    tmp = written_temporary(first, data)
    try:
        number = 1
        while True:
            path = folder / (f"{stem}{suffix}" if number == 1 else f"{stem}_{number}{suffix}")
            number += 1
            if resolved(path) in avoid:
                continue
            try:
                os.link(tmp, path)  # fails if the name exists at all, and does not follow a link there
            except FileExistsError:
                continue
            return path
    finally:
        tmp.unlink(missing_ok=True)
