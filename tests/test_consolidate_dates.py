"""Feedback dates as shown -> intervals anchored on the capture time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dnmwatch.consolidate.dates import Interval, parse_posted

C = datetime(2019, 10, 10, 12, 0)
D = timedelta(days=1)


@pytest.mark.parametrize(("text", "earliest", "latest"), [
    ("3 days ago", C - 4 * D, C - 3 * D),
    ("3 дня назад", C - 4 * D, C - 3 * D),
    ("vor 3 Tagen", C - 4 * D, C - 3 * D),
    ("yesterday", C - 2 * D, C - D),
    ("вчера", C - 2 * D, C - D),
    ("gestern", C - 2 * D, C - D),
    ("just now", C - timedelta(minutes=1), C),
    ("только что", C - timedelta(minutes=1), C),
    ("3 hours ago", C - timedelta(hours=4), C - timedelta(hours=3)),
    ("an hour ago", C - timedelta(hours=2), C - timedelta(hours=1)),
    ("час назад", C - timedelta(hours=2), C - timedelta(hours=1)),
    ("vor einer Stunde", C - timedelta(hours=2), C - timedelta(hours=1)),
    ("2 weeks ago", C - 21 * D, C - 14 * D),
    ("2 недели назад", C - 21 * D, C - 14 * D),
    ("1 month ago", C - 60 * D, C - 30 * D),
    ("5 месяцев назад", C - 180 * D, C - 150 * D),
    ("2 years ago", C - 3 * 365 * D, C - 2 * 365 * D),
])
def test_relative_dates_are_buckets_before_the_capture_time(
        text: str, earliest: datetime, latest: datetime) -> None:
    assert parse_posted(text, C) == Interval(earliest, latest)


@pytest.mark.parametrize("text", ["2019-10-01", "01.10.2019", "10/01/2019", "Oct 1, 2019",
                                  "1 Oct 2019", "October 1st, 2019"])
def test_absolute_dates_cover_their_whole_day(text: str) -> None:
    got = parse_posted(text, C)
    assert got is not None
    assert got.earliest == datetime(2019, 10, 1)
    assert got.latest < datetime(2019, 10, 2) and got.width > timedelta(hours=23)


def test_absolute_time_has_minute_precision_and_aware_capture_times_work() -> None:
    got = parse_posted("2019-10-01T14:05", C.replace(tzinfo=UTC))
    assert got is not None and got.earliest == datetime(2019, 10, 1, 14, 5)
    assert got.width < timedelta(minutes=1)


def test_absolute_and_relative_together_intersect() -> None:
    got = parse_posted("2019-10-01 (9 days ago)", C)
    assert got == Interval(datetime(2019, 10, 1), datetime(2019, 10, 1, 12))


def test_absolute_wins_when_they_disagree() -> None:
    got = parse_posted("2019-09-01 (2 days ago)", C)
    assert got is not None and got.earliest == datetime(2019, 9, 1)


@pytest.mark.parametrize("text", ["", "sometime", "32.13.2019", "soon", "ages ago"])
def test_unknown_dates_are_none(text: str) -> None:
    assert parse_posted(text, C) is None


def test_intervals_intersect_and_measure_gaps() -> None:
    a = parse_posted("3 days ago", C)
    b = parse_posted("1 week ago", C + 4 * D)
    assert a is not None and b is not None
    both = a.intersect(b)
    assert both == Interval(C - 4 * D, C - 3 * D)
    far = parse_posted("just now", C)
    assert far is not None and a.intersect(far) is None
    assert a.gap(far) == 3 * D - timedelta(minutes=1)
    assert both.midpoint == C - timedelta(days=3.5)
