"""The CIM connector: the embedded nats-server, JetStream streams, publishing and consuming,
object store and snapshots, agents and insights (DESIGN.md §2–3)."""

from alchemist.cim.agents import Agent, AnalysisAgent
from alchemist.cim.connection import (
    DLQ_STREAM,
    GRAPH_STREAM,
    INSIGHTS_CONSUMER,
    INSIGHTS_STREAM,
    Connection,
    GraphFeed,
    PublishResult,
    connect,
    stream_config,
)
from alchemist.cim.fold import GraphFold
from alchemist.cim.objects import LRUCache, ObjectStore
from alchemist.cim.observability import metrics_text, serve_metrics
from alchemist.cim.options import ConnectOptions
from alchemist.cim.provenance import Cause, Provenance, correlation_tree, provenance
from alchemist.cim.readers import arrows_events, read_cim_graph_events
from alchemist.cim.replay import count_events, edge_list_events, edge_list_records, replay_edge_list
from alchemist.cim.resilience import CircuitBreaker, Outbox
from alchemist.cim.server import EmbeddedServer, alchemist_home, find_nats_server
from alchemist.cim.suggestions import Suggestion, accept_suggestion, reject_suggestion

__all__ = [
    "Agent", "AnalysisAgent", "Cause", "CircuitBreaker", "ConnectOptions", "Connection", "DLQ_STREAM", "EmbeddedServer",
    "GRAPH_STREAM", "GraphFeed", "GraphFold", "INSIGHTS_CONSUMER", "INSIGHTS_STREAM", "LRUCache", "ObjectStore",
    "Outbox", "Provenance", "PublishResult", "Suggestion", "accept_suggestion", "correlation_tree", "provenance",
    "reject_suggestion", "alchemist_home", "arrows_events", "connect", "count_events", "edge_list_events", "edge_list_records",
    "find_nats_server", "metrics_text", "read_cim_graph_events", "replay_edge_list", "serve_metrics", "stream_config",
]
