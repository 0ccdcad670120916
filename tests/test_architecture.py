"""Layer rules: the sans-I/O core imports no I/O library; only the transport imports the aiohttp client;
the simulator (aeopp/testing/) imports nothing of the client but its plain constants."""

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
