"""The README's Python snippet runs as written (with a photo.jpg in the working folder)."""
from __future__ import annotations

import re
import runpy
from pathlib import Path

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
    assert lines[0].startswith("espresso ") and len(lines) == 6
    assert lines[-1] == "torch.Size([2, 5, 7, 7]) (2, 5, 4)"
