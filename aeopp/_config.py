"""Configuration values of the client: how big an answer may be, how long an attempt may take."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["SizeLimits", "Timeout"]

KIB = 1024
MIB = 1024 * KIB


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"SizeLimits.{attribute.name} must be a positive number of bytes, not {value!r}")


@attrs.frozen
class SizeLimits:
    """The largest answer the client reads, by kind of answer; a bigger one is a ``ProtocolError``.

    * ``record``: one opportunity (``read``, ``create``, ``update``, ``delete``, ``undelete``) or a
      login. A real one is a few KiB, even with many prospects and visitor activities.
    * ``page``: one query page of up to 200 records (about 100-200 KiB in JSON or XML).
    * ``mobile``: a query with ``output="mobile"``, which Pardot answers with every match in one
      response. The whole answer is held in memory and parsed at once: about 1.5 KiB per record
      once parsed, so 64 MiB of answer (about 300,000 records) may need a few hundred MiB. For
      bigger sets, walk with the default output instead (constant memory).
    """

    record: int = attrs.field(default=1 * MIB, validator=_positive)
    page: int = attrs.field(default=8 * MIB, validator=_positive)
    mobile: int = attrs.field(default=64 * MIB, validator=_positive)

    def cap(self, operation: str, output: str | None = None) -> tuple[int, str]:
        """The cap for an answer to ``operation`` (with Pardot's ``output``) and the limit's name."""
        if operation == "query":
            return (self.mobile, "mobile") if output == "mobile" else (self.page, "page")
        return self.record, "record"


def _seconds(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.name != "total":
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"Timeout.{attribute.name} must be a positive number of seconds, not {value!r}")


@attrs.frozen
class Timeout:
    """How long one attempt may take, in seconds.

    ``total`` caps the whole attempt (connecting, sending, waiting, reading); ``connect`` caps
    establishing the connection (a request that never connected is retried even for a write, since
    it surely didn't reach Pardot); ``read`` caps each wait for more of the answer. Time spent
    queued for a slot is never counted. ``OpportunityClient(timeout=10.0)`` means
    ``Timeout(total=10.0)``.
    """

    total: float = attrs.field(default=30.0, validator=_seconds)
    connect: float | None = attrs.field(default=None, validator=_seconds)
    read: float | None = attrs.field(default=None, validator=_seconds)


# Public as aeopp.SizeLimits, aeopp.Timeout: reprs, tracebacks and pickles say so.
SizeLimits.__module__ = "aeopp"
Timeout.__module__ = "aeopp"
