"""People: find colleagues by name (the ``people`` toolset)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from tools.common.composite import JsonObject, Upstream
from tools.common.resolve import PROFILE, PROFILES, SEARCH_USER, Person, best_matches, search_people
from tools.spec import Input, Operation, Replay

CANDIDATES = 10  # enough to tell apart; has_more says when a longer name would narrow it


class FindPeopleInput(Input):
    query: Annotated[str, Field(min_length=1, max_length=64, description="Name or part of one (中文 or Latin).")]


class PeopleFound(BaseModel):
    people: list[Person]
    has_more: bool = False
    note: str = ""


async def _gather(inp: FindPeopleInput, up: Upstream) -> JsonObject:
    profiles, has_more = await search_people(up, inp.query, CANDIDATES)
    return {"people": profiles.people, "has_more": has_more, "hint": profiles.hint}


def _note(query: str, people: list[Person], hint: str) -> str:
    if not people:
        if "@" in query:
            return (
                f"Nobody in your organisation matches {query} (search covers names only). The address can still "
                "be invited as an email guest: add_attendees with type=third_party, third_party_email."
            )
        return "Nobody matches (resigned people and other organisations are never found). Try part of the name."
    same = best_matches(query, people)
    notes = [hint + "."] if hint else []
    if len(same) > 1 and len({p.name for p in same}) == 1:
        apart = "; ".join(f"{p.open_id}: {p.detail or 'no profile detail'}" for p in same)
        notes.insert(0, f"{len(same)} people are named {same[0].name}: ask the user which one ({apart}).")
    return " ".join(notes)


def _respond(inp: FindPeopleInput, data: dict[str, Any]) -> PeopleFound:
    people: list[Person] = data["people"]
    note = _note(inp.query, people, str(data["hint"]))
    return PeopleFound(people=people, has_more=bool(data["has_more"]), note=note)


find_people = Operation(
    name="find_people",
    title="Find people",
    description=(
        "Colleagues by name (Chinese or Latin, any part) with open_id, department, city, title. "
        "Example: query='Li Lei'."
    ),
    interface_function="",  # not one of the 23 calendar operations: search/v1/user + contact/v3/users/batch
    method="GET",
    route=SEARCH_USER.route,
    input_model=FindPeopleInput,
    output_model=PeopleFound,
    toolset="people",
    read_only=True,
    destructive=False,
    idempotent=True,
    replay=Replay.SAFE,
    scopes=SEARCH_USER.scopes,
    respond=_respond,
    gather=_gather,
    endpoints=(SEARCH_USER, PROFILES, PROFILE),
)
