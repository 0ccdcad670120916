"""One record builder, driven by a record spec's field table, for XML and JSON alike.

A decoded record is a dict of wire keys (from ``json.loads`` or from an XML tree) whose values are
scalars, nested dicts or lists. For each field of the spec, in the model's order, the builder takes
the wire value, converts it (``Field.parse``) or builds the nested record(s) (``Field.nested``), then
calls the model's own attrs constructor. Keys the spec doesn't know go to ``extra``.

The wire's collection quirks are handled here: a collection holding one record arrives as an
object instead of a list, an empty one as null, ``""`` or ``{}``, and an XML collection such as
``<prospects><prospect>...`` as ``{"prospect": one-or-many}``.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable
from datetime import tzinfo
from typing import Any, Generic, TypeVar

from ._convert import BadData, plain
from ._spec import RecordSpec

__all__ = ["RecordBuilder", "as_list", "list_tags"]

R = TypeVar("R")

#: Equal nested records share one object (a page of 200 opportunities usually names a handful of
#: campaigns); a builder forgets them all past this many.
_SHARED_MAX = 4096
#: Wire types whose equal values mean the same thing (unlike 1.5 and 1.50, or True and 1).
_SHAREABLE = frozenset({str, int, type(None)})


def as_list(value: Any) -> list[Any]:
    """A record collection as a list: a list as is, one object as a list of one, nothing as []."""
    if value.__class__ is list:
        return value
    if value is None or value == "" or value == {}:
        return []
    return [value]


def _collection(value: Any, item: str) -> list[Any]:
    """The records of a wrapped collection: null, "", {}, {item: one or many}, or a list of those."""
    if value.__class__ is dict:
        if item in value:
            return as_list(value[item])
        return [value] if value else []
    if value.__class__ is list:
        out: list[Any] = []
        for entry in value:
            if entry.__class__ is dict and item in entry:
                out.extend(as_list(entry[item]))
            elif entry:
                out.append(entry)
        return out
    if not value:
        return []
    raise BadData(f"{item} collection of type {type(value).__name__}")


#: A converter: a wire value -> the model's value.
Convert = Callable[[Any], Any]

if sys.version_info >= (3, 11):
    _call = operator.call
else:  # pragma: no cover - Python 3.10

    def _call(convert: Convert, value: Any) -> Any:
        return convert(value)


def _zoned(parse: Callable[[Any, tzinfo | None], Any], timezone: tzinfo | None) -> Convert:
    """``parse`` with the account's time zone bound (timestamps come out aware when it is given)."""
    if timezone is None:
        return parse  # type: ignore[return-value]

    def convert(value: Any) -> Any:
        return parse(value, timezone)

    return convert


class RecordBuilder(Generic[R]):
    """Builds ``spec.model`` instances from decoded wire records, with the model's attrs constructor.

    One builder per record spec and time zone: every field's converter takes just the wire value,
    so a record costs one C-level ``map`` over the field table and one constructor call.
    """

    def __init__(self, spec: RecordSpec[R], timezone: tzinfo | None = None) -> None:
        self.spec = spec
        self._model: Callable[..., R] = spec.model
        self._keys = spec.wire_keys
        self._label = spec.model.__name__
        self._shared: dict[tuple[tuple[str, Any], ...], R] = {}
        converters: list[Convert] = []
        index = {f.name: i for i, f in enumerate(spec.fields)}
        self._fallbacks: list[tuple[int, int, str]] = []
        for f in spec.fields:
            if f.nested is None:
                assert f.parse is not None
                converters.append(_zoned(f.parse, timezone))
            else:
                child = RecordBuilder(f.nested, timezone)
                converters.append(child.many(f.item) if f.item else child.one)
            if f.fallback is not None:
                source, attribute = f.fallback
                self._fallbacks.append((index[f.name], index[source], attribute))
        self._wires = tuple(f.wire for f in spec.fields)
        self._converters = tuple(converters)

    def __call__(self, data: Any) -> R:
        if data.__class__ is not dict:
            raise BadData(f"{self._label} of type {type(data).__name__}")
        values = list(map(_call, self._converters, map(data.get, self._wires)))
        for target, source, attribute in self._fallbacks:
            if values[target] is None and values[source] is not None:
                values[target] = getattr(values[source], attribute)
        keys = self._keys
        extra = {} if keys.issuperset(data) else {k: plain(v) for k, v in data.items() if k not in keys}
        return self._model(*values, extra)

    def one(self, data: Any) -> R | None:
        """A nested record (None when empty), shared with equal ones seen before."""
        if not data:
            return None
        if data.__class__ is not dict:
            raise BadData(f"{self._label} of type {type(data).__name__}")
        for value in data.values():
            if value.__class__ not in _SHAREABLE:  # 1.5 == Decimal("1.50"), True == 1: build those
                return self(data)
        key = tuple(data.items())
        found = self._shared.get(key)
        if found is None:
            if len(self._shared) >= _SHARED_MAX:
                self._shared.clear()
            found = self._shared[key] = self(data)
        return found

    def many(self, item: str) -> Convert:
        """A converter of a wrapped collection (``<prospects><prospect>...``) into a tuple of records."""

        def collection(value: Any) -> tuple[R, ...]:
            if not value:
                return ()
            if value.__class__ is dict and len(value) == 1 and item in value:
                inner = value[item]
                if inner.__class__ is dict:
                    return (self(inner),)
                return tuple([self(entry) for entry in as_list(inner)])
            return tuple([self(entry) for entry in _collection(value, item)])

        return collection


def list_tags(spec: RecordSpec[Any], record_tag: str) -> tuple[str, ...]:
    """The XML tags that are collections: the record's own and every nested collection's item."""
    tags = [record_tag]
    for f in spec.fields:
        if f.nested is not None and f.item:
            tags.extend(list_tags(f.nested, f.item))
    return tuple(dict.fromkeys(tags))
