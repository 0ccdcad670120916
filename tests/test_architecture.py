"""Layer rules: the sans-I/O core imports no I/O library; only the transport imports the aiohttp client."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "aeopp"


def runtime_imports(path: Path) -> set[str]:
    """Top-level module names imported outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


@pytest.mark.parametrize("module", ["_request.py", "_parse.py", "_retry.py", "models.py", "errors.py"])
def test_the_sans_io_core_imports_neither_aiohttp_nor_anyio(module: str) -> None:
    assert not runtime_imports(PACKAGE / module) & {"aiohttp", "anyio", "asyncio"}


def test_only_the_transport_imports_the_aiohttp_client() -> None:
    importers = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "aiohttp" in runtime_imports(path) and path.relative_to(PACKAGE).parts[0] != "testing"
    }
    assert importers == {"_transport.py"}


def test_the_simulator_does_not_use_the_clients_request_or_parse_code() -> None:
    for path in (PACKAGE / "testing").rglob("*.py"):
        source = path.read_text()
        for private in ("_request", "_parse", "_pagination", "_transport", "client"):
            assert f"from .{private}" not in source, (path, private)
            assert f"from ..{private}" not in source, (path, private)
            assert f"aeopp.{private}" not in source, (path, private)
