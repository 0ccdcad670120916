"""The opportunity operations: query, create, read, update, delete and undelete, and their fields.

Each one takes a routed :class:`~._call.Call`, answers with the rendered result and fails with
:class:`~._call.ApiError` (its code). Authentication, limits and faults came before (``_server``).

Where the client's validation knowingly differs from these choices is listed, and tested on both
sides, in ``tests/test_divergences.py`` (``DIVERGENCES``).

Choices where the reference is unsure (each one a guess to revisit against the real server):

* Default ``sort_by`` is ``id`` ascending; ties in any sort are broken by ascending id.
* ``created_after`` and ``created_before`` are both strict; ``last_7_days`` is now minus 7 days.
* Inverted ranges are errors only when the lower bound is strictly above the upper one.
* Probability filters accept integers 0-100 (41 otherwise); id filters any integer (16 otherwise);
  value filters any decimal (43 otherwise).
* Code 5 only when every non-control query parameter is unknown; one unknown among known ones is
  ignored. ``api_key``, ``user_key`` and ``deleted`` count as control parameters (``deleted`` has
  no effect).
* ``output=mobile`` has no 200 cap: without ``limit`` every match from ``offset`` is returned; a
  given ``limit`` must be a positive integer and is honoured. Other outputs: ``limit`` 1-200.
* An empty query parameter (``limit=``) counts as absent.
* ``output=bulk`` with no match answers ``"result": null`` (JSON) / ``<result/>`` (XML).
* An unknown ``output`` is read as ``full``.
* Create: missing or empty ``name``, ``value``, ``probability`` or prospect -> 13; ``campaign_id``
  is optional. Update: sending a required field empty -> 36; ``type``/``stage``/``status``/
  ``closed_at`` sent empty are cleared. ``status`` takes any string. ``value`` >= 0 with decimals.
  Parameters that are not editable fields are ignored; an update without any answers the record.
* A shared email picks, on create, the prospect with the latest activity (v3 and v4 alike); on
  query v4 matches every prospect with the email and v3 the lowest id. Emails match case-insensitively.
"""

from __future__ import annotations

import bisect
import operator
import re
from collections.abc import Callable, Mapping
from datetime import timezone
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from .._constants import (
    DEFAULT_SORT_ORDER,
    MAX_LIMIT,
    OUTPUTS,
    PROSPECT_EMAIL_MAX_LENGTH,
    SORT_FIELDS,
    SORT_ORDERS,
)
from ._call import ApiError, Call, respond
from ._params import parse_decimal, parse_int, parse_timestamp
from ._render import Renderer
from ._state import SimulatorSettings
from ._store import OpportunityStore, Prospect, StoredOpportunity

__all__ = ["FILTERS", "Operations"]

#: The query filters this server implements (Pardot's names; ref §6.1).
FILTERS = (
    "created_after",
    "created_before",
    "id_greater_than",
    "id_less_than",
    "probability_greater_than",
    "probability_less_than",
    "prospect_email",
    "prospect_id",
    "value_greater_than",
    "value_less_than",
)

UTC = timezone.utc
#: Query parameters that are not filters (they never make code 5 on their own).
QUERY_CONTROLS = frozenset(
    {"format", "output", "limit", "offset", "sort_by", "sort_order", "deleted", "api_key", "user_key"}
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\Z")


class Operations:
    """The opportunity operations over one store, rendered by ``renderer`` in the account's settings."""

    def __init__(self, store: OpportunityStore, renderer: Renderer, settings: SimulatorSettings) -> None:
        self.store = store
        self.renderer = renderer
        self.settings = settings

    def run(self, call: Call) -> web.Response:
        """The answer to ``call`` (an unknown ``output`` means ``full``); ApiError on a failure."""
        p = call.params
        output = p.get("output") or "full"
        if output not in OUTPUTS:
            output = "full"
        if call.operation == "query":
            return self._query(call, output)
        if call.operation == "create":
            record = self._create(call)
            return respond(self.renderer.single(record, call.fmt, output, False), call.fmt)
        record = self._record_for(p, allow_deleted=call.operation == "undelete")
        if call.operation == "read":
            return respond(self.renderer.single(record, call.fmt, output, True), call.fmt)
        if call.operation == "update":
            record = self._update(record, p)
            return respond(self.renderer.single(record, call.fmt, output, False), call.fmt)
        if call.operation == "delete":
            self.store.delete(record.id)
        else:
            if not record.deleted:
                raise ApiError(35)
            self.store.undelete(record.id)
        return web.Response(status=204)

    def _record_for(self, p: Mapping[str, str], allow_deleted: bool) -> StoredOpportunity:
        text = p.get("id", "")
        if text == "":
            raise ApiError(13)
        oid = parse_int(text)
        if oid is None or oid < 0:
            raise ApiError(16)
        try:
            record = self.store.get(oid)
        except KeyError:
            raise ApiError(35) from None
        if record.deleted and not allow_deleted:
            raise ApiError(35)
        return record

    def _prospect(self, p: Mapping[str, str], version: int | None) -> list[Prospect] | None:
        """The prospects named by ``prospect_id`` / ``prospect_email`` (3, 4, 44), or None if neither."""
        pid_text = p.get("prospect_id", "")
        email = p.get("prospect_email", "")
        by_id: Prospect | None = None
        if pid_text:
            pid = parse_int(pid_text)
            by_id = self.store.prospects.get(pid) if pid is not None else None
            if by_id is None:
                raise ApiError(3)
        by_email: list[Prospect] = []
        if email:
            if len(email) > PROSPECT_EMAIL_MAX_LENGTH or not _EMAIL.match(email):
                raise ApiError(4)
            by_email = self.store.prospects_by_email(email)
            if not by_email:
                raise ApiError(4)
            if version != 4:
                by_email = by_email[:1]
        if by_id is not None and by_email:
            if by_id.id not in {q.id for q in by_email}:
                raise ApiError(44)
            return [by_id]
        if by_id is not None:
            return [by_id]
        return by_email or None

    def _query(self, call: Call, output: str) -> web.Response:
        p = {k: v for k, v in call.params.items() if v != ""}
        others = [k for k in p if k not in QUERY_CONTROLS]
        if others and not any(k in FILTERS for k in others):
            raise ApiError(5)
        mobile = output == "mobile"
        limit: int | None = MAX_LIMIT
        if "limit" in p:
            limit = parse_int(p["limit"])
            if limit is None or limit < 1 or (limit > MAX_LIMIT and not mobile):
                raise ApiError(23)
        elif mobile:
            limit = None
        offset = 0
        if "offset" in p:
            value = parse_int(p["offset"])
            if value is None or value < 0:
                raise ApiError(21)
            offset = value
        sort_by = p.get("sort_by", "id")  # the default sort_by is undocumented: id ascending
        if sort_by not in SORT_FIELDS:
            raise ApiError(19)
        sort_order = p.get("sort_order", DEFAULT_SORT_ORDER[sort_by])
        if sort_order not in SORT_ORDERS:
            raise ApiError(20)
        id_gt = _bound(p, "id_greater_than", 16, parse_int)
        id_lt = _bound(p, "id_less_than", 16, parse_int)
        if id_gt is not None and id_lt is not None and id_gt > id_lt:
            raise ApiError(17)
        pr_gt = _bound(p, "probability_greater_than", 41, _probability)
        pr_lt = _bound(p, "probability_less_than", 41, _probability)
        if pr_gt is not None and pr_lt is not None and pr_gt > pr_lt:
            raise ApiError(41)
        v_gt = _bound(p, "value_greater_than", 43, parse_decimal)
        v_lt = _bound(p, "value_less_than", 43, parse_decimal)
        if v_gt is not None and v_lt is not None and v_gt > v_lt:
            raise ApiError(43)
        tz = ZoneInfo(self.settings.timezone)
        now = self.settings.clock()
        after = before = None
        if "created_after" in p:
            after = parse_timestamp(p["created_after"], tz, now)
            if after is None:
                raise ApiError(7)
        if "created_before" in p:
            before = parse_timestamp(p["created_before"], tz, now)
            if before is None:
                raise ApiError(7)
        if after is not None and before is not None and after > before:
            raise ApiError(8)
        prospects = self._prospect(p, call.version)

        descending = sort_order == "descending"
        view = self.store.sorted_view(sort_by, descending)
        if sort_by == "id" and (id_gt is not None or id_lt is not None):
            view = _id_slice(view, id_gt, id_lt, descending)
            id_gt = id_lt = None
        checks: list[Callable[[StoredOpportunity], bool]] = []
        for field, compare, bound in (
            ("id", operator.gt, id_gt),
            ("id", operator.lt, id_lt),
            ("probability", operator.gt, pr_gt),
            ("probability", operator.lt, pr_lt),
            ("value", operator.gt, v_gt),
            ("value", operator.lt, v_lt),
            ("created_at", operator.gt, after),
            ("created_at", operator.lt, before),
        ):
            if bound is not None:
                checks.append(_check(field, compare, bound))
        if prospects is not None:
            wanted = frozenset(q.id for q in prospects)
            checks.append(lambda r: not wanted.isdisjoint(r.prospect_ids))
        matches = [r for r in view if all(c(r) for c in checks)] if checks else view
        page = matches[offset:] if limit is None else matches[offset : offset + limit]
        total = None if output == "bulk" else len(matches)
        return respond(self.renderer.page(page, total, call.fmt, output), call.fmt)

    def _fields(self, p: Mapping[str, str], creating: bool) -> dict[str, Any]:
        """Editable fields present in ``p``, validated (38, 40, 42, 7; 36 when a required one is empty)."""
        out: dict[str, Any] = {}
        if "campaign_id" in p:
            text = p["campaign_id"]
            if text == "":
                if not creating:
                    raise ApiError(36)
            else:
                cid = parse_int(text)
                if cid is None or cid not in self.store.campaigns:
                    raise ApiError(38)
                out["campaign_id"] = cid
        if "probability" in p:
            probability = _probability(p["probability"]) if p["probability"] != "" else None
            if p["probability"] == "":
                raise ApiError(36)
            if probability is None:
                raise ApiError(40)
            out["probability"] = probability
        if "value" in p:
            if p["value"] == "":
                raise ApiError(36)
            value = parse_decimal(p["value"])
            if value is None or value < 0 or not value.is_finite():
                raise ApiError(42)
            out["value"] = value
        if "name" in p:
            if p["name"] == "":
                raise ApiError(36)
            out["name"] = p["name"]
        for key in ("type", "stage", "status"):
            if key in p:
                out[key] = p[key] or None
        if "closed_at" in p:
            if p["closed_at"] == "":
                out["closed_at"] = None
            else:
                closed = parse_timestamp(
                    p["closed_at"], ZoneInfo(self.settings.timezone), self.settings.clock()
                )
                if closed is None:
                    raise ApiError(7)
                out["closed_at"] = closed.astimezone(UTC).replace(microsecond=0)
        return out

    def _create(self, call: Call) -> StoredOpportunity:
        p = call.params
        if any(p.get(k, "") == "" for k in ("name", "value", "probability")):
            raise ApiError(13)
        if not p.get("prospect_id") and not p.get("prospect_email"):
            raise ApiError(13)
        prospects = self._prospect(p, 4)
        assert prospects
        # Several prospects share the email: the one with the latest activity (v4 rule; v3 too).
        prospect = max(prospects, key=lambda q: (self.store.last_activity_at(q), -q.id))
        fields = self._fields(p, creating=True)
        return self.store.create(prospect_id=prospect.id, **fields)

    def _update(self, record: StoredOpportunity, p: Mapping[str, str]) -> StoredOpportunity:
        fields = self._fields(p, creating=False)
        return self.store.update(record.id, **fields)


def _probability(text: str) -> int | None:
    value = parse_int(text)
    return value if value is not None and 0 <= value <= 100 else None


def _bound(p: Mapping[str, str], key: str, code: int, parse: Callable[[str], Any]) -> Any:
    if key not in p:
        return None
    value = parse(p[key])
    if value is None:
        raise ApiError(code)
    return value


def _check(
    field: str, compare: Callable[[Any, Any], bool], bound: Any
) -> Callable[[StoredOpportunity], bool]:
    get = operator.attrgetter(field)
    return lambda r: compare(get(r), bound)


def _id_slice(
    view: list[StoredOpportunity], gt: int | None, lt: int | None, descending: bool
) -> list[StoredOpportunity]:
    """The part of an id-sorted view strictly between the bounds (bisect, no scan)."""
    ascending = view[::-1] if descending else view
    lo = 0 if gt is None else bisect.bisect_right(ascending, gt, key=_id)
    hi = len(ascending) if lt is None else bisect.bisect_left(ascending, lt, key=_id)
    part = ascending[lo : max(lo, hi)]
    return part[::-1] if descending else part


def _id(record: StoredOpportunity) -> int:
    return record.id
