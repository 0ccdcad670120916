"""Where the client's validation and the simulator's knowingly disagree: the table ``DIVERGENCES``.

The client refuses doubtful input before any I/O (``RequestValidationError``); the simulator answers
what Pardot is believed to answer. Where the two differ on purpose, the difference is listed in
``DIVERGENCES`` below (what, the client's behaviour, the simulator's, and why), with examples. Each
example is checked on both sides: the client through its public API against a running simulator
(refused before any request, or sent), the simulator with raw HTTP (its answer or error code).
A divergence found later belongs in this table, not in a comment elsewhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import attrs
import pytest

import aeopp
from aeopp._constants import ERROR_MESSAGES
from aeopp.testing import PardotSimulator, StoredOpportunity

pytestmark = pytest.mark.anyio

UTC = timezone.utc
ACCOUNT_TZ = ZoneInfo("America/New_York")  # the simulator's default account time zone
#: The simulator's clock in these tests, so that "today" is always the same day.
NOW = datetime(2025, 6, 15, 16, 0, tzinfo=UTC)
#: The record the update examples change (always in the seeded data).
RECORD_ID = 1234
#: Prospects added to the seeded data, each with one opportunity, for the email examples.
EXTRA_EMAILS = ("jane doe@example.com", "jane@localhost")


@attrs.frozen
class Query:
    """A query: ``arguments`` are the client's keyword arguments, sent on the wire as ``str(value)``.

    ``client_refuses`` names the parameter of the client's ``RequestValidationError`` (None: the
    client sends the request). ``simulator_code`` is the simulator's error code (None: it answers);
    then it answers exactly the stored records for which ``matches`` holds (in id order, at most
    ``limit``), and, with ``same_as``, the very body it gives to that other query.
    """

    arguments: Mapping[str, object]
    client_refuses: str | None = None
    simulator_code: int | None = None
    matches: Callable[[StoredOpportunity], bool] | None = None
    same_as: Mapping[str, object] | None = None


@attrs.frozen
class Update:
    """An update of record ``RECORD_ID`` with ``fields`` (sent as ``str(value)`` in the form body).

    ``client_refuses`` and ``simulator_code`` as for :class:`Query`; when the simulator answers,
    ``then(before, after)`` holds of the stored record.
    """

    fields: Mapping[str, object]
    client_refuses: str | None = None
    simulator_code: int | None = None
    then: Callable[[StoredOpportunity, StoredOpportunity], bool] | None = None


Example = Query | Update


@attrs.frozen
class Divergence:
    """One known, deliberate difference: ``what`` input, how the ``client`` and the ``simulator``
    treat it, ``why``, and ``examples`` that show it on both sides."""

    what: str
    client: str
    simulator: str
    why: str
    examples: tuple[Example, ...]


def _created_after(when: datetime) -> Callable[[StoredOpportunity], bool]:
    return lambda r: r.created_at > when


def _unchanged_but_updated_at(before: StoredOpportunity, after: StoredOpportunity) -> bool:
    return after == attrs.evolve(before, updated_at=after.updated_at)


DIVERGENCES: tuple[Divergence, ...] = (
    Divergence(
        what="probability filter of 0",
        client="refuses: probability filters take 1 to 100",
        simulator="answers: probability filters take 0 to 100 (41 outside)",
        why="The reference documents the filters as 1-100 but the probability field as 0-100; the client "
        "keeps to the filters' documentation, the simulator guesses Pardot accepts the field's range.",
        examples=(
            Query(
                {"probability_greater_than": 0},
                client_refuses="probability_greater_than",
                matches=lambda r: r.probability > 0,
            ),
            Query(
                {"probability_less_than": 0},
                client_refuses="probability_less_than",
                matches=lambda r: False,
            ),
        ),
    ),
    Divergence(
        what="equal bounds (id_greater_than == id_less_than; the same for probability and value)",
        client="refuses: the range is empty",
        simulator="answers no record; 17 / 41 / 43 only when the lower bound is above the upper one",
        why="An empty range can only be a mistake, so the client stops it; the reference gives codes 17, "
        "41 and 43 for invalid ranges without saying whether an empty one is invalid: the simulator "
        "keeps them for inverted ranges.",
        examples=(
            Query(
                {"id_greater_than": 1234, "id_less_than": 1234},
                client_refuses="id_greater_than",
                matches=lambda r: False,
            ),
            Query(
                {"probability_greater_than": 50, "probability_less_than": 50},
                client_refuses="probability_greater_than",
                matches=lambda r: False,
            ),
            Query(
                {"value_greater_than": 100, "value_less_than": 100},
                client_refuses="value_greater_than",
                matches=lambda r: False,
            ),
            Query(
                {"id_greater_than": 1235, "id_less_than": 1234},
                client_refuses="id_greater_than",
                simulator_code=17,
            ),
        ),
    ),
    Divergence(
        what="decimal value filters",
        client="refuses anything but an integer (int only: no Decimal, float or string)",
        simulator="answers: value filters take any decimal (43 otherwise)",
        why="The reference types value_greater_than / value_less_than as integers; the value field has "
        "decimals, so the simulator guesses Pardot compares decimals too.",
        examples=(
            Query(
                {"value_greater_than": Decimal("99.5")},
                client_refuses="value_greater_than",
                matches=lambda r: r.value > Decimal("99.5"),
            ),
            Query(
                {"value_less_than": "1000.25"},
                client_refuses="value_less_than",
                matches=lambda r: r.value < Decimal("1000.25"),
            ),
        ),
    ),
    Divergence(
        what="an unknown query parameter",
        client="refuses any name that is not a filter (a typo would widen the query silently)",
        simulator="ignores one unknown parameter among known ones; code 5 only when none is known",
        why="Code 5 is documented as 'none of the search parameters was recognised'.",
        examples=(
            Query(
                {"id_greater_than": 1234, "colour": "red"},
                client_refuses="colour",
                matches=lambda r: r.id > 1234,
                same_as={"id_greater_than": 1234},
            ),
            Query({"colour": "red"}, client_refuses="colour", simulator_code=5),
        ),
    ),
    Divergence(
        what="id filters below their natural bound",
        client="refuses: id_greater_than takes 0 (from the start) to 2**63 - 1, id_less_than 1 to 2**63 - 1",
        simulator="answers: id filters take any integer (16 otherwise)",
        why="The reference says 'any positive integer'; the simulator is lenient, as every id is above "
        "0 and Pardot is only documented to answer 16 for what is not an integer.",
        examples=(
            Query({"id_greater_than": -1}, client_refuses="id_greater_than", matches=lambda r: True),
            Query({"id_less_than": 0}, client_refuses="id_less_than", matches=lambda r: False),
            Query({"id_less_than": -5}, client_refuses="id_less_than", matches=lambda r: False),
        ),
    ),
    Divergence(
        what="an unknown output",
        client="refuses: output is one of full, simple, mobile, bulk",
        simulator="answers as output=full",
        why="The client stops a typo; the simulator guesses Pardot falls back to its default output.",
        examples=(
            Query(
                {"output": "compact"},
                client_refuses="output",
                matches=lambda r: True,
                same_as={"output": "full"},
            ),
        ),
    ),
    Divergence(
        what="a limit above 200 with output=mobile",
        client="refuses: query_page's limit is 1 to 200 for every output (limit=None takes every match)",
        simulator="answers up to that many records: output=mobile has no 200 cap",
        why="The reference says output=mobile is uncapped; the client reaches that by leaving the limit "
        "out rather than by a number it can't check against any documented maximum.",
        examples=(
            Query(
                {"output": "mobile", "limit": 500},
                client_refuses="limit",
                matches=lambda r: True,
            ),
        ),
    ),
    Divergence(
        what="date keywords in another case",
        client="refuses: only today, yesterday, last_7_days, this_month, last_month as written",
        simulator="answers: keywords in any case, spaces around them ignored",
        why="The reference lists the keywords in lower case and points to GNU date syntax, which "
        "ignores case; the client sends only the documented spelling.",
        examples=(
            Query(
                {"created_after": "TODAY"},
                client_refuses="created_after",
                matches=_created_after(datetime(2025, 6, 15, tzinfo=ACCOUNT_TZ)),
                same_as={"created_after": "today"},
            ),
        ),
    ),
    Divergence(
        what="other timestamp forms",
        client="refuses all but YYYY-MM-DD[(space or T)HH:MM[:SS[.f]]] with Z or +HH:MM / +HHMM",
        simulator="answers one-digit months, days and hours, UTC / GMT and +HH offsets too (7 otherwise)",
        why="The reference says 'GNU date input syntax'; the simulator reads a few more of its forms, "
        "the client only forms it can normalise into the API's own YYYY-MM-DD HH:MM:SS.",
        examples=(
            Query(
                {"created_after": "2020-1-5"},
                client_refuses="created_after",
                matches=_created_after(datetime(2020, 1, 5, tzinfo=ACCOUNT_TZ)),
            ),
            Query(
                {"created_after": "2020-01-05 08:00 UTC"},
                client_refuses="created_after",
                matches=_created_after(datetime(2020, 1, 5, 8, tzinfo=UTC)),
            ),
            Query(
                {"created_before": "2021-03-01T00:00:00+05"},
                client_refuses="created_before",
                matches=lambda r: r.created_at < datetime(2021, 2, 28, 19, tzinfo=UTC),
            ),
        ),
    ),
    Divergence(
        what="a created range the client can't compare (a keyword against a date)",
        client="sends it: it can't know the server's 'today' in the account's time zone",
        simulator="answers 8 when the start is after the end",
        why="Resolving keywords needs the server's clock and the account's time zone.",
        examples=(
            Query(
                {"created_after": "today", "created_before": "2000-01-01"},
                simulator_code=8,
            ),
        ),
    ),
    Divergence(
        what="an empty filter value",
        client="refuses it (an empty email, id or date is not a value)",
        simulator="reads an empty query parameter as absent",
        why="The simulator guesses an empty parameter counts as absent (as 'limit=' does); the client "
        "stops what is likely a missing value in the caller's code.",
        examples=(
            Query(
                {"prospect_email": ""},
                client_refuses="prospect_email",
                matches=lambda r: True,
                same_as={},
            ),
        ),
    ),
    Divergence(
        what="email syntax",
        client="takes an address whose local part has spaces; refuses a domain without a dot",
        simulator="refuses any whitespace (4); takes any domain",
        why="Neither side knows Pardot's exact rule (the reference: 'invalid syntax' answers 4); the "
        "client checks the shape of an address, the simulator a looser one-'@'-no-space pattern.",
        examples=(
            Query({"prospect_email": "jane doe@example.com"}, simulator_code=4),
            Query(
                {"prospect_email": "jane@localhost"},
                client_refuses="prospect_email",
                matches=lambda r: r.name == "Opportunity of jane@localhost",
            ),
        ),
    ),
    Divergence(
        what="a status other than won, lost or open",
        client="refuses it (and sends won / lost / open in lower case)",
        simulator="stores any string",
        why="The reference lists won, lost and open, but its sample record says 'Open': the simulator "
        "doesn't guess which spellings Pardot keeps.",
        examples=(
            Update(
                {"status": "pending"},
                client_refuses="status",
                then=lambda before, after: after.status == "pending",
            ),
        ),
    ),
    Divergence(
        what="a name of spaces only",
        client="refuses it: a name must have a visible character",
        simulator="stores it; only an empty name is refused (36 on update)",
        why="Pardot is only known to refuse a missing required value.",
        examples=(
            Update({"name": "   "}, client_refuses="name", then=lambda before, after: after.name == "   "),
        ),
    ),
    Divergence(
        what="an update without an editable field",
        client="refuses an empty update, and any field that isn't editable",
        simulator="ignores what it doesn't know and answers the record (updated_at moves)",
        why="The reference says nothing about either; the client stops a call that can't do what "
        "its caller meant.",
        examples=(
            Update({}, client_refuses="fields", then=_unchanged_but_updated_at),
            Update(
                {"created_at": "2020-01-01"},
                client_refuses="created_at",
                then=_unchanged_but_updated_at,
            ),
        ),
    ),
)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


CASES = [
    pytest.param(divergence, example, id=f"{_slug(divergence.what)}-{i}")
    for divergence in DIVERGENCES
    for i, example in enumerate(divergence.examples)
]


def _wire(values: Mapping[str, object]) -> dict[str, str]:
    return {name: str(value) for name, value in values.items()}


@pytest.fixture
async def sim() -> AsyncIterator[PardotSimulator]:
    async with PardotSimulator(250, seed=4) as sim:
        sim.settings.clock = lambda: NOW
        for email in EXTRA_EMAILS:
            prospect = sim.store.add_prospect(email)
            sim.store.create(
                name=f"Opportunity of {email}", value=10, probability=10, prospect_id=prospect.id
            )
        yield sim


@pytest.fixture
async def session(sim: PardotSimulator) -> AsyncIterator[aiohttp.ClientSession]:
    creds = sim.credentials
    headers = {
        "Authorization": f"Bearer {creds.access_token}",
        "Pardot-Business-Unit-Id": creds.business_unit_id,
    }
    async with aiohttp.ClientSession(sim.base_url, headers=headers) as session:
        yield session


def test_every_entry_is_a_divergence() -> None:
    """Each entry has an example where one side refuses and the other doesn't; prose is filled in."""
    for divergence in DIVERGENCES:
        assert all((divergence.what, divergence.client, divergence.simulator, divergence.why))
        assert any((e.client_refuses is None) != (e.simulator_code is None) for e in divergence.examples)
        for example in divergence.examples:
            assert example.client_refuses is not None or example.simulator_code is not None


# -- the client's side ------------------------------------------------------------------------------


async def _by_client(client: aeopp.OpportunityClient, example: Example) -> object:
    if isinstance(example, Query):
        return await client.query_page(**example.arguments)
    return await client.update(RECORD_ID, **example.fields)


@pytest.mark.parametrize(("divergence", "example"), CASES)
async def test_the_client_behaves_as_listed(
    sim: PardotSimulator, divergence: Divergence, example: Example
) -> None:
    creds = sim.credentials
    auth = aeopp.BearerAuth(creds.access_token, creds.business_unit_id)
    async with aeopp.OpportunityClient(auth=auth, base_url=sim.base_url) as client:
        before = sim.stats.requests
        if example.client_refuses is None:
            with pytest.raises(aeopp.PardotError) as sent:
                await _by_client(client, example)
            assert sent.value.code == example.simulator_code
            assert sim.stats.requests > before
            return
        with pytest.raises(aeopp.RequestValidationError) as refused:
            await _by_client(client, example)
        assert refused.value.parameter == example.client_refuses
        if isinstance(example, Query) and "limit" not in example.arguments:  # query() has page_size
            with pytest.raises(aeopp.RequestValidationError) as refused:
                client.query(**example.arguments)  # a walk checks its arguments when made
            assert refused.value.parameter == example.client_refuses
        assert sim.stats.requests == before


# -- the simulator's side ---------------------------------------------------------------------------


async def _raw_query(session: aiohttp.ClientSession, arguments: Mapping[str, object]) -> str:
    params = {"format": "json", **_wire(arguments)}
    async with session.get("/api/opportunity/version/4/do/query", params=params) as response:
        assert response.status == 200
        return await response.text()


async def _raw_update(session: aiohttp.ClientSession, fields: Mapping[str, object]) -> str:
    path = f"/api/opportunity/version/4/do/update/id/{RECORD_ID}"
    async with session.post(path, params={"format": "json"}, data=_wire(fields)) as response:
        assert response.status == 200
        return await response.text()


def _records(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The opportunities of a JSON query answer (one record comes as an object, none as no key)."""
    found = result.get("opportunity", [])
    return [found] if isinstance(found, dict) else list(found)


@pytest.mark.parametrize(("divergence", "example"), CASES)
async def test_the_simulator_behaves_as_listed(
    sim: PardotSimulator, session: aiohttp.ClientSession, divergence: Divergence, example: Example
) -> None:
    before = sim.store.get(RECORD_ID)
    if isinstance(example, Query):
        text = await _raw_query(session, example.arguments)
    else:
        text = await _raw_update(session, example.fields)
    answer = json.loads(text)
    if example.simulator_code is not None:
        code = example.simulator_code
        assert answer == {
            "@attributes": {"stat": "fail", "version": 1, "err_code": code},
            "err": ERROR_MESSAGES[code],
        }
        return
    assert answer["@attributes"]["stat"] == "ok", answer
    if isinstance(example, Update):
        assert example.then is not None
        after = sim.store.get(RECORD_ID)
        assert example.then(before, after)
        assert answer["opportunity"]["id"] == RECORD_ID
        return
    assert example.matches is not None
    expected = [r.id for r in sim.store.all() if example.matches(r)]
    limit = int(str(example.arguments.get("limit", 200)))
    assert answer["result"]["total_results"] == len(expected)
    assert [r["id"] for r in _records(answer["result"])] == expected[:limit]
    if example.same_as is not None:
        assert text == await _raw_query(session, example.same_as)
