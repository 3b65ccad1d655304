"""The GraphQL schema itself: the seed's names (seed 000 §2), the documented copy, the cost of a query."""

from __future__ import annotations

import re

from graphql import parse

from alchemist.gateway.graphql_api import schema_sdl
from alchemist.gateway.graphql_api.guards import query_cost

SEED = {  # seed 000 §2, "Schema Definition": every root field and the arguments it names
    "Query": {"graph": {"id"}, "graphs": {"filter", "pagination"}, "node": {"id"}, "nodes": {"graphId", "filter"},
              "searchNodes": {"query", "limit"}, "findPath": {"from", "to", "maxDepth"},
              "graphStatistics": {"id"}, "clusterAnalysis": {"graphId", "algorithm"}},
    "Mutation": {"createGraph": {"input"}, "importGraph": {"source"}, "addNode": {"graphId", "input"},
                 "updateNode": {"id", "input"}, "removeNode": {"id"}, "createEdge": {"input"}, "removeEdge": {"id"},
                 "applyLayout": {"graphId", "algorithm"}},
    "Subscription": {"graphUpdates": {"graphId"}, "aiInsights": {"graphId"}, "collaboratorActivity": {"graphId"}},
}


def test_the_schema_has_the_seeds_root_fields_and_arguments():
    from graphql import build_schema

    schema = build_schema(schema_sdl())  # the served schema, read back from its SDL
    for root, fields in SEED.items():
        have = schema.get_type(root).fields
        for name, arguments in fields.items():
            assert name in have, f"{root}.{name}"
            assert arguments <= set(have[name].args), f"{root}.{name}: {arguments - set(have[name].args)}"
    mutations = schema.get_type("Mutation").fields
    assert all("expectedVersion" in f.args for n, f in mutations.items() if n not in ("createGraph", "importGraph"))
    default = lambda field, arg: schema.get_type("Query").fields[field].args[arg].ast_node.default_value.value  # noqa: E731
    assert (default("searchNodes", "limit"), default("findPath", "maxDepth")) == ("20", "10")  # the seed's defaults


def test_the_documented_schema_is_the_served_one(repo_root):
    text = (repo_root / "docs" / "gateway.md").read_text()
    documented = re.search(r"```graphql\n(.*?)```", text, re.S).group(1)
    assert documented.strip() == schema_sdl().strip()


def test_query_cost_counts_fields_and_pages_by_hand():
    # graph(1) + nodes(1) + 50 x [edges(1) + node(1) + nodeId(1) + neighbors(1) + 10 x id(1)] = 2 + 50 * 14
    query = '{ graph(id: "g") { nodes(first: 50) { edges { node { nodeId neighbors(first: 10) { id } } } } } }'
    assert query_cost(parse(query), {}, None, max_page=1000) == (702, 50)
    # the page from a variable; a fragment counted where it is spread
    query = ("query($n: Int) { nodes(graphId: \"g\", first: $n) { ...page } } "
             "fragment page on NodeConnection { totalCount edges { cursor } }")
    assert query_cost(parse(query), {"n": 7}, None, max_page=1000) == (1 + 7 * (1 + 1 + 1), 7)
    assert query_cost(parse(query), {}, None, max_page=1000)[0] == 1 + 1000 * 3  # unknown: the largest page
