"""The CID chain at the fold: every valid event applied exactly once, every bad one refused exactly once.

Each test folds the events of a replayed edge list (alchemist.cim.replay) with forged events mixed
in (msgspec.structs.replace, then the CID recomputed, so that only the chain is wrong), checks the
graph against a networkx MultiDiGraph built from the same lines, and checks that each forged
event is refused once, with its error class.
"""

import random
from collections import Counter

import msgspec
import networkx as nx
import pytest

from alchemist.cim.chain import CausalChain, RecentEvents
from alchemist.cim.fold import GraphFold
from alchemist.cim.replay import edge_list_events
from alchemist.errors import ChainError, ConflictingDuplicateError, ForkError, UnknownPredecessorError
from alchemist.events import cid, new_event
from alchemist.graph import Graph
from alchemist.graph.io import read_edge_list

_rng = random.Random(7)
LINES = [(f"n{_rng.randrange(12)}", f"n{_rng.randrange(12)}", 1_000 + 10 * i) for i in range(40)]
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


@pytest.fixture
def events(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("".join(f"{u} {v} {t}\n" for u, v, t in LINES))
    return list(edge_list_events(read_edge_list(path), "g"))


def forge(event, **changes):
    """``event`` with ``changes`` and a CID that matches its new content."""
    changed = msgspec.structs.replace(event, **changes)
    return msgspec.structs.replace(changed, cid=changed.compute_cid())


def intruder(name, previous_cid, timestamp=5_000):
    return new_event("node_added", "g", {"node_id": name}, timestamp=timestamp, previous_cid=previous_cid)


def fold_all(fold, stream, size=5, caught_up=True):
    """Feed ``stream`` in slices of ``size`` (caught up after the last); return every refusal."""
    refused = []
    for k in range(0, len(stream), size):
        refused += fold.feed(stream[k:k + size], caught_up=caught_up and k + size >= len(stream))
    return refused


def assert_graph_of(fold, lines, n_events, applied=None):
    """The fold's graph holds exactly the nodes and edges of ``lines`` (networkx) and ``n_events``
    events, ``applied`` of them (all by default) applied by this fold."""
    expected = nx.MultiDiGraph()
    for i, (u, v, _t) in enumerate(lines):
        expected.add_edge(u, v, key=f"e{i}")
    graph = fold.graph
    edges = graph.edges
    assert sorted(graph.node_ids) == sorted(expected.nodes)
    assert sorted(zip(edges["id"], edges["source"], edges["target"])) == sorted(
        (k, u, v) for u, v, k in expected.edges(keys=True))
    assert graph.version == n_events and fold.applied == (n_events if applied is None else applied)


def assert_refused_once(refused, expected):
    """``refused`` holds each event of ``expected`` (event, error class) once, and nothing else."""
    assert Counter(e.event_id for e, _ in refused) == Counter(e.event_id for e, _ in expected)
    assert {e.event_id: type(x) for e, x in refused} == {e.event_id: cls for e, cls in expected}


def test_valid_stream_applies_once_in_any_slicing(events):
    for size in (1, 4, len(events)):
        fold = GraphFold("g")
        assert fold_all(fold, events, size) == []
        assert_graph_of(fold, LINES, len(events))
        assert fold.parked == 0 and fold.duplicates == 0


def test_previous_cid_that_is_not_a_cid_is_refused_at_once(events):
    head = events[20].cid
    flipped = head[:-1] + ALPHABET[ALPHABET.index(head[-1]) ^ 1]  # a padding bit set: another spelling
    junk = intruder("junk", "not-a-cid")
    spelled = intruder("spelled", flipped)
    follower = intruder("follower", junk.cid)  # continues a refused event: refused too, without waiting
    stream = events[:21] + [junk, spelled, follower] + events[21:]
    fold = GraphFold("g")
    refused = fold.feed(stream[:24])  # not caught up: these need no wait
    assert_refused_once(refused, [(junk, ChainError), (spelled, ChainError), (follower, UnknownPredecessorError)])
    assert fold.feed(stream[24:], caught_up=True) == []
    assert_graph_of(fold, LINES, len(events))


def test_unknown_predecessor_waits_until_caught_up_then_is_refused(events):
    orphan = intruder("orphan", cid(b"an event that was never published"))
    stream = events[:30] + [orphan] + events[30:]
    fold = GraphFold("g")
    assert fold_all(fold, stream, caught_up=False) == [] and fold.parked == 1
    refused = fold.feed([], caught_up=True)
    assert_refused_once(refused, [(orphan, UnknownPredecessorError)])
    assert fold.parked == 0 and fold.feed([], caught_up=True) == []
    assert_graph_of(fold, LINES, len(events))


def test_fork_the_later_claim_is_refused(events):
    fork = intruder("fork", events[10].cid)  # events[11] already follows events[10]
    root = forge(events[0], event_id="0190a000-0000-7000-8000-000000000001")  # a second first event
    stream = events[:25] + [fork, root] + events[25:]
    fold = GraphFold("g")
    refused = fold_all(fold, stream, 3)
    assert_refused_once(refused, [(fork, ForkError), (root, ForkError)])
    assert_graph_of(fold, LINES, len(events))


def test_fork_while_waiting_keeps_the_first_in_stream_order(events):
    late = events[12]  # a publisher retry stores it after its successors
    rival = forge(events[13], event_id="0190a000-0000-7000-8000-000000000002")  # claims the same predecessor
    stream = events[:12] + [events[13], rival] + [late] + events[14:]
    fold = GraphFold("g")
    refused = fold_all(fold, stream, 4)
    assert_refused_once(refused, [(rival, ForkError)])
    assert_graph_of(fold, LINES, len(events))


def test_out_of_order_arrival_is_applied_in_chain_order(events):
    stream = events[:8] + events[15:27] + events[8:15] + events[27:]  # 8..14 stored late
    fold = GraphFold("g")
    assert fold.feed(stream[:20]) == [] and fold.parked == 12
    assert fold_all(fold, stream[20:], 3) == []
    assert fold.parked == 0
    assert_graph_of(fold, LINES, len(events))
    reference = Graph("g")
    reference.apply(events)
    assert fold.graph.nodes.equals(reference.nodes) and fold.graph.edges.equals(reference.edges)


def test_conflicting_duplicate_is_refused_identical_one_skipped(events):
    edge = next(e for e in events[5:] if e.event_type == "edge_added")
    conflict = forge(edge, payload={**edge.payload, "weight": 2.0})  # same id and predecessor, other content
    assert conflict.event_id == edge.event_id and conflict.cid != edge.cid
    stream = events[:30] + [conflict, events[7], events[7]] + events[30:] + [conflict, events[-1]]
    fold = GraphFold("g")
    refused = fold_all(fold, stream, 6)
    assert_refused_once(refused, [(conflict, ConflictingDuplicateError)])
    assert fold.duplicates == 4  # events[7] twice, the conflicting copy once more, events[-1]
    assert_graph_of(fold, LINES, len(events))


def test_conflicting_copy_of_a_waiting_event_is_refused(events):
    waiting = events[16]
    conflict = forge(waiting, timestamp="2001-01-01T00:00:00Z")
    stream = events[:15] + [waiting, conflict, waiting] + events[15:16] + events[17:]
    fold = GraphFold("g")
    refused = fold_all(fold, stream, 2)
    assert_refused_once(refused, [(conflict, ConflictingDuplicateError)])
    assert fold.duplicates == 1
    assert_graph_of(fold, LINES, len(events))


def test_event_older_than_the_window_is_refused_never_applied_twice(events):
    fold = GraphFold("g", window=8)
    assert fold_all(fold, events, 1) == []
    assert 8 <= len(fold.chain.recent) <= 16 and len(fold.applied_ids) == len(fold.chain.recent)
    old, recent = events[3], events[-2]  # replayed: old is outside the window, recent inside
    refused = fold.feed([old, recent], caught_up=True)
    assert_refused_once(refused, [(old, UnknownPredecessorError)])
    assert fold.duplicates == 1
    assert fold.feed([old], caught_up=True) == []  # refused once: now a known duplicate
    assert_graph_of(fold, LINES, len(events))


def test_parked_overflow_refuses_the_oldest(events):
    orphans = [intruder(f"orphan{k}", cid(f"missing {k}".encode())) for k in range(5)]
    stream = events[:10] + orphans[:2] + events[10:20] + orphans[2:] + events[20:]
    fold = GraphFold("g", max_parked=3)
    refused = fold_all(fold, stream, 4, caught_up=False)
    assert_refused_once(refused, [(orphans[0], UnknownPredecessorError), (orphans[1], UnknownPredecessorError)])
    assert fold.parked == 3
    rest = fold.feed([], caught_up=True)
    assert_refused_once(rest, [(o, UnknownPredecessorError) for o in orphans[2:]])
    assert_graph_of(fold, LINES, len(events))


def test_live_wait_refuses_after_chain_wait_seconds(events):
    now = [0.0]
    fold = GraphFold("g", chain_wait=5.0, clock=lambda: now[0])
    stream = events[:10] + events[11:15]  # events[10] is late
    assert fold.feed(stream, caught_up=True) == [] and fold.parked == 4  # caught up, but within the wait
    now[0] = 4.0
    assert fold.expire_parked() == [] and fold.feed(events[10:11] + events[15:], caught_up=True) == []
    orphan = intruder("orphan", cid(b"never"))
    assert fold.feed([orphan], caught_up=True) == []
    now[0] = 8.9
    assert fold.expire_parked() == [] and fold.parked == 1
    now[0] = 9.0
    assert_refused_once(fold.expire_parked(), [(orphan, UnknownPredecessorError)])
    assert_graph_of(fold, LINES, len(events))


def test_continuing_from_a_snapshot_keeps_exactly_once(events):
    first = GraphFold("g")
    assert fold_all(first, events[:25]) == []
    again = GraphFold("g", first.graph, applied_ids=first.applied_ids)  # head = graph.last_cid
    fork = intruder("fork", events[30].cid)
    before = intruder("before", events[23].cid)  # the snapshot keeps ids, not CIDs: an unknown predecessor
    refused = fold_all(again, events[20:] + [fork, before])  # 20..24 are redeliveries
    assert_refused_once(refused, [(fork, ForkError), (before, UnknownPredecessorError)])
    assert again.duplicates == 5
    assert_graph_of(again, LINES, len(events), applied=len(events) - 25)  # this fold applied the rest


def test_mid_stream_read_anchors_on_its_first_event(events):
    start = next(k for k, e in enumerate(events) if k > 20 and e.event_type == "edge_added")
    fold = GraphFold("g", Graph("g", strict=False), mid_stream=True)
    fork = intruder("fork", events[start].cid)
    assert_refused_once(fold_all(fold, events[start:start + 3] + [fork] + events[start + 3:]), [(fork, ForkError)])
    expected = nx.MultiDiGraph()
    for e in events[start:]:
        if e.event_type == "edge_added":
            expected.add_edge(e.payload["source"], e.payload["target"], key=e.payload["edge_id"])
    edges = fold.graph.edges
    assert sorted(zip(edges["id"], edges["source"], edges["target"])) == sorted(
        (k, u, v) for u, v, k in expected.edges(keys=True))
    assert fold.graph.version == len(events) - start


def test_without_causal_order_only_ids_are_checked(events):
    fork = intruder("fork", events[10].cid)
    conflict = forge(events[4], timestamp="2001-01-01T00:00:00Z")
    fold = GraphFold("g", causal=False)
    refused = fold_all(fold, events + [fork, conflict, events[3]])
    assert_refused_once(refused, [(conflict, ConflictingDuplicateError)])
    assert "fork" in fold.graph and fold.duplicates == 1


def test_window_and_parking_settings_are_checked():
    with pytest.raises(ValueError, match="window"):
        RecentEvents(0)
    with pytest.raises(ValueError, match="max_parked"):
        CausalChain(max_parked=0)
