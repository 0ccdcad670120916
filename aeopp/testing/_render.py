"""Pardot's wire formats, written independently of the client: XML and PHP-style JSON.

A record is first turned into nodes ``(tag, value)`` where ``value`` is a string, None (empty) or a
list of child nodes (a repeated tag is a list on the wire). XML writes the nodes as they are; JSON
follows PHP's ``json_encode`` of the parsed XML: one child -> object, repeated children -> list,
empty -> null, numeric strings -> numbers (``JSON_NUMERIC_CHECK``-like, but a leading zero keeps a
string), ``/`` escaped as ``\\/``. Rendered fragments are cached per record in the store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from .._constants import ERROR_MESSAGES
from ._store import OpportunityStore, Prospect, StoredOpportunity

__all__ = ["Renderer", "error_body", "format_decimal", "json_scalar"]

Node = tuple[str, str | list["Node"] | None]

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
XML_OK = XML_DECLARATION + '<rsp stat="ok" version="1.0">\n'
XML_END = "</rsp>\n"
JSON_OK = '{"@attributes":{"stat":"ok","version":1},'

#: Printable ASCII that JSON (and PHP's ``\/``) leaves alone.
_PLAIN = re.compile(r"[ !#-.0-\[\]-~]*\Z")
_NUMERIC = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?\Z")
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def format_decimal(value: Decimal) -> str:
    """A value as Pardot prints a float: ``100``, ``1234.5``."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def json_scalar(text: str | None) -> str:
    """One JSON value the PHP way: null, a number for a numeric string, else an escaped string."""
    if text is None or text == "":
        return "null"
    if _NUMERIC.match(text):
        return text if "." not in text else repr(float(text))
    if _PLAIN.match(text):
        return '"' + text + '"'
    return json.dumps(text).replace("/", "\\/")


def xml_text(text: str) -> str:
    """Text escaped for an XML element."""
    return text.translate(_XML_ESCAPES)


def xml_nodes(nodes: Sequence[Node]) -> str:
    """Nodes as XML elements."""
    out: list[str] = []
    for tag, value in nodes:
        if value is None or value == "" or value == []:
            out.append(f"<{tag}/>")
        elif isinstance(value, str):
            out.append(f"<{tag}>{value.translate(_XML_ESCAPES)}</{tag}>")
        else:
            out.append(f"<{tag}>{xml_nodes(value)}</{tag}>")
    return "".join(out)


def json_members(nodes: Sequence[Node]) -> str:
    """Nodes as the members of a JSON object (no braces), repeated tags as lists."""
    grouped: dict[str, list[str | list[Node] | None]] = {}
    for tag, value in nodes:
        grouped.setdefault(tag, []).append(value)
    parts = []
    for tag, values in grouped.items():
        if len(values) == 1:
            parts.append(f'"{tag}":{json_value(values[0])}')
        else:
            parts.append(f'"{tag}":[{",".join(json_value(v) for v in values)}]')
    return ",".join(parts)


def json_value(value: str | list[Node] | None) -> str:
    """One node value as JSON."""
    if isinstance(value, list):
        return "{" + json_members(value) + "}" if value else "null"
    return json_scalar(value)


def error_body(code: int, fmt: str, message: str | None = None) -> str:
    """A failure envelope with Pardot's exact message for ``code``."""
    text = ERROR_MESSAGES.get(code, "Unknown error") if message is None else message
    if fmt == "json":
        err = json.dumps(text).replace("/", "\\/")
        return f'{{"@attributes":{{"stat":"fail","version":1,"err_code":{code}}},"err":{err}}}'
    err = f'<err code="{code}">{xml_text(text)}</err>'
    return f'{XML_DECLARATION}<rsp stat="fail" version="1.0">\n{err}\n{XML_END}'


class Renderer:
    """Renders the store's records for one account time zone, caching fragments per record."""

    def __init__(self, store: OpportunityStore) -> None:
        self.store = store
        self._config: tuple[str, bool] | None = None
        self._tz: ZoneInfo = ZoneInfo("UTC")
        self._escape = True
        #: Campaign and prospect fragments, shared by every opportunity.
        self._shared: dict[tuple[str, str, int | None], str] = {}
        self._shared_version = -1

    def configure(self, timezone: str, html_escape: bool) -> None:
        """Use this time zone and escaping; drops the cache when they change."""
        config = (timezone, html_escape)
        if config != self._config:
            self._config = config
            self._tz = ZoneInfo(timezone)
            self._escape = html_escape
            self.store.fragments.clear()
        if self._shared_version != self.store.shared_version:
            self._shared_version = self.store.shared_version
            self._shared.clear()

    # -- nodes ------------------------------------------------------------------------------------

    def _s(self, text: str | None) -> str | None:
        if text is None:
            return None
        return text.translate(_HTML_ESCAPES) if self._escape else text

    def timestamp(self, value: datetime | None) -> str | None:
        """A timestamp as Pardot prints it: naive, in the account time zone."""
        if value is None:
            return None
        t = value.astimezone(self._tz)
        return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"

    def field_nodes(self, r: StoredOpportunity) -> list[tuple[str, str | None]]:
        """The opportunity's own fields."""
        s = self._s
        ts = self.timestamp
        return [
            ("id", str(r.id)),
            ("campaign_id", None if r.campaign_id is None else str(r.campaign_id)),
            ("name", s(r.name)),
            ("value", format_decimal(r.value)),
            ("probability", str(r.probability)),
            ("type", s(r.type)),
            ("stage", s(r.stage)),
            ("status", s(r.status)),
            ("closed_at", ts(r.closed_at)),
            ("created_at", ts(r.created_at)),
            ("updated_at", ts(r.updated_at)),
        ]

    def campaign_nodes(self, campaign_id: int | None) -> list[Node]:
        """``<campaign>`` (empty when the opportunity has none)."""
        campaign = self.store.campaign(campaign_id)
        if campaign is None:
            return [("campaign", None)]
        return [("campaign", [("id", str(campaign.id)), ("name", self._s(campaign.name))])]

    def prospect_nodes(self, prospect: Prospect) -> list[Node]:
        """One ``<prospect>``."""
        s = self._s
        return [
            ("id", str(prospect.id)),
            ("first_name", s(prospect.first_name)),
            ("last_name", s(prospect.last_name)),
            ("email", s(prospect.email)),
            ("company", s(prospect.company)),
        ]

    def relation_nodes(self, r: StoredOpportunity) -> list[Node]:
        """``<campaign>`` and ``<prospects>``."""
        prospects: list[Node] = [
            ("prospect", self.prospect_nodes(p))
            for pid in r.prospect_ids
            if (p := self.store.prospects.get(pid)) is not None
        ]
        return [*self.campaign_nodes(r.campaign_id), ("prospects", prospects)]

    def _relations(self, r: StoredOpportunity, fmt: str) -> str:
        """``relation_nodes`` rendered, from cached campaign and prospect fragments."""
        shared = self._shared
        key = (fmt, "c", r.campaign_id)
        campaign = shared.get(key)
        if campaign is None:
            nodes = self.campaign_nodes(r.campaign_id)
            campaign = shared[key] = json_members(nodes) if fmt == "json" else xml_nodes(nodes)
        people: list[str] = []
        for pid in r.prospect_ids:
            key = (fmt, "p", pid)
            text = shared.get(key)
            if text is None:
                prospect = self.store.prospects.get(pid)
                if prospect is None:
                    continue
                nodes = self.prospect_nodes(prospect)
                text = shared[key] = (
                    "{" + json_members(nodes) + "}"
                    if fmt == "json"
                    else f"<prospect>{xml_nodes(nodes)}</prospect>"
                )
            people.append(text)
        if fmt == "json":
            if not people:
                return campaign + ',"prospects":null'
            inner = people[0] if len(people) == 1 else "[" + ",".join(people) + "]"
            return campaign + ',"prospects":{"prospect":' + inner + "}"
        return campaign + ("<prospects>" + "".join(people) + "</prospects>" if people else "<prospects/>")

    def activity_nodes(self, r: StoredOpportunity) -> list[Node]:
        """``<opportunity_activities>`` (read with ``output=full`` only)."""
        acts: list[Node] = [
            (
                "visitor_activity",
                [
                    ("id", str(a.id)),
                    ("prospect_id", str(a.prospect_id)),
                    ("opportunity_id", str(a.opportunity_id)),
                    ("type", str(a.type)),
                    ("type_name", self._s(a.type_name)),
                    ("details", self._s(a.details)),
                    ("created_at", self.timestamp(a.created_at)),
                ],
            )
            for a in r.activities
        ]
        return [("opportunity_activities", acts)]

    # -- fragments --------------------------------------------------------------------------------

    def _fragment(self, r: StoredOpportunity, fmt: str, part: str) -> str:
        cache = self.store.fragments.get(r.id)
        if cache is None:
            cache = self.store.fragments[r.id] = {}
        key = (fmt, part)
        text = cache.get(key)
        if text is None:
            if part == "f":  # flat and unique tags: skip the generic grouping
                leaves = self.field_nodes(r)
                if fmt == "json":
                    text = ",".join([f'"{t}":{json_scalar(v)}' for t, v in leaves])
                else:
                    text = "".join(
                        [f"<{t}>{v.translate(_XML_ESCAPES)}</{t}>" if v else f"<{t}/>" for t, v in leaves]
                    )
                cache[key] = text
                return text
            if part == "r":
                text = cache[key] = self._relations(r, fmt)
                return text
            else:
                nodes = self.activity_nodes(r)
            text = cache[key] = json_members(nodes) if fmt == "json" else xml_nodes(nodes)
        return text

    def record(self, r: StoredOpportunity, fmt: str, output: str, activities: bool) -> str:
        """One ``opportunity`` element (XML) or object (JSON), cached whole per record."""
        cache = self.store.fragments.get(r.id)
        key = (fmt, output if not activities else output + "+a")
        if cache is not None:
            text = cache.get(key)
            if text is not None:
                return text
        text = self._record(r, fmt, output, activities)
        self.store.fragments.setdefault(r.id, {})[key] = text
        return text

    def _record(self, r: StoredOpportunity, fmt: str, output: str, activities: bool) -> str:
        parts = [self._fragment(r, fmt, "f")]
        if output in ("full", "simple"):
            parts.append(self._fragment(r, fmt, "r"))
            if activities and output == "full":
                parts.append(self._fragment(r, fmt, "a"))
        if fmt == "json":
            return "{" + ",".join(parts) + "}"
        return "<opportunity>" + "".join(parts) + "</opportunity>"

    def single(self, r: StoredOpportunity, fmt: str, output: str, activities: bool) -> str:
        """A read, create or update answer: the opportunity at top level."""
        body = self.record(r, fmt, output, activities)
        if fmt == "json":
            return JSON_OK + '"opportunity":' + body + "}"
        return XML_OK + body + "\n" + XML_END

    def page(self, records: Sequence[StoredOpportunity], total: int | None, fmt: str, output: str) -> str:
        """A query answer; ``total`` None (bulk) leaves ``total_results`` out."""
        rendered = [self.record(r, fmt, output, False) for r in records]
        if fmt == "json":
            members = [] if total is None else [f'"total_results":{total}']
            if len(rendered) == 1:
                members.append('"opportunity":' + rendered[0])
            elif rendered:
                members.append('"opportunity":[' + ",".join(rendered) + "]")
            result = "{" + ",".join(members) + "}" if members else "null"
            return JSON_OK + '"result":' + result + "}"
        inner = "" if total is None else f"<total_results>{total}</total_results>"
        inner += "".join(rendered)
        result = f"<result>{inner}</result>" if inner else "<result/>"
        return XML_OK + result + "\n" + XML_END

    def login(self, api_key: str, version: int | None, fmt: str) -> str:
        """A legacy login answer: the api_key, and ``version`` 4 for accounts that must use v4."""
        if fmt == "json":
            extra = "" if version is None else f',"version":{version}'
            return JSON_OK + f'"api_key":"{api_key}"' + extra + "}"
        extra = "" if version is None else f"<version>{version}</version>"
        return XML_OK + f"<api_key>{api_key}</api_key>{extra}\n" + XML_END
