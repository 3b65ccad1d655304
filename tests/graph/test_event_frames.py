"""Graph.events_frame and events_frame (issue 17): a local graph's history as a polars frame, equal to the
events applied (their fields read back one by one and parsed with the standard library), filtered as an
event query filters, built in chunks."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from alchemist import Graph, new_event
from alchemist.graph.event_frames import EVENT_FRAME_COLUMNS, EventFrameBuilder, events_frame


def history():
    add = new_event("node_added", "g", {"node_id": "a", "properties": {"score": 1.5}}, timestamp="2024-01-01T00:00:00Z",
                    metadata={"actor": "ana", "via": "jwt"})
    events = [add]
    for k, (etype, payload) in enumerate([
            ("node_added", {"node_id": "b"}),
            ("edge_added", {"edge_id": "ab", "source": "a", "target": "b", "weight": 2.0}),
            ("node_updated", {"node_id": "a", "label": "hub"}),
            ("edge_removed", {"edge_id": "ab"})], start=1):
        kwargs = {"timestamp": f"2024-01-01T00:00:{k:02d}.5Z", "previous_cid": events[-1].cid}
        if etype != "node_added":  # caused by ana's command
            events.append(add.derive(etype, payload, **kwargs))
        else:
            events.append(new_event(etype, "g", payload, correlation_id="other", **kwargs))
    return events


def test_graph_events_frame_equals_the_events_applied():
    events = history()
    g = Graph("g")
    g.apply(events)
    frame = g.events_frame()
    assert frame.columns == list(EVENT_FRAME_COLUMNS) and frame.height == len(events) == 5
    for row, e in zip(frame.iter_rows(named=True), events):
        assert row["sequence"] is None  # never stored on a stream
        assert row["time"] == dt.datetime.fromisoformat(e.timestamp.replace("Z", "+00:00"))
        assert (row["type"], row["aggregate"], row["event_id"]) == (e.event_type, "g", e.event_id)
        assert (row["correlation"], row["causation"], row["cid"], row["previous_cid"]) == (
            e.correlation_id, e.causation_id, e.cid, e.previous_cid)
        assert json.loads(row["payload"]) == e.payload
    assert frame["actor"].to_list() == ["ana", None, None, None, None]
    assert frame["time"].dt.microsecond().to_list() == [0, 500_000, 500_000, 500_000, 500_000]
    # filters: type (two names), time, correlation
    assert g.events_frame(types="node_added")["event_id"].to_list() == [events[0].event_id, events[1].event_id]
    assert g.events_frame(event_types=["edge_added", "edge_removed"]).height == 2
    assert g.events_frame(since="2024-01-01T00:00:02Z", until=1704067204)["type"].to_list() == [
        "edge_added", "node_updated"]
    assert g.events_frame(correlation="other")["event_id"].to_list() == [events[1].event_id]
    assert g.events_frame(correlation=events[0].correlation_id).height == 4  # the root and what it caused
    with pytest.raises(ValueError, match="not both"):
        g.events_frame(types="node_added", event_types="node_added")


def test_bulk_graph_has_an_empty_typed_frame():
    frame = Graph.from_edges([("a", "b")]).events_frame()
    assert frame.height == 0 and frame.schema["time"] == pl.Datetime("us", "UTC")


def test_builder_chunks_and_timestamps_arrow_refuses():
    events = [new_event("node_added", "g", {"node_id": str(k)}, timestamp=k) for k in range(7)]
    offset = new_event("node_added", "g", {"node_id": "x"}, timestamp="1970-01-01T02:00:00+02:00")
    lower = new_event("node_added", "g", {"node_id": "y"}, timestamp="1970-01-01T00:00:09z")  # Arrow refuses "z"
    builder = EventFrameBuilder(columns=["time", "payload"], batch_size=3)
    for e in [*events, offset, lower]:
        builder.add(e)
    frame = builder.frame()
    assert builder.count == 9 and frame.n_chunks() == 3
    assert [t.timestamp() for t in frame["time"]] == [float(k) for k in range(7)] + [0.0, 9.0]
    assert events_frame(events, columns=["type"]).columns == ["type"]
    with pytest.raises(ValueError, match="batch_size"):
        EventFrameBuilder(batch_size=0)
