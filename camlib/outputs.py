"""Output files that never replace anything: written whole, under a fresh name, inside their folder.

A file is written to a temporary name in the target folder and then hard-linked to its final
name, which fails if that name exists in any form (file, folder, symbolic link): nothing is
overwritten, nothing is written through a link, and a killed writer leaves at most a hidden
temporary file (removed by the next write of that name), never a truncated output. Two writers
racing for one name get different names.
"""
from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

from .errors import CamlibError


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
            tmp.unlink(missing_ok=True)


def check_output_folder(folder: Path) -> Path:
    """Create ``folder`` if needed and check that files can be written there; returns it resolved.

    Raises ``CamlibError`` when it is a file, lies under a file, or is not writable.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise CamlibError(f"--out {folder} is a file; give a folder for the overlays")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except (NotADirectoryError, FileExistsError):
        raise CamlibError(f"--out {folder}: a part of this path is a file; give a folder for the overlays") from None
    except OSError as err:
        raise CamlibError(f"--out {folder}: cannot write there ({err.strerror or err}); choose a writable folder") from None
    return folder.resolve()


def write_new_file(folder: Path, stem: str, suffix: str, data: bytes, avoid: set[Path] = frozenset()) -> Path:
    """Write ``data`` to ``folder/<stem><suffix>``, or ``<stem>_2<suffix>``, ... the first name that
    does not exist and is not in ``avoid`` (resolved paths, e.g. the inputs); returns the path."""
    first = folder / f"{stem}{suffix}"
    remove_stale_temporaries(first)  # left by a killed writer
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{first.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        number = 1
        while True:
            path = folder / (f"{stem}{suffix}" if number == 1 else f"{stem}_{number}{suffix}")
            number += 1
            if path.resolve() in avoid:
                continue
            try:
                os.link(tmp, path)  # fails if the name exists at all, and does not follow a link there
            except FileExistsError:
                continue
            return path
    finally:
        Path(tmp).unlink(missing_ok=True)
