"""Wire values -> Python values: the conversions a record's fields go through when a page is parsed.

Pure functions of one decoded value (a JSON scalar, or the text of an XML element). JSON may send a
numeric-looking string as a number and XML sends everything as text, so each function takes both.
A value that can't be converted raises :class:`BadData` (a ``ValueError``); the parser turns it into
:class:`~aeopp.errors.ProtocolError` for the whole answer.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from html import unescape as _html_unescape
from typing import Any

__all__ = ["BadData", "decimal", "identifier", "integer", "moment", "plain", "text", "unescape"]


class BadData(ValueError):
    """A field had a value its type can't take."""


def unescape(text: str) -> str:
    """One level of HTML entities decoded, like :func:`html.unescape`, quicker for the usual five."""
    simple = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&#39;", "'")
    if "&" not in simple.replace("&amp;", ""):
        return simple.replace("&amp;", "&")
    return _html_unescape(text)


def text(value: Any, timezone: tzinfo | None = None) -> str | None:
    """A string field: None/"" -> None, numbers back to their text, one level of HTML entities decoded."""
    if value.__class__ is str:
        if not value:
            return None
        return unescape(value) if "&" in value else value
    if value is None:
        return None
    if value.__class__ is bool:
        return "true" if value else "false"
    if isinstance(value, int | Decimal | float):
        return str(value)
    raise BadData(f"expected text, got {type(value).__name__}")


def integer(value: Any, timezone: tzinfo | None = None) -> int | None:
    """An integer field; None or "" -> None."""
    if value.__class__ is int:
        return value
    if value is None or value == "":
        return None
    if value.__class__ is str:
        return int(value)
    if value.__class__ is Decimal and value.is_finite() and value == value.to_integral_value():
        return int(value)
    raise BadData(f"expected an integer, got {value!r}")


def identifier(value: Any, timezone: tzinfo | None = None) -> int:
    """A record's id: an integer that must be there."""
    number = integer(value)
    if number is None:
        raise BadData("record without an id")
    return number


def decimal(value: Any, timezone: tzinfo | None = None) -> Decimal | None:
    """A money amount, exact: JSON numbers arrive as int or Decimal, XML as text."""
    cls = value.__class__
    if cls is Decimal:
        result = value
    elif cls is str or cls is int:
        if value == "":
            return None
        result = Decimal(value)
    elif value is None:
        return None
    elif cls is float:
        result = Decimal(repr(value))
    else:
        raise BadData(f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise BadData(f"expected a finite number, got {value!r}")
    return result  # type: ignore[no-any-return]


_fromiso = datetime.fromisoformat


def moment(value: Any, timezone: tzinfo | None = None) -> datetime | None:
    """``YYYY-MM-DD HH:MM:SS`` -> datetime (in ``timezone`` when given, else naive);
    null, "" and ``0000-00-00 00:00:00`` -> None."""
    if not value:
        return None
    if value.__class__ is not str:
        raise BadData(f"expected a timestamp, got {type(value).__name__}")
    if value.startswith("0000-00-00"):
        return None
    when = _fromiso(value)
    return when if timezone is None else when.replace(tzinfo=timezone)


def plain(value: Any) -> Any:
    """An unknown field's value with HTML entities decoded in every string."""
    if value.__class__ is str:
        return unescape(value) if "&" in value else value
    if value.__class__ is dict:
        return {key: plain(item) for key, item in value.items()}
    if value.__class__ is list:
        return [plain(item) for item in value]
    return value
