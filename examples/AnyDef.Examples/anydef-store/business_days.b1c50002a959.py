# anydef: business_days
# spec: b1c50002a959b9d287d9ce53fd347bb97419d3d2a171c51da4842c0ee82d13ee
# signature: def business_days(start: str, end: str, holidays: list[str]) -> int
# source: hand-written by the AnyDef maintainers and reviewed (no model was used)
# generated: 2026-11-24T06:52:37Z
# reviewed: true
# description:
#   Count the weekdays (Monday to Friday) from start to end inclusive, skipping the given holidays. Dates are ISO strings.
# (edit the code below freely; keep this header so AnyDef can find the file)

from datetime import date, timedelta


def business_days(start: str, end: str, holidays: list[str]) -> int:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    skip = {date.fromisoformat(h) for h in holidays}
    count = 0
    day = first
    while day <= last:
        if day.weekday() < 5 and day not in skip:
            count += 1
        day += timedelta(days=1)
    return count
