"""The layout holds: imports point down (config <- core <- audit <- access <- datasets),
no blueprint module imports another, and no module or folder grows past what a reader
takes in (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Lower first: a package may import itself and those before it, never one after it.
LAYERS = ("config", "core", "audit", "access", "datasets")
MAX_LINES = 400
MAX_MODULES_SIDE_BY_SIDE = 15


def modules() -> list[Path]:
    return sorted(path for layer in LAYERS for path in (REPO / layer).rglob("*.py"))


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")


def imported(path: Path) -> set[str]:
    """Every module an import statement in ``path`` names, at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def makes_blueprint(path: Path) -> bool:
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
               and node.func.id == "Blueprint"
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


BLUEPRINT_MODULES = {module_name(path) for path in modules() if makes_blueprint(path)}


@pytest.mark.parametrize("path", modules(), ids=module_name)
def test_imports_point_down_the_layers(path: Path) -> None:
    own = LAYERS.index(module_name(path).split(".")[0])
    upward = sorted(name for name in imported(path)
                    if name.split(".")[0] in LAYERS[own + 1:] or name.split(".")[0] == "app")
    assert upward == [], f"{module_name(path)} imports a higher layer: {upward}"


@pytest.mark.parametrize("path", [p for p in modules() if module_name(p) in BLUEPRINT_MODULES],
                         ids=module_name)
def test_no_blueprint_module_imports_another(path: Path) -> None:
    others = sorted((imported(path) & BLUEPRINT_MODULES) - {module_name(path)})
    assert others == [], f"{module_name(path)} imports blueprint modules {others}; move " \
        "what they share into the package's extensions.py or a use-case module"


def test_the_checks_see_the_blueprint_modules() -> None:
    """The checks above would pass vacuously if nothing were found."""
    assert {"access.requests.api", "access.requests.views", "datasets.drs.api",
            "audit.review.views"} <= BLUEPRINT_MODULES


@pytest.mark.parametrize("path", [*modules(), REPO / "app.py"], ids=module_name)
def test_no_module_is_longer_than_a_reader_takes_in(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module_name(path)} has {lines} lines; split it by use case"


@pytest.mark.parametrize("folder", sorted({path.parent for path in modules()}),
                         ids=lambda folder: str(folder.relative_to(REPO)))
def test_no_folder_holds_more_modules_than_a_reader_tells_apart(folder: Path) -> None:
    side_by_side = [p.name for p in folder.glob("*.py") if p.name != "__init__.py"]
    assert len(side_by_side) <= MAX_MODULES_SIDE_BY_SIDE, (
        f"{folder.relative_to(REPO)} holds {len(side_by_side)} modules: group them into "
        "sub-packages")
