"""The speedups extra's XML path: plain XML answers -> the dict ``xmltodict.parse`` would make, with lxml.

Pure: imports neither aiohttp nor anyio. It takes only the plain form Pardot answers have, and says
``None`` (use the reference parser, the guarded expat of ``_envelope``) for anything else, so that
errors, refusals and odd documents are always the reference parser's:

- a prolog of at most a UTF-8 XML declaration (version 1.0) and white space: no DOCTYPE (so lxml never
  sees a DTD and never expands an entity), no comment, no processing instruction, no other encoding;
- below the root: no attribute, comment, CDATA section, processing instruction or namespace;
- well formed for libxml2 (its errors are not worded as expat's), nested at most ``max_depth`` deep.

Within that form the dict is the one ``xmltodict.parse(body, force_list=list_tags)`` makes: the
root's attributes as ``@name``, text stripped (``str.strip``) and ``None`` when empty, repeated
elements as lists, ``list_tags`` always as lists, text beside child elements as ``#text``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

__all__ = ["xml_to_dict"]

_S = rb"[ \t\r\n]*"
_S1 = rb"[ \t\r\n]+"
_QUOTED_UTF8 = rb"(?:\"[Uu][Tt][Ff]-8\"|'[Uu][Tt][Ff]-8')"
#: A UTF-8 byte order mark, white space, an optional XML declaration, white space, then the root
#: element's start (an ASCII name).
_PLAIN_PROLOG = re.compile(
    rb"(?:\xef\xbb\xbf)?" + _S + rb"(?:<\?xml" + _S1 + rb"version" + _S + rb"=" + _S
    + rb"(?:\"1\.0\"|'1\.0')"
    + rb"(?:" + _S1 + rb"encoding" + _S + rb"=" + _S + _QUOTED_UTF8 + rb")?"
    + rb"(?:" + _S1 + rb"standalone" + _S + rb"=" + _S + rb"(?:\"(?:yes|no)\"|'(?:yes|no)'))?"
    + _S + rb"\?>" + _S + rb")?<[A-Za-z_]"
)  # fmt: skip
#: An attribute's ``= "`` (or ``= '``): below the root, a sign of attributes (or of text that looks
#: like one, which only costs the reference parser).
_ATTRIBUTE = re.compile(rb"=" + _S + rb"[\"']")


class _NotPlain(Exception):
    """Internal: the document is not in the plain form (too deep); the reference parser decides."""


def _parser() -> Any:
    # A parser per call (a few microseconds): nothing shared between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        collect_ids=False,
        remove_comments=False,
        remove_pis=False,
        strip_cdata=True,
    )


def xml_to_dict(body: bytes, list_tags: Collection[str], max_depth: int) -> dict[str, Any] | None:
    """``body`` as ``xmltodict.parse`` makes it (see the module), or None when it is not plain XML."""
    start = _PLAIN_PROLOG.match(body)
    if start is None or b"<!" in body or b"xmlns" in body:
        return None
    below = body.find(b">", start.end())  # the end of the root's start tag, or an earlier ">"
    if below < 0 or body.find(b"<?", below) >= 0 or _ATTRIBUTE.search(body, below):
        return None
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError:
        return None
    try:
        return {root.tag: _root(root, frozenset(list_tags), max_depth)}
    except _NotPlain:
        return None


def _root(root: Any, force: frozenset[str], max_depth: int) -> Any:
    attributes = {"@" + name: value for name, value in root.items()}
    if len(root):
        return _element(root, 1, force, max_depth, attributes)
    text = root.text
    if text:
        text = text.strip() or None
    if not attributes:
        return text
    if text:
        attributes["#text"] = text
    return attributes


def _element(
    element: Any, depth: int, force: frozenset[str], max_depth: int, out: dict[str, Any]
) -> dict[str, Any]:
    """The children of an element that has some, at ``depth``, into ``out`` (xmltodict's push order)."""
    if depth >= max_depth:
        raise _NotPlain
    loose = element.text  # character data beside the children, joined as expat delivers it
    parts = [loose] if loose else None
    for child in element:
        tag = child.tag
        if len(child):
            value: Any = _element(child, depth + 1, force, max_depth, {})
        else:
            value = child.text
            if value:
                value = value.strip() or None
        tail = child.tail
        if tail:
            if parts is None:
                parts = [tail]
            else:
                parts.append(tail)
        if tag in out:
            previous = out[tag]
            if previous.__class__ is list:
                previous.append(value)
            else:
                out[tag] = [previous, value]
        elif tag in force:
            out[tag] = [value]
        else:
            out[tag] = value
    if parts is not None:
        text = "".join(parts).strip()
        if text:
            out["#text"] = text
    return out
