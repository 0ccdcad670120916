"""The package as users get it: metadata, a complete sdist whose tests collect, and types that a
type checker finds from outside the clone after the README's editable install."""

from __future__ import annotations

import subprocess
import sys
import sys as _sys
import tarfile

if _sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_metadata_names_license_authors_urls_and_python_versions() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert project["authors"]
    assert {"Homepage", "Changelog", "Issues"} <= set(project["urls"])
    versions = {
        c.rsplit(" ", 1)[-1]
        for c in project["classifiers"]
        if c.startswith("Programming Language :: Python :: 3.")
    }
    assert versions == {"3.10", "3.11", "3.12", "3.13"}
    assert project["requires-python"] == ">=3.10"


def test_the_sdist_is_complete_and_its_tests_collect(tmp_path: Path) -> None:
    build = f"from hatchling.build import build_sdist; print(build_sdist({str(tmp_path)!r}))"
    name = (
        subprocess.run([sys.executable, "-c", build], cwd=ROOT, capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    with tarfile.open(tmp_path / name) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
        sdist.extractall(tmp_path / "x", filter="data")
    for needed in ("LICENSE", "tests/conftest.py", "tests/canned.py", "tests/samples/README.md",
                   "examples/aiohttp_service.py", "aeopp/py.typed", "CHANGELOG.md"):  # fmt: skip
        assert needed in members, needed
    assert not any(m.startswith("benchmarks/") or "__pycache__" in m for m in members)
    root = next((tmp_path / "x").iterdir())
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    assert "error" not in collected.stdout.lower().splitlines()[-1]


def test_a_type_checker_finds_aeopp_from_outside_the_clone(tmp_path: Path) -> None:
    """The README's install (``pip install -e .``) leaves a path a type checker can follow."""
    program = tmp_path / "uses_aeopp.py"
    program.write_text(
        "import aeopp\n\n\n"
        "async def main() -> None:\n"
        "    async with aeopp.OpportunityClient.from_env() as client:\n"
        "        opp: aeopp.Opportunity = await client.read(1)\n"
        "        print(opp.name)\n"
    )
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", program.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout
