"""The tenant directory the scheduling look-ups read: departments, profiles, room levels, switches.

Users, calendars, rooms and chats themselves live in :class:`sandbox.state.World`; this holds what
only the directory endpoints (people search, profiles, room search) and the undocumented
scheduling endpoints need, so the older route modules never see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Department:
    department_id: str  # od-…
    name: str
    en_name: str
    parent_id: str = "0"  # "0" is the tenant's root department


@dataclass
class Profile:
    """Directory facts about one user beyond :class:`sandbox.state.User`."""

    department_ids: list[str]
    job_title: str = ""
    city: str = ""


@dataclass
class RoomLevel:
    """A node of the room tree (city, building, floor): ``omb_…`` ids, as vc/v1/room_levels has them."""

    room_level_id: str
    name: str
    parent_id: str = "0"


@dataclass
class RoomDetail:
    """What vc/v1/rooms/search says about a room beyond :class:`sandbox.state.MeetingRoom`."""

    room_level_id: str  # the floor
    display_id: str
    description: str = ""
    needs_approval: bool = False
    devices: list[str] = field(default_factory=list)


@dataclass
class Directory:
    departments: dict[str, Department] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)  # by open_id
    levels: dict[str, RoomLevel] = field(default_factory=dict)
    room_details: dict[str, RoomDetail] = field(default_factory=dict)  # by room_id
    # The two endpoints only Feishu's own CLI uses (scheduling-api.md §3.4, §4.5); a test turns
    # them off to see a client fall back to the documented path.
    undocumented_endpoints: bool = True

    def level_path(self, level_id: str) -> list[str]:
        """Level ids from the root down to ``level_id`` (vc/v1 rooms' ``path``)."""
        path: list[str] = []
        while level_id in self.levels:
            path.insert(0, level_id)
            level_id = self.levels[level_id].parent_id
        return path

    def level_names(self, level_id: str) -> list[str]:
        return [self.levels[i].name for i in self.level_path(level_id)]
