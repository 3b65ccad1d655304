"""Plugins found by real entry-point discovery: a distribution (``*.dist-info`` with
``entry_points.txt``) and its module written into a temporary folder put on ``sys.path``."""

from __future__ import annotations

import sys
import textwrap
import warnings

import networkx as nx
import numpy as np
import pytest

from alchemist.gateway import plugins
from alchemist.gateway.plugins import PluginWarning

MODULE = "alchemist_demo_plugin"

SOURCE = '''
import msgspec
import strawberry
from pathlib import Path

from alchemist.cim.agents import Agent
from alchemist.graph import Graph
from alchemist.layout.forces import Force


def read_pairs(path, *, graph_id=None, directed=False):
    edges = [tuple(line.strip().split("-")) for line in Path(path).read_text().splitlines() if line.strip()]
    return Graph.from_edges(edges, graph_id=graph_id or Path(path).stem, directed=directed)


def write_pairs(graph, path):
    rows = graph.edges.select("source", "target").rows()
    Path(path).write_text("".join(f"{s}-{t}\\n" for s, t in rows))
    return Path(path)


class EchoAgent(Agent):
    name = "demo-echo"
    capabilities = ("echo",)

    def handle(self, capability, payload, headers):
        return payload


class TowardOrigin(Force):
    def compute(self, positions):
        return -positions


@strawberry.type
class DemoQuery:
    @strawberry.field
    def demo_answer(self) -> int:
        return 42


class NoteTaken(msgspec.Struct):
    text: str


NOT_CALLABLE = 3
'''

ENTRY_POINTS = f'''
[alchemist.readers]
pairs = {MODULE}:read_pairs
broken = {MODULE}:missing_reader

[alchemist.writers]
pairs = {MODULE}:write_pairs
number = {MODULE}:NOT_CALLABLE

[alchemist.agents]
demo-echo = {MODULE}:EchoAgent
analysis = {MODULE}:EchoAgent

[alchemist.layout_forces]
toward_origin = {MODULE}:TowardOrigin
absent = alchemist_no_such_module:Force

[alchemist.graphql]
demo = {MODULE}:DemoQuery

[alchemist.event_types]
demo_note_taken = {MODULE}:NoteTaken
'''


@pytest.fixture
def demo_plugin(tmp_path, monkeypatch):
    (tmp_path / f"{MODULE}.py").write_text(textwrap.dedent(SOURCE))
    info = tmp_path / "alchemist_demo_plugin-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: alchemist-demo-plugin\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    from alchemist.cim.agents import AGENTS
    from alchemist.events import types

    before_agents, before_types = dict(AGENTS), types.EVENT_TYPES
    yield tmp_path
    AGENTS.clear()
    AGENTS.update(before_agents)
    if "demo_note_taken" in types.EVENT_TYPES and "demo_note_taken" not in before_types:
        types._SCHEMAS.pop("demo_note_taken", None)  # noqa: SLF001 (restore the registry for other tests)
        types.EVENT_TYPES = tuple(types._SCHEMAS)  # noqa: SLF001
    sys.modules.pop(MODULE, None)


def test_a_reader_and_writer_plugin_read_and_write_files(demo_plugin):
    path = demo_plugin / "tiny.pairs"
    path.write_text("a-b\nb-c\nc-a\nc-d\n")
    with pytest.warns(PluginWarning, match=r"broken = alchemist_demo_plugin:missing_reader .*alchemist-demo-plugin 1\.2"):
        graph = plugins.read_graph(path)
    reference = nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    assert sorted(graph.node_ids) == sorted(reference.nodes)
    assert graph.number_of_edges() == reference.number_of_edges() == 4
    assert graph.graph_id == "tiny"
    with pytest.warns(PluginWarning, match=r"number = alchemist_demo_plugin:NOT_CALLABLE .*not callable"):
        written = plugins.write_graph(graph, demo_plugin / "copy.pairs")
    assert written.read_text() == "a-b\nb-c\nc-a\nc-d\n"


def test_a_built_in_format_still_goes_to_the_built_in_reader(demo_plugin):
    path = demo_plugin / "g.graphml"
    nx.write_graphml(nx.path_graph(3), path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        graph = plugins.read_graph(path)
    assert graph.number_of_nodes() == 3 and graph.number_of_edges() == 2


def test_broken_plugins_are_skipped_with_a_warning_naming_them(demo_plugin):
    with pytest.warns(PluginWarning) as caught:
        found = plugins.discover("alchemist.layout_forces")
    assert [p.name for p in found] == ["toward_origin"]
    messages = [str(w.message) for w in caught]
    assert any("absent = alchemist_no_such_module:Force" in m and "ModuleNotFoundError" in m for m in messages)
    with pytest.warns(PluginWarning, match="absent"):
        force = plugins.layout_forces()["toward_origin"]()
    positions = np.array([[1.0, -2.0], [3.0, 0.5]], np.float32)
    assert force(positions).tolist() == (-positions).tolist()
    with pytest.raises(ValueError, match="alchemist.readers"):
        plugins.discover("alchemist.nope")


def test_agents_and_event_types_are_registered_and_taken_names_kept(demo_plugin):
    from alchemist.cim.agents import AGENTS, AnalysisAgent
    from alchemist.events import new_event, types

    with pytest.warns(PluginWarning) as caught:
        found = plugins.register_all()
    assert any("agent name 'analysis' is taken by AnalysisAgent" in str(w.message) for w in caught)
    assert found["alchemist.agents"] == ["analysis", "demo-echo"]
    assert AGENTS["analysis"] is AnalysisAgent and AGENTS["demo-echo"].__name__ == "EchoAgent"
    assert "demo_note_taken" in types.EVENT_TYPES
    event = new_event("demo_note_taken", "g1", {"text": "hello"})
    assert event.verify().payload == {"text": "hello"}
    with pytest.raises(Exception, match="text"):
        new_event("demo_note_taken", "g1", {"text": 5})


def test_graphql_types_merge_into_a_strawberry_schema(demo_plugin):
    import strawberry
    from strawberry.tools import merge_types

    @strawberry.type
    class Base:
        @strawberry.field
        def ping(self) -> str:
            return "pong"

    extra = plugins.graphql_types()
    assert [t.__name__ for t in extra] == ["DemoQuery"]
    schema = strawberry.Schema(query=merge_types("Query", (Base, *extra)))
    result = schema.execute_sync("{ ping demoAnswer }")
    assert result.errors is None and result.data == {"ping": "pong", "demoAnswer": 42}


def test_the_gateway_lists_the_plugins(demo_plugin):
    import asyncio

    import httpx
    from starlette.applications import Starlette

    app = Starlette(routes=plugins.routes(None))

    async def get():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            return (await client.get("/api/v1/plugins")).json()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        body = asyncio.run(get())
    assert set(body) == set(plugins.GROUPS)
    assert body["alchemist.readers"] == [{"name": "pairs", "entry_point": f"pairs = {MODULE}:read_pairs",
                                          "distribution": "alchemist-demo-plugin 1.2"}]
    assert [p["name"] for p in body["alchemist.graphql"]] == ["demo"]


def test_the_gateway_schema_serves_plugin_fields(demo_plugin):
    from alchemist.gateway.graphql_api import build_schema
    from alchemist.gateway.settings import GatewaySettings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        schema = build_schema(GatewaySettings())
    result = schema.execute_sync("{ demoAnswer }")
    assert result.errors is None and result.data == {"demoAnswer": 42}
    assert "graphStatistics" in str(schema)  # the gateway's own fields are still there
