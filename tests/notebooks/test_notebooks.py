"""Execute the notebooks 01–05 with papermill on small inputs, and check their outputs."""

from __future__ import annotations

import ast
import gzip
import json

import numpy as np
import polars as pl
import pytest

import papermill

NOTEBOOKS = "notebooks"


def run(repo_root, tmp_path, name, **parameters):
    out = tmp_path / name
    papermill.execute_notebook(str(repo_root / NOTEBOOKS / name), str(out), parameters=parameters,
                               cwd=str(repo_root / NOTEBOOKS), kernel_name="python3", progress_bar=False)
    return json.loads(out.read_text())


def outputs(nb, mime):
    return [o["data"][mime] for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
            if "data" in o and mime in o["data"]]


def test_quickstart(repo_root, tmp_path):
    nb = run(repo_root, tmp_path, "01-quickstart.ipynb", iterations=30)
    html = "\n".join("".join(h) for h in outputs(nb, "text/html"))
    assert "1,899 nodes" in html  # the CollegeMsg graph as SNAP documents it
    assert any("widget-view+json" in o for c in nb["cells"] for o in
               [k for out in c.get("outputs", []) for k in out.get("data", {})])
    assert 'src="data:image/png;base64,' in html  # the GraphView's static fallback
    assert outputs(nb, "image/png")
    # the HoloViews section: a Bokeh plot of the datashaded edges under the hv.Nodes (one per node)
    assert outputs(nb, "application/vnd.holoviews_exec.v0+json")
    assert any(":Overlay" in "".join(t) and ".Nodes.I" in "".join(t) for t in outputs(nb, "text/plain"))


def _widget_states(nb):
    """The state papermill saved for each widget, by anywidget class name (or ipywidgets model)."""
    states = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    out: dict[str, list] = {}
    for model in states.values():
        name = model["state"].get("_anywidget_id", model["model_name"]).rsplit(".", 1)[-1]
        out.setdefault(name, []).append(model["state"])
    return out


def _first_events(path, limit):
    """graph_created, then per line the node_added of each new id and its edge_added, cut at ``limit``."""
    seen, total, nodes, edges, first = set(), 1, 0, 0, None
    with gzip.open(path, "rt") as handle:
        for line in handle:
            src, dst, when = line.split()[:3]
            first = int(when) if first is None else first
            for node in (src, dst):
                if node not in seen and total < limit:
                    seen.add(node)
                    total, nodes = total + 1, nodes + 1
            if total < limit:
                total, edges = total + 1, edges + 1
            if total >= limit:
                break
    return nodes, edges, first


@pytest.mark.integration
def test_live_dashboard(repo_root, tmp_path, monkeypatch):
    import datetime

    monkeypatch.setenv("ALCHEMIST_HOME", str(tmp_path / "home"))
    nb = run(repo_root, tmp_path, "02-live-cim-dashboard.ipynb", rate=5000, limit=3000, snapshot_events=400)
    widgets = _widget_states(nb)
    assert len(widgets["GraphView"]) == 2 and len(widgets["GridBoxModel"]) == 1  # live + snapshot, in one grid
    feed = widgets["EventFeed"][0]
    assert 400 <= feed["total"] <= 3000  # the replay runs on while the notebook ends: whatever arrived, in order
    nodes, edges, first = _first_events(repo_root / "data" / "samples" / "CollegeMsg.txt.gz", feed["total"])
    assert feed["counts"] == {"graph_created": 1, "node_added": nodes, "edge_added": edges}
    snapshot = [v for v in widgets["GraphView"] if not v["live"]][0]
    assert snapshot["version"] == 400
    start = datetime.datetime.fromtimestamp(first, datetime.timezone.utc)
    assert widgets["Timeline"][0]["start_label"] == f"{start:%Y-%m-%d %H:%M} UTC"
    assert any(a["name"] == "analysis" for a in widgets["AgentPanel"][0]["agents"])


def _srgb_hex_to_lab(codes):
    # an independent conversion: scikit-image's rgb2lab (D65), not the notebook's formula
    from skimage.color import rgb2lab

    rgb = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in codes], dtype=float) / 255
    return rgb2lab(rgb[None, :, :])[0]


BASIC = {"black": "#000000", "white": "#ffffff", "grey": "#808080", "red": "#e00000", "green": "#00a000",
         "yellow": "#ffff00", "blue": "#0000ff", "brown": "#8b4513", "purple": "#800080", "pink": "#ffc0cb",
         "orange": "#ffa500"}


def _nearest_term_counts(lab):
    from scipy.spatial import cKDTree

    _, nearest = cKDTree(_srgb_hex_to_lab(BASIC.values())).query(lab)
    names = list(BASIC)
    return {names[k]: int(c) for k, c in zip(*np.unique(nearest, return_counts=True))}


def _counts_output(nb):
    return ast.literal_eval([t for t in map("".join, outputs(nb, "text/plain")) if t.startswith("{")][0])


def test_conceptual_spaces_from_shipped_data(repo_root, tmp_path):
    nb = run(repo_root, tmp_path, "03-conceptual-spaces.ipynb")
    colours = pl.read_csv(repo_root / "data" / "samples" / "colornames_bestof.csv.gz")
    assert colours.height == 4961  # the file's own row count (4,962 lines with the header)
    counts = _counts_output(nb)
    expected = _nearest_term_counts(_srgb_hex_to_lab(colours["hex"]))
    assert sum(counts.values()) == colours.height
    # scikit-image's exact sRGB matrix against the notebook's 4-decimal one: a few borderline colours may flip
    assert sum(abs(counts.get(k, 0) - expected.get(k, 0)) for k in BASIC) <= 0.01 * colours.height
    html = "\n".join("".join(h) for h in outputs(nb, "text/html"))
    assert "Named colours by basic colour term" in html and 'src="data:image/png;base64,' in html


def test_conceptual_spaces_with_optional_munsell_chips(repo_root, tmp_path, shared_data):
    path = shared_data("conceptual_spaces/munsell_real_CIELAB.csv")
    nb = run(repo_root, tmp_path, "03-conceptual-spaces.ipynb", munsell=str(path), max_points=400)
    chips = pl.read_csv(path).head(400)
    counts = _counts_output(nb)
    expected = _nearest_term_counts(chips.select(["L*", "a*", "b*"]).to_numpy())
    assert sum(counts.values()) == 400
    assert sum(abs(counts.get(k, 0) - expected.get(k, 0)) for k in BASIC) <= 4
    html = "\n".join("".join(h) for h in outputs(nb, "text/html"))
    assert "Munsell chips by basic colour term" in html


def test_conceptual_spaces_names_the_missing_optional_file(repo_root, tmp_path):
    nb = run(repo_root, tmp_path, "03-conceptual-spaces.ipynb", munsell=str(tmp_path / "absent.csv"), max_points=50)
    text = json.dumps(nb)
    assert "absent.csv is absent" in text and "50 named colours" in text


def test_game_theory_from_shipped_data(repo_root, tmp_path):
    nb = run(repo_root, tmp_path, "04-game-theory.ipynb")
    plain = "\n".join("".join(t) for t in outputs(nb, "text/plain"))
    # the 6x6 coordination game: one equilibrium per non-empty set of actions (uniform play on it)
    assert plain.split("\n")[0] == str(2 ** 6 - 1)
    html = "\n".join("".join(h) for h in outputs(nb, "text/html"))
    assert "63 equilibria" in html and "Shapley" in html and "karate club coalitions" in html


def test_game_theory_with_optional_gambit_game(repo_root, tmp_path, shared_data):
    path = shared_data("gambit_games/catalog/journals/dcg/vonstengel1999/6x6_game_with_75_eq_small_payoffs.nfg")
    nb = run(repo_root, tmp_path, "04-game-theory.ipynb", gambit_game=str(path))
    plain = "\n".join("".join(t) for t in outputs(nb, "text/plain"))
    assert "75" in plain.split("\n")[0]  # von Stengel's game has 75 equilibria (its file name says so)
    html = "\n".join("".join(h) for h in outputs(nb, "text/html"))
    assert "75 equilibria" in html


def test_notebooks_read_only_what_the_repository_ships(repo_root):
    """Every path a notebook's parameters name by default lies inside the repository and exists;
    no notebook reads the shared data folder unless told to."""
    root = repo_root.resolve()
    for path in sorted((repo_root / NOTEBOOKS).glob("*.ipynb")):
        nb = json.loads(path.read_text())
        sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        params = [s for c, s in zip([c for c in nb["cells"] if c["cell_type"] == "code"], sources)
                  if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(params) == 1, path.name
        values: dict = {}
        exec(params[0], values)  # the notebook's own parameters cell: assignments of literals
        for name, value in values.items():
            if name in ("output", "output_dir") or not isinstance(value, str) or "/" not in value:
                continue
            # report.ipynb runs from the repository root (`alchemist demo`), the others from notebooks/
            target = ((root if path.name == "report.ipynb" else root / NOTEBOOKS) / value).resolve()
            assert target.is_relative_to(root) and target.exists(), (path.name, name, value)
        assert "shared/data" not in "\n".join(sources).replace("project's shared data", ""), path.name


def test_scheduled_report(repo_root, tmp_path):
    out = tmp_path / "report"
    nb = run(repo_root, tmp_path, "05-scheduled-report.ipynb", output=str(out), window_days=10, iterations=20)
    summary = json.loads((out / "summary.json").read_text())
    # the window counted independently: lines of the file within 10 days of its last timestamp
    with gzip.open(repo_root / "data" / "samples" / "CollegeMsg.txt.gz", "rt") as handle:
        rows = [line.split() for line in handle if line.strip() and not line.startswith("#")]
    last = max(int(r[2]) for r in rows)
    window = [r for r in rows if int(r[2]) >= last - 10 * 86400]
    assert summary["window_days"] == 10
    assert summary["edges"] == len(window)
    assert summary["nodes"] == len({r[0] for r in window} | {r[1] for r in window})
    assert (out / "graph.png").read_bytes()[:4] == b"\x89PNG"
    markdown = "\n".join("".join(m) for m in outputs(nb, "text/markdown"))
    assert f"**{len(window):,} messages**" in markdown
    html = "\n".join("".join(h) for h in outputs(nb, "text/html"))
    assert "Figure 1." in html and "alchemist-legend" in html and "PageRank" in html
