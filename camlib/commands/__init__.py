"""The project's commands, above the chapters: ``python -m camlib.commands.retrain`` trains and ships the networks the
chapters read, ``choose_recipe`` chooses its training rule on a development split, ``gpu_check`` runs the GPU scale."""
from __future__ import annotations

import sys
from typing import Callable

from camlib.utils.errors import CamlibError


def exit_code(prog: str, work: Callable[[], int | None], interrupted: str = "interrupted") -> int:
    """Run a command's ``work`` and return its exit code (0 when it returns None): a :class:`CamlibError` becomes one
    line ``<prog>: <error>`` on stderr and code 2, Ctrl-C the line ``<prog>: <interrupted>`` and code 130."""
    try:
        code = work()
    except CamlibError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return 130
    return 0 if code is None else code
