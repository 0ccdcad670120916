"""``aeopp read``, ``create``, ``update``, ``delete`` and ``undelete``: one record at a time.

The field flags of create and update are the spec's editable fields (``OPPORTUNITY.record``: name,
metavar, help, required); every value goes through the library's request builder, so a bad value
gets the library's own message before anything connects.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from .. import _convert, _request
from .._spec import OPPORTUNITY, Field, ObjectSpec
from ..client import OpportunityClient
from ..errors import RequestValidationError
from ..models import Opportunity
from ._run import Body, SimInfo, Validate, run
from ._settings import ENV_HELP, UsageError, flag, lenient_int, note
from ._writers import json_line

__all__ = ["add_parsers"]

#: The prospect an opportunity is created for, named as the query filters name it.
_PROSPECT = ("prospect_email", "prospect_id")


def _print_records(records: Sequence[Opportunity], pretty: bool) -> None:
    for record in records:
        if pretty:
            sys.stdout.write(json.dumps(record.to_dict(), ensure_ascii=False, indent=2) + "\n")
        else:
            sys.stdout.write(json_line(record))
    sys.stdout.flush()


def _id(text: str) -> int:
    return _request.validate_id("opportunity_id", lenient_int(text))


def _validate_one_id(args: argparse.Namespace, offline: OpportunityClient) -> None:
    _id(args.id)


# -- read -------------------------------------------------------------------------------------------


def _validate_read(args: argparse.Namespace, offline: OpportunityClient) -> None:
    for text in args.ids:
        _id(text)


async def _read(client: OpportunityClient, args: argparse.Namespace, sim: SimInfo | None) -> int:
    ids = [_id(text) for text in args.ids]
    records = await client.read_many(ids, missing=args.missing)
    _print_records(records, args.pretty)
    found = {record.id for record in records}
    skipped = [str(i) for i in dict.fromkeys(ids) if i not in found]
    if skipped:
        note("not found, skipped: " + " ".join(skipped))
    return 0


# -- create and update ------------------------------------------------------------------------------


def _is_int(field: Field) -> bool:
    """Whether a field's flag takes an integer: its wire value is one."""
    return field.parse is _convert.integer


def _field_value(args: argparse.Namespace, field: Field) -> Any:
    value = getattr(args, field.name)
    return lenient_int(value) if _is_int(field) else value


def _create_fields(args: argparse.Namespace) -> dict[str, Any]:
    fields = {f.name: _field_value(args, f) for f in OPPORTUNITY.record.editable}
    for name in _PROSPECT:
        rule = OPPORTUNITY.filter(name)
        value = getattr(args, name)
        fields[name] = lenient_int(value) if rule is not None and rule.cli_int else value
    return fields


def _validate_create(args: argparse.Namespace, offline: OpportunityClient) -> None:
    _request.build_create(**_create_fields(args))


async def _create(client: OpportunityClient, args: argparse.Namespace, sim: SimInfo | None) -> int:
    _print_records([await client.create(**_create_fields(args))], args.pretty)
    return 0


def _update_fields(args: argparse.Namespace) -> dict[str, Any]:
    editable = OPPORTUNITY.record.editable
    fields = {f.name: _field_value(args, f) for f in editable if getattr(args, f.name) is not None}
    optional = [f.name for f in editable if not f.required]
    for name in args.clear or ():
        if name not in optional:
            raise RequestValidationError("clear", name, "an optional field: " + ", ".join(optional))
        if name in fields:
            raise RequestValidationError("clear", name, f"a field not also set with {flag(name)}")
        fields[name] = None
    return fields


def _validate_update(args: argparse.Namespace, offline: OpportunityClient) -> None:
    fields = _update_fields(args)
    if not fields:
        raise UsageError("nothing to change: give at least one field flag (--name, --stage, ...) or --clear")
    _request.build_update(_id(args.id), fields)


async def _update(client: OpportunityClient, args: argparse.Namespace, sim: SimInfo | None) -> int:
    _print_records([await client.update(_id(args.id), **_update_fields(args))], args.pretty)
    return 0


# -- delete and undelete ----------------------------------------------------------------------------


async def _delete(client: OpportunityClient, args: argparse.Namespace, sim: SimInfo | None) -> int:
    await client.delete(_id(args.id))
    sys.stdout.write(f"deleted opportunity {_id(args.id)}\n")
    return 0


async def _undelete(client: OpportunityClient, args: argparse.Namespace, sim: SimInfo | None) -> int:
    await client.undelete(_id(args.id))
    sys.stdout.write(f"restored opportunity {_id(args.id)}\n")
    return 0


# -- the parsers ------------------------------------------------------------------------------------


def _runner(body: Body, validate: Validate) -> Any:
    return lambda args: run(args, body, validate)


def _add_field_flags(parser: argparse.ArgumentParser, spec: ObjectSpec[Any], *, create: bool) -> None:
    group = parser.add_argument_group("fields")
    for f in spec.record.editable:
        required = create and f.required and not f.optional_on_create
        group.add_argument(flag(f.name), metavar=f.metavar, help=f.help + (" (required)" if required else ""))
    if create:
        for name in _PROSPECT:
            rule = spec.filter(name)
            assert rule is not None
            group.add_argument(flag(name), metavar=rule.metavar, help=f"the prospect: {rule.help}")


def add_parsers(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    parent: argparse.ArgumentParser,
    spec: ObjectSpec[Any] = OPPORTUNITY,
) -> None:
    """Add read, create, update, delete and undelete to the ``aeopp`` parser."""

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return subparsers.add_parser(
            name, parents=[parent], formatter_class=argparse.RawDescriptionHelpFormatter, help=text,
            epilog=ENV_HELP,
        )  # fmt: skip

    read = command("read", "read opportunities by id")
    read.add_argument("ids", nargs="+", metavar="ID")
    read.add_argument("--pretty", action="store_true", help="indented JSON")
    read.add_argument("--missing", choices=("raise", "skip"), default="raise",
                      help="an id that isn't there: raise an error (the default), or skip it, "
                      "naming it on stderr")  # fmt: skip
    read.set_defaults(func=_runner(_read, _validate_read))

    create = command("create", "create an opportunity")
    _add_field_flags(create, spec, create=True)
    create.add_argument("--pretty", action="store_true", help="indented JSON")
    create.set_defaults(func=_runner(_create, _validate_create))

    update = command("update", "change an opportunity")
    update.add_argument("id", metavar="ID")
    _add_field_flags(update, spec, create=False)
    update.add_argument("--clear", action="append", metavar="FIELD",
                        help="set an optional field to nothing (repeatable)")  # fmt: skip
    update.add_argument("--pretty", action="store_true", help="indented JSON")
    update.set_defaults(func=_runner(_update, _validate_update))

    for name, body, text in (("delete", _delete, "delete an opportunity"),
                             ("undelete", _undelete, "restore a deleted opportunity")):  # fmt: skip
        sub = command(name, text)
        sub.add_argument("id", metavar="ID")
        sub.set_defaults(func=_runner(body, _validate_one_id))
