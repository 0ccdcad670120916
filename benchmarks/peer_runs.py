"""The peers' side: PyPardot4, PyPardotSF and tap-pardot, each in a subprocess of its own.

Each peer lives in its own ``pip install --target`` directory under ``benchmarks/.envs/peers/``
(``scripts/bench.sh`` and ``scripts/fidelity.sh`` make them) and runs with ``python -S`` and
``PYTHONPATH=<that directory>``, so the three ``pypardot`` modules and their old ``requests`` never
meet each other or our virtualenv. The drivers in ``peers/`` time themselves after their imports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from simhost import SimProcess

HERE = Path(__file__).resolve().parent
PEERS_DIR = Path(os.environ.get("AEOPP_PEERS_DIR", HERE / ".envs" / "peers"))

#: label -> (target directory name, module proving it is installed, simulator auth mode)
PEERS = {
    "pypardot4 1.1.14": ("pypardot4", "pypardot", "apikey"),
    "pypardotsf 0.1.1": ("pypardotsf", "pypardot", "bearer"),
    "tap-pardot 1.4.9": ("tap-pardot", "tap_pardot", "apikey"),
}


def available() -> dict[str, Path]:
    """The peers installed under PEERS_DIR, by label."""
    found = {}
    for label, (name, module, _) in PEERS.items():
        target = PEERS_DIR / name
        if (target / module).is_dir():
            found[label] = target
    return found


def _env(target: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(target),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "LC_ALL": "C.UTF-8",
    }


def run(label: str, target: Path, sim: SimProcess) -> dict[str, Any]:
    """One full export by the peer ``label``: seconds, records received, requests the simulator saw."""
    name, _, auth = PEERS[label]
    sim.set(auth=auth)
    sim.reset()
    server_cpu = sim.stats()["cpu_s"]
    c = sim.credentials
    if name == "tap-pardot":
        result = _run_tap(target, sim)
    else:
        job = {
            "base_url": sim.base_url,
            "credentials": c,
            "auth": "apikey" if auth == "apikey" else "oauth",
            "version": 4,
        }
        done = subprocess.run(
            [sys.executable, "-S", str(HERE / "peers" / "pypardot_bench.py")],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            env=_env(target),
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{label} driver failed (exit {done.returncode})")
        result = json.loads(done.stdout.strip().splitlines()[-1])
    stats = sim.stats()
    result["requests"] = stats["requests"]
    result["errors_by_code"] = stats["errors_by_code"]
    result["server_cpu_s"] = stats["cpu_s"] - server_cpu
    sim.set(auth="bearer")
    return result


def _run_tap(target: Path, sim: SimProcess) -> dict[str, Any]:
    c = sim.credentials
    config = {
        "start_date": "2000-01-01T00:00:00Z",
        "email": c["email"],
        "password": c["password"],
        "user_key": c["user_key"],
    }
    with tempfile.TemporaryDirectory() as workdir:
        result_path = os.path.join(workdir, "result.json")
        job = {
            "base_url": sim.base_url,
            "token_url": c["token_url"],
            "config": config,
            "workdir": workdir,
            "result": result_path,
        }
        done = subprocess.run(
            [sys.executable, "-S", str(HERE / "peers" / "tap_pardot_bench.py")],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            env=_env(target),
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or not os.path.exists(result_path):
            raise RuntimeError(f"tap-pardot driver failed (exit {done.returncode})")
        with open(result_path, encoding="utf-8") as f:
            result: dict[str, Any] = json.load(f)
    records = 0
    for line in done.stdout.splitlines():
        if '"RECORD"' in line:
            message = json.loads(line)
            if message.get("type") == "RECORD" and message.get("stream") == "opportunities":
                records += 1
    result["records"] = records
    return result


def version_of(target: Path, distribution: str) -> str | None:
    """The installed version, from the target's ``*.dist-info`` directory name."""
    prefix = distribution.replace("-", "_").lower() + "-"
    for entry in target.glob("*.dist-info"):
        if entry.name.lower().startswith(prefix):
            return entry.name[len(prefix) : -len(".dist-info")]
    return None
