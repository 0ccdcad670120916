"""Every ```python block of README.md runs against the simulator, so the README can't rot.

A block runs inside an async function with ``client`` (an open OpportunityClient), ``sim`` (a
PardotSimulator: 500 opportunities, seed 0, plus the prospect jane.doe@example.com) and ``aeopp``;
the environment holds AEOPP_BASE_URL, AEOPP_ACCESS_TOKEN and AEOPP_BUSINESS_UNIT_ID, and REDIS_URL
(the test Redis, for blocks using a RedisCoordinator, which are marked ``redis``). A block that
calls ``asyncio.run`` is a whole program and runs as it is. ``test_*`` functions a block defines are
then called with the simulator as ``pardot_simulator``. A block after ``<!-- no-test -->`` is skipped.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import io
import re
from pathlib import Path
from typing import Any

import pytest

import aeopp
from aeopp.testing import PardotSimulator

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"(<!-- no-test -->\s*\n)?```python\n(.*?)```", re.DOTALL)


def blocks() -> list[tuple[int, str, bool]]:
    text = README.read_text("utf-8")
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start(2)) + 1
        found.append((line, match.group(2), match.group(1) is not None))
    return found


BLOCKS = blocks()


def test_readme_has_examples() -> None:
    runnable = [b for b in BLOCKS if not b[2]]
    assert len(runnable) >= 12
    assert len(BLOCKS) - len(runnable) <= 2, "keep the untested blocks few"
    text = README.read_text("utf-8")
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^make \w+", quickstart, re.MULTILINE)
    assert commands == ["make demo", "make test"]
    assert "## Benchmarks" in text


async def run_block(source: str, line: int, monkeypatch: pytest.MonkeyPatch) -> None:
    async with PardotSimulator(opportunities=500, seed=0) as sim:
        sim.store.add_prospect("jane.doe@example.com", "Jane", "Doe", "Acme")
        creds = sim.credentials
        monkeypatch.setenv("AEOPP_BASE_URL", sim.base_url)
        monkeypatch.setenv("AEOPP_ACCESS_TOKEN", creds.access_token)
        monkeypatch.setenv("AEOPP_BUSINESS_UNIT_ID", creds.business_unit_id)
        if "RedisCoordinator" in source:
            from redis_servers import shared_redis_url

            monkeypatch.setenv("REDIS_URL", shared_redis_url())
        auth = aeopp.BearerAuth(creds.access_token, creds.business_unit_id)
        async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url) as client:
            namespace: dict[str, Any] = {"aeopp": aeopp, "client": client, "sim": sim}
            code = compile(
                "\n" * (line - 1) + source, str(README), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
            )
            result = eval(code, namespace)
            if inspect.iscoroutine(result):
                await result
            for name, value in list(namespace.items()):
                if name.startswith("test_") and inspect.iscoroutinefunction(value):
                    await value(pardot_simulator=sim)


@pytest.mark.parametrize(
    ("line", "source", "skipped"),
    [pytest.param(*b, marks=[pytest.mark.redis] if "RedisCoordinator" in b[1] else []) for b in BLOCKS],
    ids=[f"README.md:{b[0]}" for b in BLOCKS],
)
def test_readme_block(line: int, source: str, skipped: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if skipped:
        compile(source, str(README), "exec")  # still valid Python
        return
    if "RedisCoordinator(" in source:
        # Runs where the extra is (make test's .venv and .venv-min); .venv-base checks its absence.
        pytest.importorskip("redis", reason="the redis extra is not installed in this environment")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if "asyncio.run(" in source:
            exec(compile("\n" * (line - 1) + source, str(README), "exec"), {"__name__": "__main__"})
        else:
            asyncio.run(run_block(source, line, monkeypatch))
