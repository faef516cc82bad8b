"""A start/end time window in the user's timezone: the input part the scheduling tools share."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Self

from pydantic import PrivateAttr, ValidationInfo, model_validator

from tools.common import times
from tools.common.fields import Timezone, WindowEnd, WindowStart
from tools.spec import Input


class TimeWindow(Input):
    """``start``/``end`` (any accepted time form; a date means that whole day) and ``timezone``."""

    start: WindowStart
    end: WindowEnd
    timezone: Timezone = None

    _tz: str = PrivateAttr(default="UTC")
    _lo: datetime = PrivateAttr(default=datetime.min)
    _hi: datetime = PrivateAttr(default=datetime.min)

    # The longest window the tool accepts, in days (a subclass narrows it).
    max_days: ClassVar[float] = 90

    @model_validator(mode="after")
    def _window(self, info: ValidationInfo) -> Self:
        self._tz = self.timezone or (info.context or {}).get("timezone") or "UTC"
        zone = times.zone(self._tz)
        lo = times.parse_time(self.start, self._tz, "start").as_instant(zone)
        hi = times.parse_time(self.end, self._tz, "end").as_instant(zone, end_of_day=True)
        if hi <= lo:
            raise ValueError("end: must be after start")
        if (hi - lo).total_seconds() > self.max_days * 86400:
            raise ValueError(f"end: the window may be at most {self.max_days:g} days")
        self._lo, self._hi = lo.astimezone(zone), hi.astimezone(zone)
        return self
