"""Layer rules: every import points down a floor; the sans-I/O core imports no I/O library; only the
aiohttp transport imports the aiohttp client; the simulator imports none of the client's code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "aeopp"

#: The client's modules by floor: a module may import only from lower floors (ARCHITECTURE.md).
FLOORS: dict[str, int] = {
    # ground: plain facts, the models, the errors, primitives
    "_version": 0,
    "_constants": 0,
    "errors": 0,
    "models": 0,
    "_convert": 0,
    "_transport": 0,
    "_concurrency": 0,
    # scalar rules both ways, cursors, retry policy, envelopes
    "_validate": 1,
    "_cursor": 1,
    "_retry": 1,
    "_envelope": 1,
    # the object declared once
    "_spec": 2,
    # sans-I/O: requests, records, decisions
    "_request": 3,
    "_records": 3,
    "_decide": 3,
    "_parse": 4,
    # I/O: the HTTP transport, walks, then credentials (a token endpoint speaks HTTP)
    "_aiohttp": 5,
    "_pagination": 5,
    "auth": 6,
    "_query": 6,
    # the client
    "_base": 7,
    "client": 8,
    # faces
    "_cli_commands": 9,
    "cli": 10,
    "__init__": 11,
    "__main__": 12,
}

SANS_IO = ["_request", "_parse", "_retry", "_decide", "_spec", "_validate", "_convert", "_envelope",
           "_records", "_cursor", "_transport", "models", "errors", "_constants"]  # fmt: skip


def imports(path: Path, *, type_checking: bool = False) -> set[tuple[int, str]]:
    """(level, module) of every import, at any depth (``if TYPE_CHECKING:`` blocks only if asked)."""
    tree = ast.parse(path.read_text())
    found: set[tuple[int, str]] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test) and not type_checking:
            return
        if isinstance(node, ast.Import):
            found.update((0, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.module:
                found.add((node.level, node.module))
            if node.level and not node.module:  # from . import x
                found.update((node.level, alias.name) for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def runtime_imports(path: Path) -> set[str]:
    """Top-level names of third-party and stdlib modules imported outside ``if TYPE_CHECKING:``."""
    return {module.split(".")[0] for level, module in imports(path) if level == 0}


def own_imports(path: Path) -> set[str]:
    """The client modules (by FLOORS name) a module of the package imports."""
    out: set[str] = set()
    for level, module in imports(path):
        if level == 1:
            out.add(module.split(".")[0])
        elif level == 0 and module.startswith("aeopp."):
            out.add(module.split(".")[1])
        elif level == 0 and module == "aeopp":
            out.add("__init__")
    return out


def client_modules() -> dict[str, Path]:
    modules = {p.stem: p for p in PACKAGE.glob("*.py")}
    modules.update({p.name: p / "__init__.py" for p in PACKAGE.iterdir() if p.is_dir() and p.name == "cli"})
    return modules


def test_every_module_has_a_floor() -> None:
    assert set(client_modules()) == set(FLOORS)


@pytest.mark.parametrize("module", sorted(FLOORS))
def test_imports_point_down(module: str) -> None:
    path = client_modules()[module]
    paths = [path] if path.name != "__init__.py" or module != "cli" else list(path.parent.glob("*.py"))
    for source in paths:
        for target in own_imports(source):
            if target in ("testing",) or (module == "cli" and target == "cli"):
                continue  # the command line starts the simulator lazily, for --simulate
            assert FLOORS[target] < FLOORS[module], f"{source.name} imports {target} from its floor or above"


@pytest.mark.parametrize("module", SANS_IO)
def test_the_sans_io_core_imports_neither_aiohttp_nor_anyio(module: str) -> None:
    assert not runtime_imports(PACKAGE / f"{module}.py") & {"aiohttp", "anyio", "asyncio"}


def test_only_the_aiohttp_transport_imports_the_aiohttp_client() -> None:
    importers = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "aiohttp" in runtime_imports(path) and path.relative_to(PACKAGE).parts[0] != "testing"
    }
    assert importers == {"_aiohttp.py"}


def test_the_simulator_does_not_use_the_clients_request_or_parse_code() -> None:
    for path in (PACKAGE / "testing").rglob("*.py"):
        source = path.read_text()
        for private in ("_request", "_parse", "_pagination", "_transport", "client", "_spec", "_records"):
            assert f"from .{private}" not in source, (path, private)
            assert f"from ..{private}" not in source, (path, private)
            assert f"aeopp.{private}" not in source, (path, private)
