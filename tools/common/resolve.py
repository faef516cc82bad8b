"""Names to ids: people (search/v1/user), rooms (vc/v1/rooms/search); chats and calendars use
the same :func:`settle`.

Every name any tool takes goes through :func:`settle`: the user's pick for it (``Picks``, see
server/choose.py) wins; one match is used; several that fit equally well are a
:class:`NotResolved` listing the candidates with what tells them apart (department, city, job
title, email; capacity for rooms), which the server turns into a question to the user or, where
the client cannot ask, a tool error. A person's id (``ou_…``) or a room's (``omm_…``) is used as given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from pydantic import AfterValidator

from tools.common.composite import Endpoint, JsonObject, Refusal, Request, Upstream
from tools.common.profiles import PROFILE, PROFILES, Person, Profiles, person_from, with_profiles

__all__ = ["PROFILE", "PROFILES", "Person"]  # re-exported: the tools name them with the look-ups

SEARCH_USER = Endpoint("search_people", "GET", "/open-apis/search/v1/user", ("contact:user:search",))
ROOM_SEARCH = Endpoint("search_rooms", "POST", "/open-apis/vc/v1/rooms/search", ("vc:room:readonly", "vc:room"))
USER_INFO = Endpoint("who_am_i", "GET", "/open-apis/authen/v1/user_info", ())
# Words for the signed-in user: searched as names, "me" found Han Meimei ("me" is part of "Meimei").
SELF_WORDS = frozenset({"me", "myself", "i", "我", "我自己", "自己", "本人"})
T = TypeVar("T")


def _name_text(value: str) -> str:
    # Checked here rather than published as minLength/maxLength (context in every tools/list).
    if not 1 <= len(value.strip()) <= 64:
        raise ValueError("a name or id is 1-64 characters")
    return value.strip()


NameText = Annotated[str, AfterValidator(_name_text)]  # a person's, chat's or room's name, or its id
Picks = Mapping[str, str]  # the id the user picked, per name that meant several (server/choose.py)
NO_PICKS: Picks = {}


class NotResolved(Refusal):
    """A name that matched nobody, or several people/rooms equally: the message lists the choices.

    ``groups`` holds (name, its candidates) per name, so the user can be asked about each.
    """

    def __init__(self, message: str, candidates: Sequence[Candidate] = (), name: str = "") -> None:
        super().__init__(message)
        self.candidates = list(candidates)
        self.groups: list[tuple[str, list[Candidate]]] = [(name, self.candidates)] if name else []

    @classmethod
    def combine(cls, problems: Sequence[NotResolved]) -> NotResolved:
        combined = cls("\n".join(str(p) for p in problems), [c for p in problems for c in p.candidates])
        combined.groups = [group for p in problems for group in p.groups]
        return combined


@dataclass(frozen=True)
class Candidate:
    """A person or room a name may mean, with what tells it apart from the others."""

    id: str
    name: str
    detail: str = ""  # e.g. "Backend, Shanghai, Backend engineer" or "6 seats"

    def label(self) -> str:
        return f"{self.name} ({self.detail}; {self.id})" if self.detail else f"{self.name} ({self.id})"


def settle(
    name: str, candidates: Sequence[Candidate], what: str, nobody: str, hint: str = ""
) -> Candidate | NotResolved:
    """The one candidate ``name`` means, or why not: the single rule every name of every tool follows.

    ``what`` names the kind in the plural ("people", "rooms"); ``nobody`` is the message when
    nothing matches; ``hint`` is added when several match (e.g. a scope that would tell them apart).
    """
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        return NotResolved(nobody, (), name)
    listed = "; ".join(c.label() for c in candidates)
    return NotResolved(f'"{name}" matches {len(candidates)} {what}: {listed}{hint}', candidates, name)


async def search_people(up: Upstream, query: str, limit: int) -> tuple[Profiles, bool]:
    """People whose name matches ``query``, with profiles where the user's scopes allow."""
    found = await up.send(Request(SEARCH_USER, query=[("query", query), ("page_size", str(limit))]))
    users = [u for u in found.get("users") or [] if isinstance(u, dict) and u.get("open_id")]
    return await with_profiles(up, users), bool(found.get("has_more"))


def is_person_id(text: str) -> bool:
    return text.startswith("ou_")


def best_matches(name: str, people: Sequence[Person]) -> list[Person]:
    """The people ``name`` means: exact names if any match exactly, else every match."""
    wanted = name.casefold().replace(" ", "")
    exact = [p for p in people if wanted in (p.name.casefold().replace(" ", ""), p.en_name.casefold().replace(" ", ""))]
    return exact or list(people)


async def lookup_person(up: Upstream, name: str, picks: Picks = NO_PICKS) -> Person | NotResolved:
    """The one person ``name`` (a name, part of one, an ``ou_`` id, or "me") means, or why not."""
    picked = picks.get(name, "")
    if is_person_id(picked):
        return Person(open_id=picked, name=name)
    if is_person_id(name):
        return Person(open_id=name, name=name)
    if name.strip().casefold() in SELF_WORDS:
        me = await up.send(Request(USER_INFO))
        return Person(open_id=str(me.get("open_id") or ""), name=str(me.get("name") or name))
    found = await up.send(Request(SEARCH_USER, query=[("query", name), ("page_size", "10")]))
    users = [u for u in found.get("users") or [] if isinstance(u, dict) and u.get("open_id")]
    matches = best_matches(name, [person_from(u, None) for u in users])
    if len(matches) == 1:
        return matches[0]
    # Profiles only to tell several apart: one match needs no second request.
    profiles = await with_profiles(up, [u for u in users if str(u["open_id"]) in {m.open_id for m in matches}])
    nobody = f'nobody in your organisation is called "{name}" (resigned and external people are not found)'
    choices = [Candidate(p.open_id, p.name, p.detail) for p in profiles.people]
    hint = f". {profiles.hint}" if profiles.hint else ""
    settled = settle(name, choices, "people", nobody, hint)
    return settled if isinstance(settled, NotResolved) else profiles.people[0]


def all_settled(found: Sequence[T | NotResolved]) -> list[T]:
    """What the names meant, in order; every name that did not settle is reported at once
    (so the user is asked about all of them in one question)."""
    problems = [f for f in found if isinstance(f, NotResolved)]
    if problems:
        raise NotResolved.combine(problems)
    return [f for f in found if not isinstance(f, NotResolved)]


async def search_rooms(up: Upstream, keyword: str = "", pages: int = 3) -> list[JsonObject]:
    """Rooms whose name (or city/building/floor name) contains ``keyword``; all bookable rooms if empty."""
    rooms: list[JsonObject] = []
    body: JsonObject = {"page_size": 100, "search_level_name": True}
    if keyword:
        body["keyword"] = keyword
    for _ in range(pages):
        data = await up.send(Request(ROOM_SEARCH, body=dict(body)))
        rooms += [r for r in data.get("rooms") or [] if isinstance(r, dict) and r.get("room_id")]
        if not data.get("has_more") or not data.get("page_token"):
            break
        body["page_token"] = data["page_token"]
    return rooms


def is_room_id(text: str) -> bool:
    return text.startswith("omm_")


async def lookup_room(up: Upstream, name: str, picks: Picks = NO_PICKS) -> JsonObject | NotResolved:
    """The one room ``name`` (part of its name, or an ``omm_`` id) means, or why not."""
    picked = picks.get(name, "")
    if is_room_id(picked) or is_room_id(name):
        return {"room_id": picked or name, "name": name}
    rooms = await search_rooms(up, name, pages=1)
    exact = [r for r in rooms if str(r.get("name", "")).casefold() == name.casefold()]
    matches = exact or rooms
    choices = [Candidate(str(r["room_id"]), str(r.get("name", "")), f"{r.get('capacity', '?')} seats") for r in matches]
    found = settle(name, choices, "rooms", f'no meeting room you may book is called "{name}"')
    return found if isinstance(found, NotResolved) else matches[0]
