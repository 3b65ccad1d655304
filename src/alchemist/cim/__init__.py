"""The CIM connector: the embedded nats-server, JetStream streams, publishing and consuming."""

from alchemist.cim.connection import GRAPH_STREAM, Connection, PublishResult, connect, stream_config
from alchemist.cim.replay import count_events, edge_list_events, replay_edge_list
from alchemist.cim.server import EmbeddedServer, alchemist_home, find_nats_server

__all__ = [
    "GRAPH_STREAM", "Connection", "EmbeddedServer", "PublishResult", "alchemist_home", "connect",
    "count_events", "edge_list_events", "find_nats_server", "replay_edge_list", "stream_config",
]
