"""The tenant directory around the seed people: 30+ colleagues in departments, rooms in buildings
and floors, group chats, the demo user's subscribed calendars, and everyone's busy time.

Built after :mod:`sandbox.seed` (it reuses its people, rooms and chat) from ``now``: busy time is
weekly series that started the week before ``now``'s week, so any "this week"/"next week" has
them, whatever day the clock says. Names are chosen for the scheduling cases: two 张伟 (Zhang
Wei) in different departments and cities, one resigned colleague (赵敏), one colleague whose
calendar is private (陈静: free/busy unreadable), and the partner from another tenant (seed.py).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sandbox import eventstore, seed
from sandbox.directory import Department, Profile, RoomDetail, RoomLevel
from sandbox.state import Event, TimeInfo

if TYPE_CHECKING:
    from sandbox.core import Core

ZONE = "Asia/Shanghai"


def open_id(slug: str) -> str:
    """A directory person's open_id (32 characters after ``ou_``, like the seed people's)."""
    return f"ou_sandbox0dir0{slug}".ljust(35, "0")


ZHANG_WEI_BACKEND_OPEN_ID = open_id("zhang0wei0backend")
ZHANG_WEI_SALES_OPEN_ID = open_id("zhang0wei0sales")
ZHAO_MIN_RESIGNED_OPEN_ID = open_id("zhao0min0resigned")
CHEN_JING_PRIVATE_OPEN_ID = open_id("chen0jing0ceo")
HOLIDAYS_CALENDAR_ID = "feishu.cn_sandbox0company0holidays@group.calendar.feishu.cn"
ALL_HANDS_CHAT_ID = "oc_sandbox0all0hands0chat000000002"
DESIGN_CHAT_ID = "oc_sandbox0design0guild0chat00003"
BACKEND_CHAT_ID = "oc_sandbox0backend0team0chat00004"
FRONTEND_CHAT_ID = "oc_sandbox0frontend0guild0chat005"  # public; the demo user is not in it
APPROVAL_ROOM_ID = "omm_sandbox0room0wudang"  # the one room whose bookings need an approver

DEPARTMENTS = (
    # id, name, en_name, parent
    ("od-product", "产品部", "Product", "0"),
    ("od-design", "设计部", "Design", "0"),
    ("od-engineering", "研发部", "Engineering", "0"),
    ("od-backend", "后端组", "Backend", "od-engineering"),
    ("od-frontend", "前端组", "Frontend", "od-engineering"),
    ("od-qa", "测试组", "QA", "od-engineering"),
    ("od-sales", "销售部", "Sales", "0"),
    ("od-marketing", "市场部", "Marketing", "0"),
    ("od-hr", "人力资源部", "HR", "0"),
    ("od-finance", "财务部", "Finance", "0"),
    ("od-it", "IT 部", "IT", "0"),
    ("od-exec", "总裁办", "Executive office", "0"),
)
# The seed people's place in the directory.
SEED_PROFILES = {
    seed.DEMO_USER_OPEN_ID: ("od-product", "Product manager", "Shanghai"),
    seed.LI_LEI_OPEN_ID: ("od-backend", "Backend engineer", "Shanghai"),
    seed.HAN_MEIMEI_OPEN_ID: ("od-design", "Product designer", "Shanghai"),
    seed.WANG_FANG_OPEN_ID: ("od-sales", "Sales director", "Shanghai"),
    seed.ADMIN_OPEN_ID: ("od-it", "IT administrator", "Shanghai"),
}
PEOPLE = (
    # slug, name, en_name, department, job title, city
    ("sun0li", "孙丽", "Sun Li", "od-product", "Product manager", "Shanghai"),
    ("zhou0jie", "周杰", "Zhou Jie", "od-product", "Product analyst", "Shanghai"),
    ("wu0xia", "吴霞", "Wu Xia", "od-design", "UX researcher", "Shanghai"),
    ("zheng0hao", "郑浩", "Zheng Hao", "od-design", "Visual designer", "Shanghai"),
    ("zhang0wei0backend", "张伟", "Zhang Wei", "od-backend", "Backend engineer", "Shanghai"),
    ("liu0yang", "刘洋", "Liu Yang", "od-backend", "Tech lead", "Shanghai"),
    ("chen0gang", "陈刚", "Chen Gang", "od-backend", "SRE", "Shanghai"),
    ("yang0fan", "杨帆", "Yang Fan", "od-frontend", "Frontend engineer", "Shanghai"),
    ("huang0lei", "黄磊", "Huang Lei", "od-frontend", "Frontend engineer", "Shanghai"),
    ("lin0na", "林娜", "Lin Na", "od-frontend", "Mobile engineer", "Shanghai"),
    ("he0jing", "何静", "He Jing", "od-qa", "QA engineer", "Shanghai"),
    ("luo0bin", "罗斌", "Luo Bin", "od-qa", "QA lead", "Shanghai"),
    ("zhang0wei0sales", "张伟", "Zhang Wei", "od-sales", "Account manager", "Beijing"),
    ("ma0chao", "马超", "Ma Chao", "od-sales", "Account manager", "Beijing"),
    ("zhu0lin", "朱琳", "Zhu Lin", "od-sales", "Sales operations", "Shanghai"),
    ("hu0min", "胡敏", "Hu Min", "od-marketing", "Marketing lead", "Shanghai"),
    ("guo0qiang", "郭强", "Guo Qiang", "od-marketing", "Content writer", "Shanghai"),
    ("gao0xue", "高雪", "Gao Xue", "od-marketing", "Events manager", "Beijing"),
    ("xu0li", "徐丽", "Xu Li", "od-hr", "HR business partner", "Shanghai"),
    ("song0jia", "宋佳", "Song Jia", "od-hr", "Recruiter", "Shanghai"),
    ("tang0peng", "唐鹏", "Tang Peng", "od-finance", "Controller", "Shanghai"),
    ("xu0qing", "许晴", "Xu Qing", "od-finance", "Accountant", "Shanghai"),
    ("feng0tao", "冯涛", "Feng Tao", "od-it", "IT support", "Shanghai"),
    ("chen0jing0ceo", "陈静", "Chen Jing", "od-exec", "CEO", "Shanghai"),
    ("zhao0min0resigned", "赵敏", "Zhao Min", "od-marketing", "Marketing specialist", "Shanghai"),
)
LEVELS = (
    # id, name, parent
    ("omb_sandbox0city0shanghai", "Shanghai 上海", "0"),
    ("omb_sandbox0city0beijing", "Beijing 北京", "0"),
    ("omb_sandbox0building0a", "Building A", "omb_sandbox0city0shanghai"),
    ("omb_sandbox0building0b", "Building B", "omb_sandbox0city0shanghai"),
    ("omb_sandbox0building0c", "Building C", "omb_sandbox0city0beijing"),
)
BUILDING_LEVEL = {"A": "omb_sandbox0building0a", "B": "omb_sandbox0building0b", "C": "omb_sandbox0building0c"}
ROOMS: tuple[tuple[str, str, int, str, str, bool, list[str]], ...] = (
    # room_id, name, capacity, building, floor, needs approval, devices
    ("omm_sandbox0room0huangshan", "Huangshan 黄山", 6, "A", "5F", False, ["TV", "whiteboard"]),
    ("omm_sandbox0room0hengshan", "Hengshan 衡山", 3, "A", "2F", False, ["TV"]),
    (APPROVAL_ROOM_ID, "Wudang 武当 Boardroom", 16, "A", "8F", True, ["projector", "VC"]),
    ("omm_sandbox0room0emei", "Emei 峨眉", 6, "B", "2F", False, ["VC"]),
    ("omm_sandbox0room0lushan", "Lushan 庐山", 10, "B", "2F", False, ["projector", "VC"]),
    ("omm_sandbox0room0qingcheng", "Qingcheng 青城 phone booth", 2, "B", "2F", False, []),
    ("omm_sandbox0room0yandang", "Yandang 雁荡", 6, "C", "1F", False, ["TV"]),
)
SEED_ROOM_DEVICES = {seed.ROOM_IDS[0]: ["TV", "VC"], seed.ROOM_IDS[1]: ["TV"], seed.ROOM_IDS[2]: ["projector"]}


def populate_directory(sb: Core, now: float) -> None:
    """Add the directory to a world that :func:`sandbox.seed.populate` built."""
    world = sb.world
    directory = world.directory
    for dept_id, name, en_name, parent in DEPARTMENTS:
        directory.departments[dept_id] = Department(dept_id, name, en_name, parent)
    for person_id, (dept, title, city) in SEED_PROFILES.items():
        directory.profiles[person_id] = Profile([dept], title, city)
    for slug, name, en_name, dept, title, city in PEOPLE:
        person = seed.add_user(
            sb, open_id(slug), name, en_name=en_name, email=f"{slug.replace('0', '.')}@sandbox.example"
        )
        directory.profiles[person.open_id] = Profile([dept], title, city)
    world.users[ZHAO_MIN_RESIGNED_OPEN_ID].status = "resigned"
    private = world.primary_calendar(CHEN_JING_PRIVATE_OPEN_ID)
    assert private is not None  # add_user made it
    private.permissions, private.default_role = "private", "unknown"
    _rooms(sb)
    _chats(sb)
    _calendars(sb)
    _busy_time(sb, now)


def _rooms(sb: Core) -> None:
    directory = sb.world.directory
    for level_id, name, parent in LEVELS:
        directory.levels[level_id] = RoomLevel(level_id, name, parent)

    def floor_level(building: str, floor: str) -> str:
        level_id = f"{BUILDING_LEVEL[building]}0{floor.lower()}"
        directory.levels.setdefault(level_id, RoomLevel(level_id, floor, BUILDING_LEVEL[building]))
        return level_id

    for room in list(sb.world.rooms.values()):
        directory.room_details[room.room_id] = RoomDetail(
            floor_level(room.building, room.floor),
            display_id=f"FM{len(directory.room_details) + 100}",
            devices=SEED_ROOM_DEVICES.get(room.room_id, []),
        )
    for room_id, name, capacity, building, floor, approval, devices in ROOMS:
        seed.add_room(sb, room_id, name, capacity, building, floor)
        directory.room_details[room_id] = RoomDetail(
            floor_level(building, floor),
            display_id=f"FM{len(directory.room_details) + 100}",
            description="Board meetings; booking needs approval" if approval else "",
            needs_approval=approval,
            devices=devices,
        )


def _chats(sb: Core) -> None:
    world = sb.world
    everyone = [u.open_id for u in world.users.values() if u.tenant_key == seed.TENANT_KEY and u.status == "active"]
    seed.add_chat(sb, ALL_HANDS_CHAT_ID, "All hands 全员", CHEN_JING_PRIVATE_OPEN_ID, everyone)
    design = [seed.HAN_MEIMEI_OPEN_ID, open_id("wu0xia"), open_id("zheng0hao"), seed.DEMO_USER_OPEN_ID]
    seed.add_chat(sb, DESIGN_CHAT_ID, "Design guild 设计", seed.HAN_MEIMEI_OPEN_ID, design)
    backend = [seed.LI_LEI_OPEN_ID, ZHANG_WEI_BACKEND_OPEN_ID, open_id("liu0yang"), open_id("chen0gang")]
    seed.add_chat(sb, BACKEND_CHAT_ID, "Backend team 后端", open_id("liu0yang"), backend)
    frontend = [open_id("yang0fan"), open_id("huang0lei"), open_id("lin0na")]
    seed.add_chat(sb, FRONTEND_CHAT_ID, "Frontend guild 前端", open_id("yang0fan"), frontend, public=True)


def _calendars(sb: Core) -> None:
    """A subscribed company calendar (read-only for the demo user)."""
    holidays = seed.add_shared_calendar(
        sb, HOLIDAYS_CALENDAR_ID, "Company holidays 公司假期", seed.ADMIN_OPEN_ID, {seed.DEMO_USER_OPEN_ID: "reader"}
    )
    holidays.description = "Public holidays and office closures"


def _busy_time(sb: Core, now: float) -> None:
    """Two weekly series per directory person (one of them private), from last week for 8 weeks.

    Li Lei and Han Meimei keep the seed week's calendars (the demo and older tests read them).
    """
    world = sb.world
    zone = ZoneInfo(ZONE)
    today = dt.datetime.fromtimestamp(now, zone).date()
    last_monday = today - dt.timedelta(days=today.weekday() + 7)
    days = ("MO", "TU", "WE", "TH", "FR")
    for index, (slug, *_rest) in enumerate(PEOPLE):
        person = open_id(slug)
        calendar = world.primary_calendar(person)
        if calendar is None or world.users[person].status != "active":
            continue
        plans = (
            ("Team sync", f"{days[index % 5]},{days[(index + 2) % 5]}", 10 + index % 3, 60, "default"),
            ("Deep work", f"{days[(index + 1) % 5]},{days[(index + 3) % 5]}", 14 + index % 3, 90, "private"),
        )
        for number, (summary, byday, hour, minutes, visibility) in enumerate(plans):
            first = dt.datetime.combine(last_monday, dt.time(hour), zone)
            start = int(first.timestamp())
            event = Event(
                uid=f"sandbox0dir0{slug}0busy{number}".ljust(33, "0"),
                original_time=0,
                organizer_calendar_id=calendar.calendar_id,
                organizer_open_id=person,
                start=TimeInfo(timestamp=start, timezone=ZONE),
                end=TimeInfo(timestamp=start + minutes * 60, timezone=ZONE),
                create_time=start - 7 * 86400,
                summary=summary,
                recurrence=f"FREQ=WEEKLY;BYDAY={byday};COUNT=16",
                visibility=visibility,
            )
            eventstore.save(world, event)
