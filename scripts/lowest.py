"""Print pip constraints pinning every dependency of aeopp (and of the given extras) to its lowest
allowed version: `python scripts/lowest.py redis speedups > constraints.txt`.

`make test` installs them in .venv-min and runs the suite there, so the floors in pyproject.toml are
versions the tests have passed with, not guesses.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
_FLOOR = re.compile(r"^\s*([A-Za-z0-9_.-]+)(?:\[[^]]*\])?\s*>=\s*([0-9][^,;\s]*)\s*(;.*)?$")


def lowest(extras: list[str]) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in extras:
        specs += project["optional-dependencies"][extra]
    pins = []
    for spec in specs:
        match = _FLOOR.match(spec)
        if match is None:
            raise SystemExit(f"no lower bound to pin in {spec!r}")
        name, version, marker = match.groups()
        pins.append(f"{name}=={version}{' ' + marker if marker else ''}")
    return pins


if __name__ == "__main__":
    print("\n".join(lowest(sys.argv[1:])))
