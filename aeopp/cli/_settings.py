"""What every command shares: connection settings, exit statuses, defaults and error printing.

Settings come from flags, falling back on ``AEOPP_*`` environment variables. Problems print one
line on stderr: exit status 2 for bad flags or missing settings (:class:`UsageError`, or the
library's :class:`~aeopp.errors.RequestValidationError` named by its flag), 1 for errors from the
API or the network, 130 when interrupted. Secrets are never printed.

This module imports none of the command line's other modules; they all import it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from collections.abc import Mapping

import attrs

from .._constants import MAX_CONCURRENT_REQUESTS
from .._env import VARIABLES, parse_timezone
from .._validate import validate_version
from ..auth import ApiKeyAuth, BearerAuth
from ..errors import AeoppError, AuthenticationError, PardotError, RequestValidationError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_SIM_LATENCY_MS",
    "ENV_HELP",
    "EXIT_API",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "SETTINGS",
    "Connection",
    "UsageError",
    "connection_parser",
    "describe",
    "error",
    "flag",
    "given_settings",
    "lenient_int",
    "lenient_number",
    "note",
    "redis_url",
    "resolve_connection",
    "resolve_timezone",
    "validation_message",
    "warn",
]

DEFAULT_BASE_URL = "https://pi.pardot.com"
#: Latency of the simulator ``--simulate`` starts, unless ``--latency-ms`` says otherwise.
DEFAULT_SIM_LATENCY_MS = 50.0
EXIT_USAGE = 2
EXIT_API = 1
EXIT_INTERRUPTED = 130

#: What each connection setting is; its environment variable is the library's (``_env.VARIABLES``).
_LABELS = {
    "base_url": "base URL",
    "access_token": "access token",
    "business_unit_id": "business unit id",
    "api_version": "API version",
    "email": "email",
    "password": "password",
    "user_key": "user key",
}
#: (flag, environment variable, what it is) for each connection setting.
SETTINGS = {name: ("--" + name.replace("_", "-"), VARIABLES[name], label) for name, label in _LABELS.items()}
_LEGACY = ("email", "password", "user_key")

ENV_HELP = """\
connection settings come from the flags or from the environment: AEOPP_BASE_URL (default
https://pi.pardot.com), AEOPP_ACCESS_TOKEN and AEOPP_BUSINESS_UNIT_ID (Salesforce OAuth),
AEOPP_API_VERSION (3 or 4, default 4), or the legacy AEOPP_EMAIL, AEOPP_PASSWORD and
AEOPP_USER_KEY. --redis-url / AEOPP_REDIS_URL shares Pardot's limits with other processes through
Redis. --timezone / AEOPP_TIMEZONE names the Pardot API user's time zone, so that
timestamps come out with their offset. With --simulate N, an embedded simulator with N opportunities
is used instead: connection flags are then refused and the AEOPP_* variables ignored (timestamps
then carry the simulator's time zone, America/New_York, unless --timezone says otherwise).
exit status: 0 done, 1 API or network error, 2 bad flags or settings, 130 interrupted."""


class UsageError(Exception):
    """A missing or malformed command-line setting: printed as one line, exit status 2."""


# -- connection settings ----------------------------------------------------------------------------


@attrs.frozen
class Connection:
    """Where and how to connect; the auth object keeps the secrets out of every repr."""

    base_url: str
    auth: BearerAuth | ApiKeyAuth
    version: int = 4


def flag(parameter: str) -> str:
    """The flag named after a library parameter: ``page_size`` -> ``--page-size``."""
    return "--" + parameter.replace("_", "-")


def _setting(args: argparse.Namespace, env: Mapping[str, str], name: str) -> str | None:
    value = getattr(args, name, None)
    if value is None:
        value = env.get(SETTINGS[name][1]) or None
    return value if value is None else str(value)


def _missing(name: str) -> str:
    option, variable, label = SETTINGS[name]
    return f"missing {label}: pass {option} or set {variable}"


def given_settings(args: argparse.Namespace) -> list[str]:
    """The connection flags given on the command line (the environment aside)."""
    return [SETTINGS[name][0] for name in SETTINGS if getattr(args, name, None) is not None]


def resolve_connection(args: argparse.Namespace, env: Mapping[str, str]) -> Connection:
    """The connection from flags, falling back on ``AEOPP_*`` environment variables.

    A bearer token (with its business unit id) wins over the legacy email, password and user key.
    """
    version_text = _setting(args, env, "api_version") or "4"
    try:
        version = validate_version(lenient_int(version_text))
    except RequestValidationError as exc:
        option, variable, _ = SETTINGS["api_version"]
        raise UsageError(f"{option} / {variable}: {exc}") from None
    base_url = _setting(args, env, "base_url") or DEFAULT_BASE_URL
    token = _setting(args, env, "access_token")
    legacy = {name: _setting(args, env, name) for name in _LEGACY}
    auth: BearerAuth | ApiKeyAuth
    if token is not None:
        unit = _setting(args, env, "business_unit_id")
        if unit is None:
            raise UsageError(_missing("business_unit_id"))
        auth = BearerAuth(token, unit)
    elif any(value is not None for value in legacy.values()):
        for name, value in legacy.items():
            if value is None:
                raise UsageError(
                    _missing(name) + " (legacy api-key login needs email, password and user key)"
                )
        auth = ApiKeyAuth(legacy["email"] or "", legacy["password"] or "", legacy["user_key"] or "")
    else:
        raise UsageError(
            _missing("access_token")
            + " (with --business-unit-id / AEOPP_BUSINESS_UNIT_ID), or try --simulate N"
        )
    return Connection(base_url=base_url, auth=auth, version=version)


def resolve_timezone(args: argparse.Namespace, env: Mapping[str, str]) -> _dt.tzinfo | None:
    """``--timezone``, else ``AEOPP_TIMEZONE``, as a tzinfo (None when neither is given)."""
    if getattr(args, "timezone", None):
        return parse_timezone(args.timezone)
    if env.get(VARIABLES["timezone"]):
        return parse_timezone(env[VARIABLES["timezone"]], parameter=VARIABLES["timezone"])
    return None


def redis_url(args: argparse.Namespace, env: Mapping[str, str]) -> str | None:
    """``--redis-url``, else ``AEOPP_REDIS_URL`` (None when neither is given)."""
    return getattr(args, "redis_url", None) or env.get(VARIABLES["redis_url"]) or None


def lenient_int(text: str | None) -> int | str | None:
    """``text`` as an int when it reads as one, else unchanged (the library then says why not)."""
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return text


def lenient_number(text: str) -> float | str:
    """``text`` as a finite float when it reads as one, else unchanged (the library then says why not)."""
    try:
        number = float(text)
    except ValueError:
        return text
    return number if number - number == 0 else text  # inf and nan stay text


def connection_parser() -> argparse.ArgumentParser:
    """The flags every command takes: connection settings, client options and the simulator."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection")
    group.add_argument("--base-url", metavar="URL", help="API host (env AEOPP_BASE_URL)")
    group.add_argument("--access-token", metavar="TOKEN", help="OAuth access token (env AEOPP_ACCESS_TOKEN)")
    group.add_argument("--business-unit-id", metavar="ID", help="0Uv... (env AEOPP_BUSINESS_UNIT_ID)")
    group.add_argument("--api-version", metavar="3|4", help="API version (env AEOPP_API_VERSION)")
    group.add_argument("--email", help="legacy login email (env AEOPP_EMAIL)")
    group.add_argument("--password", help="legacy login password (env AEOPP_PASSWORD)")
    group.add_argument("--user-key", metavar="KEY", help="legacy user key (env AEOPP_USER_KEY)")
    group.add_argument("--wire-format", default="json", metavar="json|xml", help="response format")
    group.add_argument("--max-concurrency", default=str(MAX_CONCURRENT_REQUESTS), metavar="N",
                       help=f"requests in flight at most (default: {MAX_CONCURRENT_REQUESTS}, "
                       "Pardot's limit per business unit)")  # fmt: skip
    group.add_argument("--timeout", default="30", metavar="SECONDS", help="per request (default: 30)")
    group.add_argument(
        "--redis-url",
        metavar="URL",
        help="share Pardot's limits (five in flight, the daily quota, the token) with every other "
        "process using this Redis: redis://[user:password@]host:port/db or rediss:// "
        "(env AEOPP_REDIS_URL; needs pip install 'aeopp[redis]')",
    )
    group.add_argument(
        "--timezone",
        metavar="ZONE",
        help="the Pardot API user's time zone, e.g. America/New_York: timestamps get their offset "
        "(env AEOPP_TIMEZONE; without it they are written as Pardot sends them, with no offset)",
    )
    sim = parent.add_argument_group("simulator")
    sim.add_argument("--simulate", metavar="N",
                     help="run against an embedded simulator seeded with N opportunities")  # fmt: skip
    sim.add_argument(
        "--latency-ms",
        metavar="MS",
        help=f"the simulator's latency per request (default: {DEFAULT_SIM_LATENCY_MS:g})",
    )
    sim.add_argument("--seed", metavar="N", help="seed of the simulator's data (default: 0)")
    sim.add_argument(
        "--simulator-process",
        action="store_true",
        help="run the simulator in a child process, so its CPU doesn't compete with the client's",
    )
    return parent


# -- printing ---------------------------------------------------------------------------------------


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def error(args: argparse.Namespace, message: str) -> None:
    """``aeopp COMMAND: error: MESSAGE`` on stderr."""
    _say(f"aeopp {args.command}: error: {message}")


def warn(args: argparse.Namespace, message: str) -> None:
    """``aeopp COMMAND: warning: MESSAGE`` on stderr."""
    _say(f"aeopp {args.command}: warning: {message}")


def note(text: str) -> None:
    """A line of information on stderr (stdout may hold the records)."""
    _say(text)


def validation_message(exc: RequestValidationError, args: argparse.Namespace) -> str:
    """The library's message, led by the flag that gave the value (``missing --name`` when none did).

    A library parameter is named like its flag (``page_size``, ``--page-size``); a command's
    ``aliases`` names the others (``output`` is ``--api-output``).
    """
    aliases: Mapping[str, str] = getattr(args, "aliases", {})
    option = aliases.get(exc.parameter)
    if option is None and exc.parameter in vars(args):
        option = flag(exc.parameter)
    if option is None:
        return str(exc)
    if exc.value is None:
        return f"missing {option}: {exc.allowed}"
    return f"{option}: {exc}"


def _settings_hint(*names: str) -> str:
    options = ", ".join(SETTINGS[name][0] for name in names)
    variables = ", ".join(SETTINGS[name][1] for name in names)
    return f"check {options} ({variables})"


#: The settings to check when Pardot refuses the credentials, by its code.
_AUTH_HINTS = {
    184: _settings_hint("access_token"),  # access_token is invalid, unknown, or malformed
    201: _settings_hint("business_unit_id"),  # Business Unit ... not found or inactive
    1: _settings_hint(*_LEGACY),  # Invalid API key or user key
    15: _settings_hint(*_LEGACY),  # Login failed
}


def describe(exc: AeoppError) -> str:
    """One line for an error from the API or the network; refused credentials name their settings."""
    if not isinstance(exc, PardotError):
        return f"{type(exc).__name__}: {exc}"
    hint = _AUTH_HINTS.get(exc.code) if isinstance(exc, AuthenticationError) else None
    return str(exc) if hint is None else f"{exc}; {hint}"
