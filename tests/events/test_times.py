"""Bulk RFC 3339 formatting and parsing against the standard library's datetime."""

import datetime as dt

import numpy as np
import pytest

from alchemist.events.times import format_seconds, parse_seconds


def reference(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


SECONDS = np.concatenate([[0, 59, 86399, 86400, 951782400, 951868800, 4107542399, 253402300799],
                          np.random.default_rng(5).integers(0, 253402300800, 3000)])


def test_format_equals_datetime():
    text = format_seconds(SECONDS).tobytes().decode()
    assert [text[i:i + 20] for i in range(0, len(text), 20)] == [reference(int(t)) for t in SECONDS]


def test_parse_inverts_datetime_and_refuses_what_is_not_a_time():
    strings = [reference(int(t)) for t in SECONDS]
    bad = ["2001-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2000-13-01T00:00:00Z", "2000-01-01T24:00:00Z",
           "2000-01-01T00:60:00Z", "2000-01-01 00:00:00Z", "2000-01-01T00:00:00+", "1969-12-31T23:59:59Z",
           "2000-00-10T00:00:00Z", "2000-01-32T00:00:00Z", "20a0-01-01T00:00:00Z"]
    good_leap = ["2000-02-29T00:00:00Z", "2024-02-29T12:34:56Z"]
    text = np.array(strings + bad + good_leap, dtype="S20").view(np.uint8).reshape(-1, 20)
    seconds, valid = parse_seconds(text)
    n = len(strings)
    assert valid[:n].all() and not valid[n:n + len(bad)].any() and valid[n + len(bad):].all()
    np.testing.assert_array_equal(seconds[:n], SECONDS)
    expected = [int(dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp())
                for s in good_leap]
    assert seconds[n + len(bad):].tolist() == expected


def test_bad_shapes_and_ranges_are_refused():
    with pytest.raises(ValueError, match=r"\(n, 20\)"):
        parse_seconds(np.zeros((2, 19), np.uint8))
    with pytest.raises(ValueError, match="253402300800"):
        format_seconds([-1])


def test_parse_seconds_agrees_with_the_standard_library_and_refuses_impossible_dates():
    import datetime as dt

    import numpy as np

    from alchemist.cim.fold import _seconds_many
    from alchemist.errors import InvalidEventError
    from alchemist.events.times import parse_seconds

    stamps = np.random.default_rng(1).integers(0, 4_102_444_800, 5000)
    text = [dt.datetime.fromtimestamp(int(t), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") for t in stamps]
    seconds, valid = parse_seconds(np.array(text, dtype="S20").view(np.uint8).reshape(-1, 20))
    assert valid.all() and (seconds == stamps).all()
    impossible = ["2001-02-29T00:00:00Z", "2004-04-31T00:00:00Z", "2004-13-01T00:00:00Z", "2004-01-01T24:00:00Z"]
    rows = np.array(impossible + ["2000-02-29T00:00:00Z"], dtype="S20").view(np.uint8).reshape(-1, 20)
    _, valid = parse_seconds(rows)
    assert valid.tolist() == [False, False, False, False, True]
    # a long batch with one impossible date: a clear error (NumPy's datetime64 cast crashed the process here)
    with pytest.raises(InvalidEventError, match="2001-02-29"):
        _seconds_many(text[:2000] + ["2001-02-29T00:00:00Z"])
