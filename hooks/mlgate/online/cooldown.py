"""Cooldown: a pinned release younger than the `cooldown` setting (days, `config.COOLDOWN_DAYS`
by default; 0: off) is a finding on an `--online` run (pins: PIN032, hub: HUB020).

Malicious releases are usually found and pulled within hours or days (ultralytics 8.3.41 on
PyPI, tj-actions/changed-files on GitHub): a commit that pins one while it is that young takes it
before anyone had the time to look. Update bots wait (Dependabot `cooldown`, Renovate
`minimumReleaseAge`); this is the same wait, checked when the pin is committed.

What the hooks share lives here: the age of an ISO 8601 timestamp against `now()` (which tests
replace), the threshold (`OnlineSession.cooldown`, set by the engine from the configuration), the
wording of the finding, and `gather`, which makes many date lookups at once. Where a date comes
from (PyPI, GitHub, the hub) is each hook's business.

A source that gives no date (a version PyPI does not have, a release without files) is not
judged: no finding and no error. A date that is there but cannot be read is an `OnlineError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TypeVar

from mlgate.online import OnlineError, OnlineSession

T = TypeVar("T")

# 2024-12-04T19:45:37.123456Z, 2025-03-14T16:57:06+01:00, 2024-12-04 19:45:37 (UTC when no zone is given)
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(?:(Z)|([+-])(\d{2}):?(\d{2}))?",
    re.IGNORECASE,
)
HOUR = 3600.0
DAY = 24 * HOUR


def now() -> datetime:
    """The current time, in UTC (a test replaces this function to fix the clock)."""
    return datetime.now(timezone.utc)


def parse_time(text: str) -> datetime:
    """An ISO 8601 timestamp as PyPI, GitHub and the hub write them, as an aware datetime
    (UTC when it names no zone); ValueError when it is not one."""
    match = _ISO.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not an ISO 8601 time: {text!r}")
    year, month, day, hour, minute, second = (int(match.group(n)) for n in range(1, 7))
    fraction = match.group(7) or ""
    microsecond = int((fraction + "000000")[:6])
    zone = timezone.utc
    if match.group(9):
        offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        zone = timezone(offset if match.group(9) == "+" else -offset)
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=zone)  # ValueError for 2024-13-45


def released_at(text: object, what: str) -> datetime:
    """`text`, a timestamp a server sent for `what`, as a datetime; OnlineError when it is not one."""
    try:
        return parse_time(text)  # type: ignore[arg-type]  # anything else is a ValueError
    except (TypeError, ValueError):
        raise OnlineError(f"{what}: malformed response (release time {text!r} is not an ISO 8601 time)") from None


@dataclass(frozen=True)
class Young:
    """A release inside the cooldown: when it was released, and the threshold it is under."""

    released: datetime
    age: timedelta
    days: float

    @property
    def ends(self) -> datetime:
        return self.released + timedelta(days=self.days)

    def describe(self, what: str, fix: str) -> str:
        """`what` ("torch 2.6.0 was first uploaded to PyPI") with how long ago, the threshold, when it
        ends, and `fix` (what to do meanwhile)."""
        return (
            f"{what} {describe_age(self.age)} ({_when(self.released)}), inside the {describe_days(self.days)} cooldown "
            f"that lets a malicious release be found and pulled before it is used; {fix} "
            f"(the cooldown ends {_when(self.ends)}; the `cooldown` setting sets the days)"
        )


def too_young(session: OnlineSession, released: datetime) -> Young | None:
    """A `Young` when `released` is less than the session's cooldown ago (a release exactly that
    old has served it), else None; None too when the cooldown is 0 (off)."""
    days = session.cooldown
    if days <= 0:
        return None
    age = now() - released
    return Young(released, age, days) if age < timedelta(days=days) else None


def describe_age(age: timedelta) -> str:
    """ "less than an hour ago", "5 hours ago", "2.5 days ago"; a time in the future (a clock ahead) says so."""
    seconds = age.total_seconds()
    if seconds < 0:
        return "in the future, by this machine's clock"
    if seconds < HOUR:
        return "less than an hour ago"
    if seconds < 2 * DAY:
        hours = math.floor(seconds / HOUR)
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return f"{math.floor(seconds / DAY * 10) / 10:g} days ago"


def describe_days(days: float) -> str:
    """3 -> "3-day", 0.5 -> "0.5-day"."""
    return f"{days:g}-day"


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def gather(session: OnlineSession, calls: Sequence[Callable[[], T]]) -> list[T | OnlineError]:
    """Each call's result (or the OnlineError it raised), in order, made up to
    `Settings.concurrency` at a time: the date lookups of a lock file's hundreds of pins overlap
    their waits instead of queueing behind each other.

    The calls run on helper threads that take turns like the online checks do (`Turn`): this
    thread gives its turn away while it waits for them. They must not call `session.error`
    (whose errors belong to this thread's check): the caller reports what they return. When the
    run's deadline passes first, a call not done is a DeadlinePassed.
    """
    from mlgate.online import DeadlinePassed
    from mlgate.online.checks import side_by_side

    if len(calls) <= 1:
        return [_call(call) for call in calls]
    results: list[T | OnlineError] = [DeadlinePassed(f"not looked up: {session.deadline.describe()} passed first")] * len(calls)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = _call(calls[index])
        except BaseException as exc:  # a bug: raised again in the caller's thread
            failures.append(exc)

    with session.turn.given_up():
        for _ in side_by_side(session, len(calls), run, "mlgate-cooldown"):
            pass
    if failures:
        raise failures[0]
    return list(results)


def _call(call: Callable[[], T]) -> T | OnlineError:
    try:
        return call()
    except OnlineError as exc:
        return exc
