"""The cyclic garbage collector of a serving process: off while it starts, then tuned for calls.

Start-up builds ~150k objects that live as long as the process (tool models, schemas, the SDK):
collecting among them only costs time (~5% of a start), so collections wait until the server is
built, and then those objects are frozen out of every later collection.

While serving, a tool call makes next to no cyclic garbage (``gc.DEBUG_SAVEALL`` over 4,000
list_events calls at 8 at once kept nothing a call made), yet CPython's default schedule (a
young collection per 700 net new containers) ran ~0.06 young collections a call and a full one
every ~1,500: 20-60 µs of CPU a call, and for a 1,000-event page (~20k containers parsed
at once) 13 collections inside the parse plus a full one every ~10 pages (4.3 ms a page on
average, against 2.5 ms for the parse itself). A young limit of 10,000 keeps the collector for
what it is for (cycles, which the few failures make) at ~1/14 of the collections, each still
short (a 10,000-object young generation).
"""

from __future__ import annotations

import gc

YOUNG_LIMIT = 10_000


def starting() -> None:
    """No collections while the server is being built (everything built now lives for good)."""
    gc.disable()


def serving() -> None:
    """What exists now is frozen out of collections; collect again, at the serving schedule."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_LIMIT, middle, old)
    gc.enable()
