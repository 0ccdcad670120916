"""Connection settings by name, as the command line and ``OpportunityClient.from_env()`` read them.

One table of settings and their ``AEOPP_*`` variables, and one function turning the values into the
client's arguments (auth, base URL, version, time zone), so the library and the command line agree.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import _validate
from .auth import ApiKeyAuth, BearerAuth
from .errors import RequestValidationError

__all__ = ["DEFAULT_BASE_URL", "VARIABLES", "client_options", "from_environ", "parse_timezone"]

DEFAULT_BASE_URL = "https://pi.pardot.com"

#: Each setting's environment variable.
VARIABLES: dict[str, str] = {
    "base_url": "AEOPP_BASE_URL",
    "access_token": "AEOPP_ACCESS_TOKEN",
    "business_unit_id": "AEOPP_BUSINESS_UNIT_ID",
    "api_version": "AEOPP_API_VERSION",
    "email": "AEOPP_EMAIL",
    "password": "AEOPP_PASSWORD",
    "user_key": "AEOPP_USER_KEY",
    "timezone": "AEOPP_TIMEZONE",
    "redis_url": "AEOPP_REDIS_URL",
}

_LEGACY = ("email", "password", "user_key")


def from_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings the environment gives (empty variables count as unset)."""
    return {name: environ[var] for name, var in VARIABLES.items() if environ.get(var)}


def parse_timezone(name: str, *, parameter: str = "timezone") -> _dt.tzinfo:
    """An IANA time zone name (``Europe/Paris``) or ``UTC`` as a tzinfo."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise RequestValidationError(
            parameter, name, "an IANA time zone name such as America/New_York or UTC"
        ) from None


def _missing(name: str, why: str = "") -> RequestValidationError:
    return RequestValidationError(VARIABLES[name], None, f"a value{why}")


def client_options(values: Mapping[str, str | None]) -> dict[str, Any]:
    """``auth``, ``base_url``, ``version`` and ``timezone`` for a client, from settings by name.

    A bearer token (with its business unit id) wins over the legacy email, password and user key;
    errors name the environment variable of the setting.
    """
    given = {name: value for name, value in values.items() if value}
    options: dict[str, Any] = {"base_url": given.get("base_url", DEFAULT_BASE_URL)}
    version = given.get("api_version", "4").strip()
    try:
        options["version"] = _validate.validate_version(int(version) if version.isdecimal() else version)
    except RequestValidationError:
        raise RequestValidationError(VARIABLES["api_version"], version, "3 or 4") from None
    if "timezone" in given:
        options["timezone"] = parse_timezone(given["timezone"], parameter=VARIABLES["timezone"])
    if "access_token" in given:
        if "business_unit_id" not in given:
            raise _missing("business_unit_id", " with AEOPP_ACCESS_TOKEN")
        options["auth"] = BearerAuth(given["access_token"], given["business_unit_id"])
    elif any(name in given for name in _LEGACY):
        for name in _LEGACY:
            if name not in given:
                raise _missing(name, ": legacy api-key login needs email, password and user key")
        options["auth"] = ApiKeyAuth(given["email"], given["password"], given["user_key"])
    else:
        raise _missing("access_token", " (with AEOPP_BUSINESS_UNIT_ID), or the legacy AEOPP_EMAIL, "
                       "AEOPP_PASSWORD and AEOPP_USER_KEY")  # fmt: skip
    return options
