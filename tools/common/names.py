"""Attendees by name: people (names, open_ids or email addresses), group chats and rooms by name.

Used by add_attendees, create_event and find_meeting_times. Every name follows
tools/common/resolve.py's :func:`settle`: the user's pick (``picks``) wins, one match is used,
several are a NotResolved the server turns into a question to the user (or a tool error).
A chat's members (for its people's free/busy) are read here too: Feishu lists them to members only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tools.common.composite import Endpoint, JsonObject, Request, Upstream
from tools.common.resolve import (
    NO_PICKS,
    Candidate,
    NotResolved,
    Person,
    Picks,
    all_settled,
    is_room_id,
    lookup_person,
    lookup_room,
    settle,
)

CHAT_SEARCH = Endpoint("search_chats", "GET", "/open-apis/im/v1/chats/search", ("im:chat:readonly", "im:chat"))
CHAT_MEMBERS = Endpoint("chat_members", "GET", "/open-apis/im/v1/chats/{chat_id}/members", ("im:chat:readonly",))
NOT_IN_CHAT = frozenset({232011})  # chat-member/get.md: "the operator must be in the chat"


def is_email(text: str) -> bool:
    return "@" in text and " " not in text.strip()


def is_chat_id(text: str) -> bool:
    return text.startswith("oc_")


async def lookup_chat(up: Upstream, name: str, picks: Picks = NO_PICKS) -> str | NotResolved:
    """The ``oc_`` id of the one group chat called ``name`` among those the user can see: the ones
    they are in and the public ones of their organization (chat search, scheduling-api.md §2.7)."""
    picked = picks.get(name, "")
    if is_chat_id(picked) or is_chat_id(name):
        return picked or name
    found = await up.send(Request(CHAT_SEARCH, query=[("query", name), ("page_size", "20")]))
    chats = [c for c in found.get("items") or [] if isinstance(c, dict) and c.get("chat_id")]
    exact = [c for c in chats if str(c.get("name", "")).casefold() == name.casefold()]
    choices = [Candidate(str(c["chat_id"]), str(c.get("name", ""))) for c in exact or chats]
    found_chat = settle(name, choices, "chats", f'no group chat you can see is called "{name}"')
    return found_chat if isinstance(found_chat, NotResolved) else found_chat.id


async def lookup_attendee(up: Upstream, kind: str, name: str, picks: Picks) -> JsonObject | NotResolved:
    """The Feishu attendee for one name of ``kind`` (user, chat, resource, or "invite": an email, a
    person, else a group chat); the user's pick wins where they were asked (its id says its kind)."""
    picked = picks.get(name, "")
    if kind in ("user", "invite") and is_email(name):
        return {"type": "third_party", "third_party_email": name}
    if kind == "chat" or (kind == "invite" and (is_chat_id(name) or is_chat_id(picked))):
        chat = await lookup_chat(up, name, picks)
        return chat if isinstance(chat, NotResolved) else {"type": "chat", "chat_id": chat}
    if kind == "resource" or is_room_id(picked):
        room = await lookup_room(up, name, picks)
        return room if isinstance(room, NotResolved) else {"type": "resource", "room_id": str(room["room_id"])}
    person = await lookup_person(up, name, picks)
    if isinstance(person, NotResolved) and kind == "invite" and not person.candidates:
        chat = await lookup_chat(up, name)  # nobody by that name: perhaps a group chat
        return person if isinstance(chat, NotResolved) and not chat.candidates else _chat_attendee(chat)
    if isinstance(person, NotResolved):
        return person
    return {"type": "user", "user_id": person.open_id}


def _chat_attendee(chat: str | NotResolved) -> JsonObject | NotResolved:
    return chat if isinstance(chat, NotResolved) else {"type": "chat", "chat_id": chat}


async def people_and_chats(
    up: Upstream, names: Sequence[str], picks: Picks = NO_PICKS
) -> tuple[list[Person], dict[str, str]]:
    """People, and group chats (``oc_`` id -> the name given) for names: a name that is nobody's
    may be a chat's."""
    people: list[Person] = []
    chats: dict[str, str] = {}
    problems: list[NotResolved] = []
    for name in dict.fromkeys(names):
        picked = picks.get(name) or name
        chat: str | NotResolved = picked
        if not is_chat_id(picked):
            person = await lookup_person(up, name, picks)
            if not isinstance(person, NotResolved):
                people.append(person)
                continue
            chat = person if person.candidates else await lookup_chat(up, name)
            if isinstance(chat, NotResolved) and not chat.candidates:
                chat = person  # neither a person nor a chat: say so as for a person
        if isinstance(chat, NotResolved):
            problems.append(chat)
        else:
            chats.setdefault(chat, name)
    if problems:
        raise NotResolved.combine(problems)
    return people, chats


async def attendees_for(up: Upstream, wanted: Sequence[tuple[str, str]], picks: Picks) -> list[JsonObject]:
    """Feishu attendees for (kind, name) pairs; every name that is not one match is reported at once."""
    return all_settled([await lookup_attendee(up, kind, name, picks) for kind, name in dict.fromkeys(wanted)])


def _members_page(chat_id: str, token: str = "") -> Request:
    query = [("member_id_type", "open_id"), ("page_size", "100")] + ([("page_token", token)] if token else [])
    return Request(CHAT_MEMBERS, path={"chat_id": chat_id}, query=query)


async def chat_members(up: Upstream, chats: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """The members of the chats, every page of each (100 a page at most): open_id -> name; and the
    chats whose members Feishu lists only to members (232011: a public chat the user is not in)."""
    answers = await up.send_all_unless([_members_page(c) for c in chats], NOT_IN_CHAT)
    items: list[Any] = []
    for chat_id, first in zip(chats, answers, strict=True):
        answer = first or {}
        items += answer.get("items") or []
        while answer.get("has_more") and answer.get("page_token"):
            answer = await up.send(_members_page(chat_id, str(answer["page_token"])))
            items += answer.get("items") or []
    members = [m for m in items if isinstance(m, dict) and m.get("member_id")]
    unlisted = [chat_id for chat_id, answer in zip(chats, answers, strict=True) if answer is None]
    return {str(m["member_id"]): str(m.get("name") or m["member_id"]) for m in members}, unlisted
