"""Type checkers catch what users mistype: mypy runs on small programs using the public API, and on
every Python block of the README."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

#: (a line using the client, what mypy must complain about); each runs inside an async function
#: with ``client: aeopp.OpportunityClient``.
TYPOS = [
    ("client.query(probabilty_greater_than=5)", "probabilty_greater_than"),
    ("await client.query_page(sort_by='vaule')", "sort_by"),
    ("client.query(sort_order='up')", "sort_order"),
    ("client.query(output='compact')", "output"),
    ("client.query(created_after=5)", "created_after"),
    ("await client.update(1, nmae='renamed')", "nmae"),
    ("await client.update(1, status='maybe')", "status"),
    ("await client.create(name='x', value=1, probability=5, foo=1)", "foo"),
    ("await client.create(value=1, probability=5, prospect_id=3)", "name"),
    ("await client.read(1, output='all')", "output"),
    ("aeopp.OpportunityClient(auth=client.auth, wire_format='yaml')", "wire_format"),
]
CORRECT = [
    "client.query(probability_greater_than=5, sort_by='value', sort_order='ascending', output='bulk')",
    "await client.query_page(limit=5, created_after='today', prospect_email='a@b.co')",
    "await client.update(1, name='renamed', status='won', type=None, closed_at=None)",
    "await client.create(name='x', value='1.5', probability=5, prospect_id=3, status='open')",
]


def mypy(source: str, directory: Path, *options: str) -> list[str]:
    path = directory / "program.py"
    path.write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--show-error-codes", *options, path.name],
        cwd=directory,
        capture_output=True,
        text=True,
    )
    return [line for line in done.stdout.splitlines() if ": error:" in line]


def test_typos_in_keyword_arguments_are_type_errors(tmp_path: Path) -> None:
    lines = ["import aeopp", "", ""]
    where: dict[int, str] = {}
    for n, (code, name) in enumerate(TYPOS):
        lines += [f"async def typo_{n}(client: aeopp.OpportunityClient) -> None:", f"    {code}"]
        where[len(lines)] = name
        lines += ["", ""]
    lines += ["async def correct(client: aeopp.OpportunityClient) -> None:"]
    lines += [f"    {code}" for code in CORRECT]
    errors = mypy("\n".join(lines) + "\n", tmp_path, "--strict")
    flagged = {int(line.split(":")[1]) for line in errors}
    assert flagged == set(where), errors
    for line in errors:
        number = int(line.split(":")[1])
        assert where[number] in line, line


def readme_blocks() -> list[tuple[int, str]]:
    text = README.read_text("utf-8")
    return [
        (text.count("\n", 0, m.start(2)) + 1, m.group(2))
        for m in re.finditer(r"(<!-- no-test -->\s*\n)?```python\n(.*?)```", text, re.DOTALL)
    ]


def test_every_readme_block_type_checks(tmp_path: Path) -> None:
    """Each block is checked as its README test runs it: inside an async function with ``client``
    and ``sim``, or as a whole program when it calls ``asyncio.run``."""
    out = [
        "import aeopp",
        "from aeopp.testing import PardotSimulator",
        "",
    ]
    for line, source in readme_blocks():
        if "asyncio.run(" in source:
            (tmp_path / f"program_{line}.py").write_text(source)
            continue
        out += ["", f"async def block_{line}(client: aeopp.OpportunityClient, sim: PardotSimulator) -> None:"]
        out += [textwrap.indent(source, "    ").rstrip(), "    pass"]
    errors = mypy("\n".join(out) + "\n", tmp_path, "--check-untyped-defs")
    for program in sorted(tmp_path.glob("program_*.py")):
        errors += mypy(program.read_text(), tmp_path, "--check-untyped-defs")
    assert errors == []


def test_help_lists_the_filters() -> None:
    import aeopp
    from aeopp._spec import OPPORTUNITY

    doc = aeopp.OpportunityClient.query.__doc__ or ""
    for rule in OPPORTUNITY.filter_names:
        assert rule in doc, rule
    assert ":meth:`query`" in (aeopp.OpportunityClient.query_page.__doc__ or "")
