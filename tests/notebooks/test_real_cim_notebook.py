"""Execute notebooks/08-real-cim.ipynb with papermill (cim-graph's and the original app's events on a real embedded
nats-server, folded through the interop profiles) and check its summary against the shipped files, counted here."""

from __future__ import annotations

import ast
import json
from collections import Counter

import blake3
import pytest

import papermill

pytestmark = pytest.mark.integration


def test_real_cim_notebook(repo_root, tmp_path, monkeypatch):
    monkeypatch.setenv("ALCHEMIST_HOME", str(tmp_path / "home"))
    for name in ("ALCHEMIST_NATS_URL", "NATS_URL"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "08-real-cim.ipynb"
    papermill.execute_notebook(str(repo_root / "notebooks" / "08-real-cim.ipynb"), str(out),
                               cwd=str(repo_root / "notebooks"), kernel_name="python3", progress_bar=False,
                               parameters={"iterations": 50})
    nb = json.loads(out.read_text())
    last = [o for o in nb["cells"][-1]["outputs"] if "data" in o][0]["data"]["text/plain"]
    summary = ast.literal_eval("".join(last))

    events = json.loads((repo_root / "data" / "samples" / "cim-graph-example_events.json").read_text())["events"]
    variants = Counter(next(iter(next(iter(e["payload"].values())))) for e in events)
    cg = summary["cim_graph"]
    assert cg["nodes"] == variants["StateAdded"] + variants["ConceptDefined"] == 5
    assert cg["edges"] == variants["RelationAdded"] == 1
    assert (cg["workflow_nodes"], cg["concept_nodes"], cg["concept_edges"]) == (3, 2, 1)
    assert cg["events"] == len(events) and cg["rejected"] == 0
    assert cg["unmapped"] == ["Workflow.WorkflowDefined"]
    assert cg["first_year"] >= 2025  # JetStream's time of the run, not 1970

    sample = json.loads((repo_root / "data" / "samples" / "alchemist_rs_sample_graph.json").read_text())
    rs = summary["alchemist_rs"]
    assert rs["nodes"] == len(sample["nodes"]) and rs["edges"] == len(sample["relationships"])
    assert rs["unmapped"] == ["LayoutChanged"]
    assert rs["first_seen_ms"] == [1_752_700_000_000 + 1000 * (i + 1) for i in range(len(sample["nodes"]))]

    assert summary["cids"] == {"verified": ["dag-cbor", "dag-json", "cim-event"], "tampered": "refused"}
    images = [o for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 2
    # the pictures are different renders (one per graph), not the same bytes twice
    assert len({blake3.blake3(i["data"]["image/png"].encode()).hexdigest() for i in images}) == 2
