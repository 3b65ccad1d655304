"""EventFeed: counters, batching, pause/resume, following a real embedded CIM."""

import gzip
import time
from collections import Counter

import pytest

import alchemist
from alchemist.widgets import EventFeed


def _events(n_nodes):
    ev = [alchemist.new_event("node_added", "g", {"node_id": f"n{i}"}) for i in range(n_nodes)]
    ev += [alchemist.new_event("edge_added", "g", {"edge_id": f"e{i}", "source": "n0", "target": f"n{i}"})
           for i in range(1, n_nodes)]
    return ev


def test_counts_rate_and_last_events_are_batched_into_few_updates():
    feed = EventFeed(interval=3600, max_rows=5)  # no timer flush during the test
    events = _events(300)
    for i in range(0, len(events), 10):
        feed.push(events[i:i + 10], lag=max(len(events) - i - 10, 0))
    assert feed.total == 0 and feed.updates == 0  # nothing sent until a flush
    feed.flush()
    assert feed.updates == 1
    assert feed.total == 599 and feed.counts == dict(Counter(e.event_type for e in events))
    assert feed.lag == 0
    assert [row["summary"] for row in feed.last_events] == [f"n0 → n{i}" for i in range(299, 294, -1)]
    assert feed.rate > 0


def test_pause_freezes_the_display_and_resume_catches_up():
    feed = EventFeed(interval=3600)
    feed.push(_events(3))
    feed.flush()
    feed.paused = True
    feed.push(_events(10))
    feed.flush()
    assert feed.total == 5
    feed.paused = False  # resuming flushes
    assert feed.total == 5 + 19


def test_static_fallback_escapes_event_text():
    feed = EventFeed(interval=3600)
    feed.push([alchemist.new_event("node_added", "g", {"node_id": "<script>x</script>"})])
    feed.flush()
    html = feed._repr_mimebundle_()[0]["text/html"]
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


@pytest.mark.integration
def test_follows_a_replay_on_the_embedded_cim(tmp_path, repo_root):
    from alchemist.widgets.live import replay_live

    sample = repo_root / "data" / "samples" / "CollegeMsg.txt.gz"
    lines = [ln.split() for ln in gzip.open(sample, "rt") if ln.strip() and not ln.startswith("#")][:500]
    nodes = {n for a, b, *_ in lines for n in (a, b)}
    total = 1 + len(nodes) + len(lines)
    with alchemist.connect(data_dir=str(tmp_path)) as con:
        feed = EventFeed(con, "college", interval=0.1)
        replay = replay_live(con, sample, "college", rate=10_000, batch=25, limit=total)
        assert replay.done.wait(30)
        deadline = time.time() + 20
        while feed.total < total and time.time() < deadline:
            time.sleep(0.05)
        feed.close()
    assert feed.total == total
    assert feed.counts == {"graph_created": 1, "node_added": len(nodes), "edge_added": len(lines)}
    assert feed.lag == 0 and feed.rejected == 0
    assert feed.last_events[0]["seq"] == -(-total // 25)  # one JetStream message per batch of 25
    assert feed.updates < total / 25  # batched: far fewer browser updates than messages


def test_each_event_of_a_batch_message_is_its_own_row_with_its_date():
    from datetime import datetime, timezone

    feed = EventFeed(interval=3600)
    times = [1082040961, 1082156239, 1090000000]  # CollegeMsg's first message time, and two later ones
    batch = [alchemist.new_event("node_added", "g", {"node_id": f"n{i}"}, timestamp=t) for i, t in enumerate(times)]
    feed.push(batch, sequence=1200)  # one stream message carrying three events
    feed.flush()
    rows = feed.last_events
    assert [r["summary"] for r in rows] == ["n2", "n1", "n0"]  # newest first, one row per event
    assert [r["date"] for r in rows] == [datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
                                         for t in reversed(times)]
    assert rows[-1]["date"] == "2004-04-15 14:56:01"
    assert [(r["seq"], r["index"]) for r in rows] == [(1200, 2), (1200, 1), (1200, 0)]
    assert [r["id"] for r in rows] == [e.event_id for e in reversed(batch)]
    feed.close()
