"""Attendees by name: people (names, open_ids or email addresses), group chats and rooms by name.

Used by add_attendees and create_event. One match is used; several are a NotResolved listing
the candidates, which the server turns into a question to the user where the client can ask
(``choices`` then carries the user's pick per name) and into a tool error otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tools.common.composite import Endpoint, JsonObject, Request, Upstream
from tools.common.resolve import Candidate, NotResolved, Person, lookup_person, lookup_room

CHAT_SEARCH = Endpoint("search_chats", "GET", "/open-apis/im/v1/chats/search", ("im:chat:readonly", "im:chat"))


def is_email(text: str) -> bool:
    return "@" in text and " " not in text.strip()


async def lookup_chat(up: Upstream, name: str) -> str | NotResolved:
    """The ``oc_`` id of the one group chat called ``name`` (that the user is in)."""
    if name.startswith("oc_"):
        return name
    found = await up.send(Request(CHAT_SEARCH, query=[("query", name), ("page_size", "20")]))
    chats = [c for c in found.get("items") or [] if isinstance(c, dict) and c.get("chat_id")]
    exact = [c for c in chats if str(c.get("name", "")).casefold() == name.casefold()]
    matches = exact or chats
    if len(matches) == 1:
        return str(matches[0]["chat_id"])
    if not matches:
        return NotResolved(f'no group chat you are in is called "{name}"', (), name)
    choices = [Candidate(str(c["chat_id"]), str(c.get("name", ""))) for c in matches]
    return NotResolved(f'"{name}" matches {len(matches)} chats: {"; ".join(c.label() for c in choices)}', choices, name)


async def lookup_attendee(up: Upstream, kind: str, name: str, choices: Mapping[str, str]) -> JsonObject | NotResolved:
    """The Feishu attendee for one name of ``kind`` (user, chat, resource, or "invite": an email, a
    person, else a group chat); the user's pick wins where they were asked."""
    picked = choices.get(name)
    if kind in ("user", "invite") and is_email(name):
        return {"type": "third_party", "third_party_email": name}
    if kind == "chat" or (kind == "invite" and name.startswith("oc_")):
        chat = picked or await lookup_chat(up, name)
        return chat if isinstance(chat, NotResolved) else {"type": "chat", "chat_id": chat}
    if kind == "resource":
        room = {"room_id": picked} if picked else await lookup_room(up, name)
        return room if isinstance(room, NotResolved) else {"type": "resource", "room_id": str(room["room_id"])}
    person = picked or await lookup_person(up, name)
    if isinstance(person, NotResolved) and kind == "invite" and not person.candidates:
        chat = await lookup_chat(up, name)  # nobody by that name: perhaps a group chat
        return person if isinstance(chat, NotResolved) else {"type": "chat", "chat_id": chat}
    if isinstance(person, NotResolved):
        return person
    return {"type": "user", "user_id": person if isinstance(person, str) else person.open_id}


async def people_and_chats(up: Upstream, names: Sequence[str]) -> tuple[list[Person], list[str]]:
    """People and group chats (``oc_`` ids) for names: a name that is nobody's may be a chat's."""
    people: list[Person] = []
    chats: list[str] = []
    problems: list[NotResolved] = []
    for name in dict.fromkeys(names):
        chat: str | NotResolved = name
        if not name.startswith("oc_"):
            person = await lookup_person(up, name)
            if not isinstance(person, NotResolved):
                people.append(person)
                continue
            chat = person if person.candidates else await lookup_chat(up, name)
            if isinstance(chat, NotResolved) and not person.candidates:
                chat = person  # neither a person nor a chat: say so as for a person
        if isinstance(chat, NotResolved):
            problems.append(chat)
        else:
            chats.append(chat)
    if problems:
        raise NotResolved.combine(problems)
    return people, chats


async def attendees_for(
    up: Upstream, wanted: Sequence[tuple[str, str]], choices: Mapping[str, str]
) -> list[JsonObject]:
    """Feishu attendees for (kind, name) pairs; every name that is not one match is reported at once."""
    found = [await lookup_attendee(up, kind, name, choices) for kind, name in dict.fromkeys(wanted)]
    problems = [f for f in found if isinstance(f, NotResolved)]
    if problems:
        raise NotResolved.combine(problems)
    return [f for f in found if not isinstance(f, NotResolved)]
