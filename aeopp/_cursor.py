"""Where a walk stands: the cursor a query gives after every record, and its opaque string form."""

from __future__ import annotations

import base64
import binascii
import json

import attrs

from .errors import RequestValidationError

__all__ = ["Cursor"]

_CURSOR_VERSION = 1


@attrs.frozen
class Cursor:
    """Where a walk stands after the last record it yielded.

    For ``sort_by="id"`` it is that record's id (exact even mid-page, and stable while data
    changes); for the other sorts it is the position of the next record in the sort order.
    ``token()`` gives an opaque, versioned string to store; ``Cursor.from_token`` reads it back.
    """

    sort_by: str
    sort_order: str
    last_id: int | None = None
    offset: int | None = None

    def token(self) -> str:
        data = {"v": _CURSOR_VERSION, "s": self.sort_by, "o": self.sort_order}
        if self.last_id is not None:
            data["id"] = self.last_id
        if self.offset is not None:
            data["off"] = self.offset
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if not isinstance(data, dict) or data.get("v") != _CURSOR_VERSION:
                raise ValueError("unknown cursor version")
            cursor = cls(
                sort_by=str(data["s"]),
                sort_order=str(data["o"]),
                last_id=_opt_int(data.get("id")),
                offset=_opt_int(data.get("off")),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise RequestValidationError(
                "resume", token, "a cursor from a walk (Cursor or its token())"
            ) from None
        return cursor


def _opt_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an int")
    return value


# Public as aeopp.Cursor: reprs, tracebacks and pickles say so.
Cursor.__module__ = "aeopp"
