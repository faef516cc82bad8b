"""Colleagues' profiles: what tells two people of one name apart, as far as the user's scopes allow.

Feishu returns each profile field only with its field scope (contact-v3/user/get.md, batch.md):
city and job_title need ``contact:user.employee:readonly``, email ``contact:user.email:readonly``,
and department names come only as ``department_path`` from the single-user read with a user token
and ``contact:user.department_path:readonly`` (the batch read never returns it). A field the
token may not read is left out of the answer, so its absence says which scope is missing: the
people are still shown with what is there (department ids from the search at worst), and
:attr:`Profiles.missing` names each missing field with the scope that would show it, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from tools.common.composite import Endpoint, JsonObject, Request, Upstream

PROFILE_SCOPES = ("contact:contact.base:readonly", "contact:contact:readonly")
# The batch read takes only the first (batch.md); the single read any of them (get.md).
PROFILES = Endpoint("read_profiles", "GET", "/open-apis/contact/v3/users/batch", PROFILE_SCOPES[:1])
PROFILE = Endpoint("read_profile", "GET", "/open-apis/contact/v3/users/{user_id}", PROFILE_SCOPES)
PROFILE_BATCH = 50
DEPARTMENT_IDS = ("department_id_type", "open_department_id")
# Each field we show, the key Feishu leaves out without its scope, and that scope.
FIELD_SCOPES = (
    ("department names", "department_path", "contact:user.department_path:readonly"),
    ("city and job title", "city", "contact:user.employee:readonly"),
    ("email", "email", "contact:user.email:readonly"),
)


# A colleague as the tools show one (find_people's result items). No docstring: a model's docstring
# is published in every tools/list as the description of the items.
class Person(BaseModel):
    open_id: str
    name: str
    en_name: str = ""
    department: str = ""
    job_title: str = ""
    city: str = ""
    email: str = ""

    @property
    def detail(self) -> str:
        return ", ".join(p for p in (self.department, self.city, self.job_title, self.email) if p)


@dataclass
class Profiles:
    """People with what their profiles show, and the fields the user's scopes hid."""

    people: list[Person]
    missing: list[tuple[str, str]] = field(default_factory=list)  # (fields, the scope that shows them)

    @property
    def hint(self) -> str:
        """One compact clause naming each hidden field and its scope ("" when nothing is hidden)."""
        if not self.missing:
            return ""
        hidden = ", ".join(f"{fields} ({scope})" for fields, scope in self.missing)
        scopes = " ".join(f"--scope {scope}" for _, scope in self.missing)
        return (
            f"Hidden for want of scopes: {hidden}; enable them for the Feishu app, "
            f"then `feishu-calendar-mcp login {scopes}`"
        )


def _department(user: JsonObject, profile: JsonObject) -> str:
    """Department names where the profile has them, else the department ids (they still tell apart)."""
    names = []
    for entry in profile.get("department_path") or []:
        label = entry.get("department_name") or {} if isinstance(entry, dict) else {}
        i18n = label.get("i18n_name") or {}
        names.append(str(i18n.get("en_us") or label.get("name") or ""))
    ids = profile.get("department_ids") or user.get("department_ids") or []
    return ", ".join(n for n in names if n) or ", ".join(str(d) for d in ids)


def person_from(user: JsonObject, profile: JsonObject | None) -> Person:
    profile = profile or {}
    return Person(
        open_id=str(user.get("open_id") or profile.get("open_id") or ""),
        name=str(user.get("name") or profile.get("name") or ""),
        en_name=str(profile.get("en_name") or ""),
        department=_department(user, profile),
        job_title=str(profile.get("job_title") or ""),
        city=str(profile.get("city") or ""),
        email=str(profile.get("email") or ""),
    )


def _one(user_id: str) -> Request:
    return Request(PROFILE, query=[DEPARTMENT_IDS], path={"user_id": user_id})


async def with_profiles(up: Upstream, users: Sequence[JsonObject]) -> Profiles:
    """Search hits as people, with department, city, title and email where the user's scopes allow.

    The first profile is read alone: when it carries department names (the user may read them),
    the others are read the same way, in parallel; otherwise the rest come in one batch read.
    """
    ids = [str(u["open_id"]) for u in users]
    if not ids:
        return Profiles([])
    first = await up.send_if_allowed(_one(ids[0]))
    if first is None:  # no profile scope at all: what the search gave
        return Profiles([person_from(u, None) for u in users], [("department names, city, title", PROFILE_SCOPES[0])])
    profiles = {ids[0]: first.get("user") or {}}
    if "department_path" in profiles[ids[0]]:
        for answer in await up.send_all([_one(i) for i in ids[1:]]):
            user = answer.get("user") or {}
            profiles[str(user.get("open_id"))] = user
    else:
        rest = ids[1:]
        for chunk in (rest[i : i + PROFILE_BATCH] for i in range(0, len(rest), PROFILE_BATCH)):
            data = await up.send(Request(PROFILES, query=[("user_ids", i) for i in chunk] + [DEPARTMENT_IDS]))
            profiles |= {str(item.get("open_id")): item for item in data.get("items") or [] if isinstance(item, dict)}
    shown = list(profiles.values())
    missing = [(fields, scope) for fields, key, scope in FIELD_SCOPES if not any(key in p for p in shown)]
    return Profiles([person_from(u, profiles.get(str(u["open_id"]))) for u in users], missing)
