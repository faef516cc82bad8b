"""What counts as "the event shows this write", and where notes go in each kind of result."""

from __future__ import annotations

from server.writes import with_notes
from tools.attendees import add_attendees, remove_attendees
from tools.common.outputs import Done, EventResult, FeishuData, ItemPage
from tools.events import event_differs, update_event


def test_an_event_shows_a_write_field_by_field_as_feishu_echoes_it() -> None:
    sent = {
        "summary": "Sync",
        "start_time": {"timestamp": "1803878100", "timezone": "UTC"},
        "location": {"name": "Room 1"},
        "reminders": [{"minutes": 5}],
        "need_notification": False,  # never echoed: not compared
    }
    seen = {
        "event": {
            "summary": "Sync",
            "start_time": {"timestamp": 1803878100, "timezone": "UTC"},  # a number for a string
            "location": {"name": "Room 1", "address": "Floor 3"},  # more than was sent
            "reminders": [{"minutes": 5}],
        }
    }
    assert event_differs(sent, seen) == []
    moved = {"event": {**seen["event"], "start_time": {"timestamp": "1803881700", "timezone": "UTC"}}}
    (difference,) = event_differs(sent, moved)
    assert difference.startswith("start_time is {'timestamp': '1803881700'")
    assert difference.endswith("not {'timestamp': '1803878100', 'timezone': 'UTC'}")
    assert event_differs(sent, {"event": {}}) == []  # fields the read does not return are not judged


def test_attendee_lists_show_additions_and_removals() -> None:
    assert add_attendees.read_back is not None and remove_attendees.read_back is not None
    added = add_attendees.read_back.differs
    sent = {"attendees": [{"type": "user", "user_id": "ou_1"}, {"type": "third_party", "third_party_email": "A@x.io"}]}
    listed = {"items": [{"type": "user", "user_id": "ou_1"}, {"type": "third_party", "third_party_email": "a@x.io"}]}
    assert added(sent, listed) == []
    assert added(sent, {"items": listed["items"][:1]}) == ["third_party a@x.io is not an attendee"]
    assert added(sent, {"items": [], "has_more": True}) == []  # an incomplete list cannot tell
    removed = remove_attendees.read_back.differs
    assert removed({"attendee_ids": ["user_1"]}, {"items": [{"attendee_id": "user_2"}]}) == []
    assert removed({"attendee_ids": ["user_1"]}, {"items": [{"attendee_id": "user_1"}]}) == [
        "user_1 is an attendee again"
    ]
    assert update_event.read_back is not None and update_event.read_back.differs is event_differs


def test_notes_go_where_each_result_can_carry_them() -> None:
    assert with_notes(EventResult(event={}, warnings=["overlap"]), ["late"]) == EventResult(
        event={}, warnings=["overlap", "late"]
    )
    assert with_notes(ItemPage(items=[]), ["late"]) == ItemPage(items=[], warnings=["late"])
    assert with_notes(Done(detail="attendees removed"), ["late"]) == Done(detail="attendees removed; late")
    assert with_notes(FeishuData(data={"doc_url": "u"}), ["late"]) == FeishuData(
        data={"doc_url": "u", "warnings": ["late"]}
    )
