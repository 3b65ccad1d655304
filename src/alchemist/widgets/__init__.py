"""alchemist.widgets — Jupyter widgets (anywidget) over alchemist's graphs, events, concepts and games.

The kernel computes; the browser shows. Every widget also carries a static HTML (or PNG) view in
its MIME bundle, so notebooks executed by papermill or converted by nbconvert still show it.
"""

from importlib import import_module as _import_module

__all__ = ["GraphView", "EventFeed", "Timeline", "ConceptSpaceView", "GameView", "AgentPanel", "EventStream", "correlation_view"]

_WHERE = {
    "GraphView": "graph_view", "EventFeed": "event_feed", "Timeline": "timeline",
    "ConceptSpaceView": "concept_view", "GameView": "game_view", "AgentPanel": "agent_panel", "EventStream": "live",
    "correlation_view": "provenance_view",
}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(_import_module(f"alchemist.widgets.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'alchemist.widgets' has no attribute {name!r}")
