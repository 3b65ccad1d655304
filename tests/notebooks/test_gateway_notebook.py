"""Execute notebooks/06-gateway.ipynb with papermill (a gateway on the embedded CIM, queried with httpx and gql)."""

from __future__ import annotations

import ast
import gzip
import json

import pytest

import papermill

pytestmark = pytest.mark.integration


def test_gateway_notebook(repo_root, tmp_path, monkeypatch):
    import networkx as nx

    monkeypatch.setenv("ALCHEMIST_HOME", str(tmp_path / "home"))  # the embedded CIM of the notebook
    for name in ("ALCHEMIST_NATS_URL", "NATS_URL"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "06-gateway.ipynb"
    papermill.execute_notebook(str(repo_root / "notebooks" / "06-gateway.ipynb"), str(out),
                               cwd=str(repo_root / "notebooks"), kernel_name="python3", progress_bar=False)
    nb = json.loads(out.read_text())
    last = [o for o in nb["cells"][-1]["outputs"] if "data" in o][0]["data"]["text/plain"]
    summary = ast.literal_eval("".join(last))
    G = nx.DiGraph()
    with gzip.open(repo_root / "data" / "samples" / "CollegeMsg.txt.gz", "rt") as handle:
        lines = [line.split()[:2] for line in handle if line.strip()]
    G.add_edges_from(lines)
    assert summary["nodes"] == G.number_of_nodes() == 1899  # as SNAP documents CollegeMsg
    assert summary["edges"] == len(lines)  # every line an edge (parallel ones kept)
    assert summary["path_length"] == nx.shortest_path_length(G, "1", "1000")
    assert summary["added"] == "college/analyst-note"
    assert summary["conflict"] == "VERSION_CONFLICT"
    assert summary["updates"] == ["node_added", "node_updated"] and summary["actor"] == "anonymous"
