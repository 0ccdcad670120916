"""``PardotSimulator``: seeded data, settings, stats and an aiohttp server on 127.0.0.1."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Literal

from aiohttp import web

from ._data import generate
from ._server import Server
from ._state import AuthMode, Fault, SimulatorCredentials, SimulatorSettings, SimulatorStats
from ._store import OpportunityStore
from ._token_endpoint import new_access_token

__all__ = ["PardotSimulator"]

_HEX = "0123456789abcdef"
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class PardotSimulator:
    """A local, seeded Pardot v3/v4 Opportunity API over real HTTP on 127.0.0.1.

    Use ``async with PardotSimulator(...) as sim`` (or :meth:`start` / :meth:`close`). Then
    ``sim.base_url`` and ``sim.credentials`` say how to reach it, ``sim.store`` holds the data,
    ``sim.settings`` changes behaviour at once, ``sim.stats`` counts what happened and
    :meth:`inject` scripts faults.
    """

    def __init__(
        self,
        opportunities: int = 100,
        *,
        seed: int = 0,
        latency: float = 0.0,
        jitter: float = 0.0,
        auth: AuthMode = "bearer",
        timezone: str = "America/New_York",
        port: int = 0,
        host: str = "127.0.0.1",
        settings: SimulatorSettings | None = None,
    ) -> None:
        if auth not in ("bearer", "apikey", "none"):
            raise ValueError(f"auth must be 'bearer', 'apikey' or 'none', not {auth!r}")
        if opportunities < 0:
            raise ValueError("opportunities must be >= 0")
        self.settings = settings or SimulatorSettings()
        self.settings.auth = auth
        self.settings.timezone = timezone
        self.settings.latency = latency
        self.settings.jitter = jitter
        self.stats = SimulatorStats()
        records, prospects, campaigns = generate(opportunities, seed)
        self.store = OpportunityStore(records, prospects, campaigns, clock=lambda: self.settings.clock())
        self._host = host
        self._port = port
        self._faults: list[Fault] = []
        rng = random.Random(f"credentials-{seed}")
        self._secrets = {
            "business_unit_id": "0Uv" + "".join(rng.choice(_ALNUM) for _ in range(15)),
            "email": "api.user@example.com",
            "password": "sim-" + "".join(rng.choice(_ALNUM) for _ in range(16)),
            "user_key": "".join(rng.choice(_HEX) for _ in range(32)),
            "client_id": "3MVG9SIM" + "".join(rng.choice(_ALNUM) for _ in range(40)),
            "client_secret": "".join(rng.choice(_HEX) for _ in range(64)).upper(),
            "refresh_token": "5Aep861SIM" + "".join(rng.choice(_ALNUM) for _ in range(60)),
            "access_token": "00DSIM0000000001!" + "".join(rng.choice(_ALNUM) for _ in range(60)),
        }
        self._credentials: SimulatorCredentials | None = None
        self._server = Server(self.store, self.settings, self.stats, lambda: self.credentials, self._faults)
        self._runner: web.AppRunner | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving on 127.0.0.1 (a free port unless one was given)."""
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        runner = web.AppRunner(
            self._server.app(), access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        self._runner = runner
        self._credentials = SimulatorCredentials(base_url=self.base_url, **self._secrets)
        self._server.register_token(self._credentials.access_token)

    async def close(self) -> None:
        """Stop serving (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> PardotSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- access -----------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port (the real one once started)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; the API lives under ``/api``."""
        return f"http://{self._host}:{self._port}"

    @property
    def credentials(self) -> SimulatorCredentials:
        """The credentials the simulator accepts (available once started)."""
        if self._credentials is None:
            raise RuntimeError("start the simulator first")
        return self._credentials

    @property
    def before_request(self) -> Callable[[str, Mapping[str, str]], None] | None:
        """A callback run with (operation, params) for each routed API request, before limits."""
        return self._server.before_request

    @before_request.setter
    def before_request(self, callback: Callable[[str, Mapping[str, str]], None] | None) -> None:
        self._server.before_request = callback

    def inject(
        self,
        *,
        code: int | None = None,
        http_status: int | None = None,
        drop: Literal["before", "after"] | None = None,
        latency: float | None = None,
        times: int = 1,
        operation: str | None = None,
    ) -> Fault:
        """Script a fault for the next ``times`` API requests (of ``operation``, if given).

        ``code``: answer with that Pardot error code; ``http_status``: answer with that status and
        an HTML page; ``drop``: abort the connection without an answer, ``"before"`` the request
        is processed or ``"after"`` (a write is then applied); ``latency``: extra seconds. Faults
        apply after authentication, routing and the limits, in the order they were injected.
        Note that aiohttp's client silently retries a GET once when a kept-alive connection is
        dropped before any answer; POSTs are not retried.
        """
        if sum(x is not None for x in (code, http_status, drop)) > 1:
            raise ValueError("give at most one of code, http_status, drop")
        if drop not in (None, "before", "after"):
            raise ValueError("drop must be 'before' or 'after'")
        if times < 1:
            raise ValueError("times must be >= 1")
        fault = Fault(
            code=code, http_status=http_status, drop=drop, latency=latency, times=times, operation=operation
        )
        self._faults.append(fault)
        return fault

    def warm(self, formats: tuple[str, ...] = ("json", "xml")) -> None:
        """Render every record now, so the first walk costs the simulator no more CPU than later ones."""
        renderer = self._server.renderer
        renderer.configure(self.settings.timezone, self.settings.html_escape_strings)
        records = self.store.all()
        for fmt in formats:
            for output in ("full", "bulk"):
                renderer.page(records, None, fmt, output)

    def clear_faults(self) -> None:
        """Forget every scripted fault not used yet."""
        self._faults.clear()

    def issue_token(self) -> str:
        """A new valid bearer token (as if the OAuth endpoint had issued it)."""
        token = new_access_token()
        self._server.register_token(token)
        return token

    def reset_quota(self) -> None:
        """Forget today's API usage (daily quota)."""
        self._server.reset_quota()

    def __repr__(self) -> str:
        state = "running" if self._runner is not None else "stopped"
        return f"<PardotSimulator {self.base_url} {state} opportunities={len(self.store)}>"
