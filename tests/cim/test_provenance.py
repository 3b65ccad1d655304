"""Provenance on a real nats-server (issue 17): events filtered by correlation, events as a frame, the
events (and their commands, actors and agent suggestions) that made a node or an edge what it is, and
the causation tree of a correlation. Expected values come from the raw stream, read message by message
with nats-py and the standard json module, or from the events the test itself stored."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from alchemist.cim import connect
from alchemist.cim.agents import AnalysisAgent
from alchemist.cim.provenance import correlation_tree, provenance
from alchemist.cim.suggestions import ProposedEvent, accept_suggestion, append_chain
from alchemist.errors import EdgeNotFoundError, GraphError, NodeNotFoundError
from alchemist.graph import Graph
from alchemist.graph.event_frames import EVENT_FRAME_COLUMNS

pytestmark = pytest.mark.integration

EDGES = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("e", "f"), ("f", "d"), ("c", "d")]


@pytest.fixture
def agent_conn(nats_server, tmp_path):
    """The analysis agent served on a second connection to the same server."""
    connection = connect(nats_server.url, outbox=tmp_path / "agent-outbox.sqlite")
    connection.serve_agent(AnalysisAgent())
    yield connection
    connection.close()


def raw_events(conn, graph_id: str) -> list[tuple[int, dict]]:
    """``(stream sequence, event as JSON)`` of one graph, from each stored message (a batch's events one by one)."""
    async def read():
        info = await conn.js.stream_info(conn.graph_stream)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await conn.js.get_msg(conn.graph_stream, seq)
            body = json.loads(msg.data)
            for event in body["events"] if "batch_id" in body else [body]:
                if event["aggregate_id"] == graph_id:
                    out.append((seq, event))
        return out

    return conn.run(read())


def conversation(conn, graph_id: str = "g"):
    """A command by ana and what it caused (two levels, one batch message), a command by bo with its own
    correlation, and a replayed edge list; returns the stored events by name."""
    stored = {}
    stored["root"] = conn.append(graph_id, "node_added", {"node_id": "a"}, metadata={"actor": "ana"})
    corr = stored["root"].correlation_id
    for name, node in (("b", "b"), ("c", "c")):
        stored[name] = conn.append(graph_id, "node_added", {"node_id": node}, correlation_id=corr,
                                   causation_id=stored["root"].event_id, metadata={"actor": "ana"})
    stored["ab"] = conn.append(graph_id, "edge_added", {"edge_id": "ab", "source": "a", "target": "b"},
                               correlation_id=corr, causation_id=stored["b"].event_id)
    batch = [ProposedEvent(event_type="node_updated", payload={"node_id": n, "properties": {"k": i}})
             for i, n in enumerate("abc")]
    stored["batch"] = append_chain(conn, graph_id, batch, correlation_id=corr, causation_id=stored["c"].event_id)
    stored["other"] = conn.append(graph_id, "node_added", {"node_id": "z"}, correlation_id="bo-1",
                                  metadata={"actor": "bo"})
    stored["other2"] = conn.append(graph_id, "edge_added", {"edge_id": "za", "source": "z", "target": "a"},
                                   correlation_id="bo-1", causation_id=stored["other"].event_id)
    return stored


# ---------------------------------------------------------------------- events by correlation
def test_events_by_correlation_match_the_raw_stream(conn):
    stored = conversation(conn)
    raw = raw_events(conn, "g")
    corr = stored["root"].correlation_id
    assert len({e["event_id"] for _, e in raw}) == len(raw) == 9
    for wanted in (corr, "bo-1", [corr, "bo-1"]):
        names = {wanted} if isinstance(wanted, str) else set(wanted)
        expected = [(seq, e["event_id"]) for seq, e in raw if e["correlation_id"] in names]
        events = conn.events("g", correlation=wanted)
        assert [(e.sequence, e.event_id) for e in events] == expected
        frame = conn.events_frame("g", correlation=wanted)
        assert list(zip(frame["sequence"], frame["event_id"])) == expected
    assert len(conn.events("g", correlation=corr)) == 7  # root, b, c, ab, the batch of 3
    # with a type filter, under both names
    expected = [e["event_id"] for _, e in raw if e["correlation_id"] == corr and e["event_type"] == "node_updated"]
    assert [e.event_id for e in conn.events("g", types="node_updated", correlation=corr)] == expected
    assert [e.event_id for e in conn.events("g", event_types=["node_updated"], correlation=corr)] == expected
    assert len(expected) == 3 and conn.events("g", correlation="nobody") == []
    with pytest.raises(ValueError, match="not both"):
        conn.events("g", event_types="node_added", types="node_added")
    with pytest.raises(ValueError, match="correlation"):
        conn.events("g", correlation=[""])


def test_events_frame_columns_dtypes_and_values(conn):
    conversation(conn)
    raw = raw_events(conn, "g")
    frame = conn.events_frame("g", batch_size=3)  # several chunks
    assert frame.columns == list(EVENT_FRAME_COLUMNS) == [
        "sequence", "time", "type", "aggregate", "event_id", "correlation", "causation", "cid", "previous_cid",
        "actor", "payload"]
    assert dict(frame.schema) == {
        "sequence": pl.Int64(), "time": pl.Datetime("us", "UTC"), "type": pl.Categorical(),
        "aggregate": pl.Categorical(), "event_id": pl.String(), "correlation": pl.String(), "causation": pl.String(),
        "cid": pl.String(), "previous_cid": pl.String(), "actor": pl.String(), "payload": pl.String()}
    assert frame.height == len(raw)
    for row, (seq, e) in zip(frame.iter_rows(named=True), raw):
        assert row["sequence"] == seq and row["type"] == e["event_type"] and row["aggregate"] == "g"
        assert row["time"] == dt.datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
        assert (row["event_id"], row["correlation"], row["causation"]) == (
            e["event_id"], e["correlation_id"], e["causation_id"])
        assert (row["cid"], row["previous_cid"]) == (e["cid"], e.get("previous_cid"))
        assert row["actor"] == (e.get("metadata") or {}).get("actor")
        assert json.loads(row["payload"]) == e["payload"]
    assert frame["actor"].to_list().count("ana") == 3 and frame["previous_cid"].null_count() == 1
    # a subset of columns, a filter, an unknown graph
    sub = conn.events_frame("g", columns=["sequence", "type"], since=0)
    assert sub.columns == ["sequence", "type"] and sub.height == len(raw)
    empty = conn.events_frame("nothing-here")
    assert empty.height == 0 and empty.columns == list(EVENT_FRAME_COLUMNS)
    with pytest.raises(ValueError, match="an events frame has the columns"):
        conn.events_frame("g", columns=["sequence", "colour"])


# ---------------------------------------------------------------------- provenance
@pytest.mark.usefixtures("agent_conn")
def test_provenance_of_a_node_made_by_a_user_and_an_agent(conn, tmp_path):
    by_ana = []
    for node in "abcdef":
        by_ana.append(conn.append("tri", "node_added", {"node_id": node}, metadata={"actor": "ana"}))
    for i, (u, v) in enumerate(EDGES):
        conn.append("tri", "edge_added", {"edge_id": f"e{i}", "source": u, "target": v}, metadata={"actor": "ana"})
    suggestion = conn.agent_requests.call("analysis", "suggest_communities", {"graph_id": "tri", "seed": 1},
                                          timeout=120, correlation_id="corr-communities")
    assert suggestion.kind == "communities" and len(suggestion.events) == 6
    accepted = accept_suggestion(conn, suggestion, actor="cy")  # cy accepts the agent's suggestion
    by_bo = conn.append("tri", "node_updated", {"node_id": "a", "label": "hub"}, metadata={"actor": "bo"})

    p = provenance(conn, "a", graph_id="tri")
    [update] = [e for e in accepted if e.payload["node_id"] == "a"]
    assert p.kind == "node" and [e.event_id for e in p.events] == [by_ana[0].event_id, update.event_id,
                                                                    by_bo.event_id]
    causes = [p.cause_of(e) for e in p.events]
    assert (causes[0].kind, causes[0].actor) == ("command", "ana")
    assert (causes[1].kind, causes[1].id, causes[1].agent, causes[1].suggestion_kind, causes[1].decision) == (
        "suggestion", suggestion.id, "analysis", "communities", "applied")
    assert (causes[2].kind, causes[2].actor) == ("command", "bo")
    frame = p.frame
    assert frame.select("type", "actor", "cause_kind", "agent", "causation").rows() == [
        ("node_added", "ana", "command", None, by_ana[0].event_id),
        ("node_updated", "cy", "suggestion", "analysis", suggestion.id),
        ("node_updated", "bo", "command", None, by_bo.event_id)]
    text = repr(p)
    assert text.splitlines()[0] == "<Provenance of node 'a' in graph 'tri': 3 events>"
    assert "by agent analysis, applied" in text and "command by ana" in text and "command by bo" in text

    # the accepted suggestion's correlation: the suggestion caused each of its events
    tree = correlation_tree(conn, "corr-communities", graph_id="tri")
    raw = raw_events(conn, "tri")
    links = {(e["causation_id"], e["event_id"]) for _, e in raw
             if e["correlation_id"] == "corr-communities" and e["causation_id"] != e["event_id"]}
    assert set(tree.edges) == links and len(links) == 6
    assert tree.nodes[suggestion.id]["kind"] == "suggestion" and tree.nodes[suggestion.id]["agent"] == "analysis"
    assert tree.graph["roots"] == [suggestion.id]

    # the same events from a local graph holding them (its causes: no suggestion records there)
    local = Graph("tri")
    local.apply(conn.events("tri"))
    assert [e.event_id for e in provenance(local, "a").events] == [e.event_id for e in p.events]
    # a graph that does not keep its events (folded in bulk) cannot answer: it says so, never partially
    path = tmp_path / "edges.txt"
    path.write_text("".join(f"{u} {v}\n" for u, v in EDGES))
    conn.replay(path, graph_id="bulk", batch=100)  # one events_batch message, folded in bulk
    folded = conn.graph("bulk", live=False)
    assert (len(folded.events), folded.version) == (0, 14)
    with pytest.raises(GraphError, match="keeps 0 of its 14 events.*ask the stream"):
        provenance(folded, "a")
    assert len(provenance(conn, "a", graph_id="bulk")) == 1  # the stream has them
    with pytest.raises(GraphError, match="keeps 0 of its 14 events"):
        provenance(Graph.from_edges(EDGES), "a")


def test_provenance_of_an_edge_and_its_causing_event(conn):
    added = conn.append("g", "node_added", {"node_id": "x"}, metadata={"actor": "ana"})
    conn.append("g", "node_added", {"node_id": "y"}, metadata={"actor": "ana"})
    edge = conn.append("g", "edge_added", {"edge_id": "xy", "source": "x", "target": "y"},
                       correlation_id=added.correlation_id, causation_id=added.event_id, metadata={"actor": "ana"})
    conn.append("g", "edge_added", {"edge_id": "yx", "source": "y", "target": "x"})
    weight = conn.append("g", "edge_updated", {"edge_id": "xy", "weight": 2.5}, metadata={"actor": "bo"})
    gone = conn.append("g", "node_removed", {"node_id": "y"}, metadata={"actor": "bo"})

    p = provenance(conn, "xy", graph_id="g")
    assert p.kind == "edge" and [e.event_id for e in p] == [edge.event_id, weight.event_id, gone.event_id]
    first = p.cause_of(p.events[0])
    assert (first.kind, first.id, first.event_type, first.sequence, first.actor) == (
        "event", added.event_id, "node_added", added.sequence, "ana")
    assert provenance(conn, "x", graph_id="g").events == [added]  # a node's own events: not its edges
    with pytest.raises(EdgeNotFoundError, match="'x'"):
        provenance(conn, "x", graph_id="g", kind="edge")
    with pytest.raises(NodeNotFoundError, match="'nope'"):
        provenance(conn, "nope", graph_id="g")


# ---------------------------------------------------------------------- correlation tree
def test_correlation_tree_edges_are_the_raw_causation_links(conn):
    stored = conversation(conn)
    raw = raw_events(conn, "g")
    for corr, n_links in ((stored["root"].correlation_id, 6), ("bo-1", 2)):
        ids = {e["event_id"] for _, e in raw if e["correlation_id"] == corr}
        links = {(e["causation_id"], e["event_id"]) for _, e in raw
                 if e["correlation_id"] == corr and e["causation_id"] != e["event_id"]}
        tree = correlation_tree(conn, corr, graph_id="g")
        assert set(tree.edges) == links and len(links) == n_links
        assert set(tree.nodes) == ids | {cause for cause, _ in links}
    tree = correlation_tree(conn, stored["root"].correlation_id, graph_id="g")
    assert tree.graph["roots"] == [stored["root"].event_id]
    assert tree.nodes[stored["root"].event_id]["actor"] == "ana"
    assert sorted(tree.successors(stored["c"].event_id)) == sorted(e.event_id for e in stored["batch"])
    # bo's conversation: its root event's causation is the correlation id, the command that opened it
    other = correlation_tree(conn, "bo-1", graph_id=["g"])
    assert other.graph["roots"] == ["bo-1"] and other.nodes["bo-1"]["kind"] == "command"
    assert list(other.successors(stored["other"].event_id)) == [stored["other2"].event_id]
