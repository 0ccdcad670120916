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
    "_concurrency": 0,
    "_lxml": 0,
    "_coordinator": 0,
    "_config": 0,
    "types": 0,
    "_redis_scripts": 0,
    # scalar rules both ways, cursors, retry policy, envelopes
    "_validate": 1,
    "_cursor": 1,
    "_retry": 1,
    "_envelope": 1,
    "_transport": 1,
    # the object declared once
    "_spec": 2,
    # sans-I/O: requests, records, decisions
    "_request": 3,
    "_records": 3,
    "_decide": 3,
    "_parse": 4,
    # I/O: the HTTP transport, walks, the Redis coordinator, then credentials (a token endpoint speaks HTTP)
    "_aiohttp": 5,
    "_pagination": 5,
    "_redis": 5,
    "auth": 6,
    "_query": 6,
    "_env": 7,
    # the client
    "_base": 8,
    "client": 9,
    # faces: the command line (a package, bottom up), then the package's public names
    "cli._settings": 10,
    "cli._progress": 11,
    "cli._writers": 11,
    "cli._run": 11,
    "cli._export": 12,
    "cli._commands": 12,
    "cli": 13,
    "__init__": 14,
    "__main__": 15,
}

SANS_IO = ["_request", "_parse", "_retry", "_decide", "_spec", "_validate", "_convert", "_envelope",
           "_records", "_cursor", "_transport", "models", "errors", "_constants", "_lxml"]  # fmt: skip


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


def floor_name(name: str) -> str:
    """The FLOORS entry an absolute aeopp name belongs to: ``aeopp.cli._run.run`` -> ``cli._run``."""
    parts = name.split(".")[1:]
    if not parts:
        return "__init__"
    if parts[0] == "cli" and len(parts) > 1 and f"cli.{parts[1]}" in FLOORS:
        return f"cli.{parts[1]}"
    return parts[0]


def client_modules() -> dict[str, Path]:
    """Every module of the client by FLOORS name (the command line's package module by module)."""
    modules = {p.stem: p for p in PACKAGE.glob("*.py")}
    for path in (PACKAGE / "cli").glob("*.py"):
        modules["cli" if path.stem == "__init__" else f"cli.{path.stem}"] = path
    return modules


def dotted(path: Path) -> str:
    return ".".join(("aeopp", *path.relative_to(PACKAGE).with_suffix("").parts))


def test_every_module_has_a_floor() -> None:
    assert set(client_modules()) == set(FLOORS)


@pytest.mark.parametrize("module", sorted(FLOORS))
def test_imports_point_down(module: str) -> None:
    path = client_modules()[module]
    for line, name in aeopp_imports(path.read_text(), dotted(path)):
        target = floor_name(name)
        if target == "testing" and module.startswith("cli"):
            continue  # the command line starts the simulator, for --simulate and `aeopp simulate`
        assert FLOORS[target] < FLOORS[module], f"{path.name}:{line} imports {name} from its floor or above"


def test_floor_names() -> None:
    assert floor_name("aeopp") == "__init__"
    assert floor_name("aeopp.client.OpportunityClient") == "client"
    assert floor_name("aeopp.cli._settings.UsageError") == "cli._settings"
    assert floor_name("aeopp.cli.main") == "cli"
    assert aeopp_imports("from . import _run\nfrom .. import _convert", "aeopp.cli._export") == [
        (1, "aeopp.cli._run"),
        (2, "aeopp._convert"),
    ]


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


#: What a module under aeopp/testing/ may import from the aeopp package: the plain constants and
#: the simulator's own modules. Nothing else of the client, so that a bug can't hide on both sides.
SIMULATOR_MAY_IMPORT = ("aeopp._constants", "aeopp.testing")


def aeopp_imports(source: str, module: str) -> list[tuple[int, str]]:
    """(line, absolute name) of every aeopp module or name ``source`` imports, wherever it does.

    ``module`` is the dotted name of the module holding ``source`` (relative imports resolve
    against it). Imports inside functions and ``if TYPE_CHECKING:`` blocks count too, and so do
    ``importlib.import_module("...")`` and ``__import__("...")`` with a literal name.
    ``from X import name`` yields ``X.name``, since ``name`` may be a submodule.
    """
    package = module.split(".")[:-1]  # of "aeopp.testing.__init__" too: "aeopp.testing"
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found += [(node.lineno, f"{prefix}.{alias.name}") for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in ("importlib.import_module", "import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return [(line, name) for line, name in found if name == "aeopp" or name.startswith("aeopp.")]


def forbidden_imports(source: str, module: str) -> list[tuple[int, str]]:
    """The aeopp imports of a simulator module that the rule above does not allow."""
    return [
        (line, name)
        for line, name in aeopp_imports(source, module)
        if not any(name == allowed or name.startswith(allowed + ".") for allowed in SIMULATOR_MAY_IMPORT)
    ]


SIMULATOR_MODULES = sorted((PACKAGE / "testing").rglob("*.py"))


@pytest.mark.parametrize("path", SIMULATOR_MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_the_simulator_imports_nothing_of_the_client_but_constants(path: Path) -> None:
    module = ".".join(("aeopp", *path.relative_to(PACKAGE).with_suffix("").parts))
    assert forbidden_imports(path.read_text(), module) == []


def test_every_simulator_module_is_checked() -> None:
    names = {path.name for path in SIMULATOR_MODULES}
    assert {"__init__.py", "_cli.py", "pytest_plugin.py", "_server.py", "_state.py"} <= names


@pytest.mark.parametrize(
    "source",
    [
        "from ..auth import BearerAuth",
        "from .. import auth",
        "from .. import _constants, client",
        "import aeopp",
        "import aeopp.auth",
        "import aeopp.auth as auth",
        "from aeopp import BearerAuth",
        "from aeopp.errors import PardotError",
        "def f():\n    from .._request import build_query",
        "if TYPE_CHECKING:\n    from ..models import Opportunity",
        "import importlib\nimportlib.import_module('aeopp._parse')",
        "__import__('aeopp.client')",
    ],
)
def test_the_import_rule_catches_every_form(source: str) -> None:
    assert forbidden_imports(source, "aeopp.testing._server") != []


@pytest.mark.parametrize(
    "source",
    [
        "from .._constants import MAX_LIMIT",
        "from .. import _constants",
        "import aeopp._constants",
        "from aeopp._constants import ERROR_MESSAGES",
        "from ._store import OpportunityStore",
        "from . import _render",
        "from aeopp.testing import PardotSimulator",
        "import aeopp.testing._server",
        "import aiohttp\nfrom aiohttp import web",
    ],
)
def test_the_import_rule_allows_constants_and_the_simulators_own_modules(source: str) -> None:
    assert forbidden_imports(source, "aeopp.testing._server") == []
