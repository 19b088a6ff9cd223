"""The README's Python snippet runs as written (with a photo.jpg in the working folder), and its shell commands
name make targets, modules, scripts and options that exist."""
from __future__ import annotations

import re
import runpy
import shlex
from pathlib import Path

import pytest
from PIL import Image
from skimage import data

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_api_snippet_runs(tmp_path, monkeypatch, capsys):
    blocks = python_blocks()
    assert len(blocks) == 1
    Image.fromarray(data.coffee()).save(tmp_path / "photo.jpg")
    script = tmp_path / "snippet.py"
    script.write_text(blocks[0])
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(script), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("espresso ") and len(lines) == 8
    assert lines[5] == "torch.Size([2, 5, 7, 7]) (2, 5, 4)" and lines[6] == "torch.Size([2, 5, 224, 224]) 1.0"
    assert lines[7].startswith("espresso [[")


# -- the README's shell commands name things that exist ------------------------------------------------
ROOT = README.parent
COMMAND_START = re.compile(r"([A-Z_]+=\S+ )*(make |camlib |\.venv/bin/|python -m |python3 -m )")


def shell_commands() -> list[str]:
    """Every command line of the README's ```bash blocks (comments dropped), then every inline `command`
    of the prose that starts like one (``make ...``, ``.venv/bin/...``, ``python -m ...``)."""
    text = README.read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    lines = [line.split(" #")[0].strip() for block in blocks for line in block.splitlines()]
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    inline = [span for span in re.findall(r"`([^`\n]+)`", prose) if COMMAND_START.match(span)]
    return [line for line in lines if line] + inline


def make_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", (ROOT / "Makefile").read_text(), flags=re.M))


def cam_help() -> str:
    import contextlib
    import io

    from camlib.app.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(["cam", "--help"])
    return out.getvalue()


def flags_missing(argv: list[str], helptext: str) -> list[str]:
    """The ``--options`` of ``argv`` that ``helptext`` does not spell out in full (argparse would take abbreviations)."""
    return [arg.split("=")[0] for arg in argv if arg.startswith("--")
            and not re.search(rf"(?<![\w-]){re.escape(arg.split('=')[0])}(?![\w-])", helptext)]


def check_camlib_arguments(argv: list[str]) -> None:
    from camlib.app.cli import _parser

    if argv == ["cam"]:  # the prose naming the subcommand
        argv = ["cam", "photo.jpg"]
    try:
        _parser().parse_args(argv)
    except SystemExit as exit:
        pytest.fail(f"camlib refuses the README's arguments {argv} (exit {exit.code})")
    if argv[:1] == ["cam"]:
        assert not flags_missing(argv, cam_help()), f"camlib cam does not know {flags_missing(argv, cam_help())}"


def check_module_command(module: str, argv: list[str], helped: dict[str, str]) -> None:
    """``python -m module`` runs its ``main``, which answers ``--help`` and knows the options of ``argv``."""
    import contextlib
    import importlib
    import io
    import inspect

    if module not in helped:
        imported = importlib.import_module(module)
        assert callable(getattr(imported, "main", None)), f"{module} has no main()"
        assert re.search(r'^if __name__ == "__main__":\n\s+sys\.exit\(main\(\)\)', inspect.getsource(imported), flags=re.M), \
            f"python -m {module} does not run its main()"
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit:
            imported.main(["--help"])
        assert exit.value.code in (0, None) and "usage:" in out.getvalue()
        helped[module] = out.getvalue()
    assert not flags_missing(argv, helped[module]), f"python -m {module} does not know {flags_missing(argv, helped[module])}"


def test_readme_has_the_commands_this_test_checks():
    commands = shell_commands()
    assert "make book" in commands and "make test" in commands
    assert any(c.startswith(".venv/bin/camlib cam ") for c in commands) and any(c.startswith("python -m camlib cam") for c in commands)
    assert any("-m camlib.commands.retrain" in c for c in commands)


def test_readme_shell_commands_name_what_exists():
    """Each command's program, make target, module (runnable, with ``--help``), script, file and option exists;
    nothing is run but ``--help``."""
    targets, helped, unchecked = make_targets(), {}, []
    for command in shell_commands():
        words = shlex.split(command)
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # environment settings before the command
            words.pop(0)
        program = Path(words[0]).name
        if program == "make":
            missing = [w for w in words[1:] if "=" not in w and w not in targets]
            assert not missing, f"{command!r}: no make target {missing}"
        elif program == "camlib":
            check_camlib_arguments(words[1:])
        elif program.startswith("python") and words[1] == "-m":
            if words[2] == "camlib":
                check_camlib_arguments(words[3:])
            else:
                check_module_command(words[2], words[3:], helped)
        elif program.startswith("python"):
            assert (ROOT / words[1]).is_file(), f"{command!r}: no script {words[1]}"
            assert all((ROOT / w).exists() for w in words[2:] if not w.startswith("-")), command
        elif program == "jupyter":
            assert all((ROOT / w).exists() for w in words[2:] if not w.startswith("-")), command
        else:
            unchecked.append(command)
        if words[0].startswith(".venv/bin/") and program == "camlib":
            from importlib.metadata import entry_points

            (script,) = entry_points(group="console_scripts", name="camlib")
            assert script.value == "camlib.app.cli:main"
    assert not unchecked, f"README commands this test does not know how to check: {unchecked}"


def test_readme_cam_options_in_the_prose_exist():
    from camlib.models.pretrained import PRETRAINED

    section = README.read_text().split("## CAM on your own photos")[1].split("\n## ")[0]
    prose = re.sub(r"```.*?```", "", section, flags=re.S)
    options = [span.split()[0] for span in re.findall(r"`(--[^`]+)`", prose)]
    assert "--flip" in options and "--model" in options
    assert not flags_missing(options, cam_help())
    models = re.search(r"`--model ([\w-]+)`((?:,? (?:and )?`[\w-]+`)*)", prose)
    named = [models.group(1), *re.findall(r"`([\w-]+)`", models.group(2))]
    assert len(named) == 3 and set(named) <= set(PRETRAINED)
