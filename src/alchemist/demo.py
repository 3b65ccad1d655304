"""``alchemist demo``: the main job end to end on real data.

1. start the embedded CIM (a real ``nats-server`` with JetStream);
2. create the ``GRAPH_EVENTS`` stream;
3. replay a real timestamped graph (SNAP CollegeMsg by default) as CIM events, in batches,
   with deterministic ids (a re-run adds nothing twice);
4. consume the events with a durable pull consumer into an :class:`alchemist.Graph`;
5. analyse it (Louvain communities, PageRank, betweenness, degree, messages per day);
6. lay it out with ForceAtlas2 (LinLog) and render a picture coloured by community, node area by
   degree, framed to fit;
7. execute ``notebooks/report.ipynb`` with papermill and export it to HTML (no code, no prompts,
   every picture inside the file);
8. print a summary.
"""

from __future__ import annotations

import functools
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path

__all__ = ["run_demo", "default_source", "repository_root"]


def repository_root() -> Path:
    """The source checkout alchemist runs from (holds ``data/samples`` and ``notebooks``)."""
    return Path(__file__).resolve().parents[2]


def default_source() -> Path:
    """The shipped SNAP CollegeMsg sample."""
    return repository_root() / "data" / "samples" / "CollegeMsg.txt.gz"


def run_demo(source: str | os.PathLike | None = None, *, graph_id: str | None = None, output: str = "alchemist-out",
             iterations: int = 300, batch: int = 1000, report: bool = True, echo=None) -> dict:
    """Run the main job; returns the metrics it writes to ``<output>/metrics.json``.

    Parameters
    ----------
    source : str or os.PathLike, optional
        SNAP edge list (``src dst [unixtime]``); the shipped CollegeMsg sample by default.
    graph_id : str, optional
        Aggregate id on the CIM (default: from the file name).
    output : str
        Output folder: ``metrics.json``, ``graph.png``, ``nodes.parquet`` (positions and
        per-node analytics), ``messages_per_day.csv``, ``report.ipynb`` and ``report.html``.
    iterations : int
        ForceAtlas2 iterations.
    batch : int
        Events per JetStream message on replay.
    report : bool
        Execute and export the report notebook.
    echo : callable, optional
        Where progress lines go (``print`` by default).

    Returns
    -------
    dict
        The metrics (counts, throughput, stage times, communities, output paths).

    Raises
    ------
    EdgeListFormatError
        The source file is missing, empty or malformed (before anything starts).
    """
    from alchemist.backend import get_backend
    from alchemist.cim import connect
    from alchemist.graph.io import read_edge_list

    echo = echo or functools.partial(print, flush=True)
    source = Path(source) if source else default_source()
    out = Path(output)
    stages: dict[str, float] = {}

    @contextmanager
    def stage(name: str):
        echo(f"· {name} …")
        start = time.perf_counter()
        yield
        stages[name] = time.perf_counter() - start

    total_start = time.perf_counter()
    with stage("read source"):
        edges = read_edge_list(source)
    graph_id = graph_id or _graph_id(source)
    out.mkdir(parents=True, exist_ok=True)
    with stage("start embedded CIM"):
        connection = connect()
    try:
        with stage("replay events"):
            published = connection.replay(edges, graph_id=graph_id, batch=batch, progress=True)
        with stage("consume into Graph"):
            graph = connection.graph(graph_id, progress=True)
        url = connection.url
    finally:
        connection.close()
    from alchemist.graph import connected_components, modularity
    from alchemist.layout import forceatlas2
    from alchemist.layout.warmup import warmup
    from alchemist.reporting import community_picture, messages_per_day, node_analytics

    with stage("analytics"):
        analytics = node_analytics(graph)
        communities = analytics["community"].to_numpy()
        components = connected_components(graph)
        daily = messages_per_day(graph.edges["timestamp"].to_numpy())
    with stage("ForceAtlas2 compile (one time)"):  # Numba compiles on first use; cached on disk after
        warmup()
    with stage("ForceAtlas2 layout"):
        positions = forceatlas2(graph, iterations=iterations, seed=42, lin_log=True)
    with stage("render PNG"):
        giant = components == 0  # numbered by decreasing size
        png, legend = community_picture(graph, positions, communities, analytics["degree"].to_numpy(),
                                        width=1000, height=760, frame=giant)
        (out / "graph.png").write_bytes(png)
    events_total = published.published + published.duplicates
    metrics = {
        "source": str(source),
        "graph_id": graph_id,
        "nats_url": url,
        "lines": len(edges),
        "events_total": events_total,
        "events_published": published.published,
        "events_already_on_stream": published.duplicates,
        "jetstream_messages": published.messages,
        "events_applied": graph.version,
        "events_rejected": len(getattr(graph, "rejected", [])),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "publish_events_per_second": (published.published / stages["replay events"]) if published.published else None,
        "consume_events_per_second": graph.version / stages["consume into Graph"],
        "layout_iterations": iterations,
        "backend": get_backend(),
        "stages_seconds": stages,
        "picture": "graph.png",
        "communities": int(communities.max()) + 1 if communities.size else 0,
        "modularity": modularity(graph, communities),
        "legend": legend,
        "components": int(components.max()) + 1 if components.size else 0,
        "largest_component_nodes": int(giant.sum()),
        "first_message": str(daily["day"][0]) if daily.height else None,
        "last_message": str(daily["day"][-1]) if daily.height else None,
        "nodes_table": "nodes.parquet",
        "daily_table": "messages_per_day.csv",
    }
    analytics.with_columns(x=positions[:, 0], y=positions[:, 1]).write_parquet(out / "nodes.parquet")
    daily.write_csv(out / "messages_per_day.csv")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    if report:
        with stage("report notebook"):
            html = write_report(source, graph_id, out)
        metrics["report"] = str(html)
    metrics["stages_seconds"] = stages
    metrics["wall_seconds"] = time.perf_counter() - total_start
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    echo(_summary(metrics, out))
    return metrics


def write_report(source: Path, graph_id: str, out: Path) -> Path:
    """Execute ``notebooks/report.ipynb`` with papermill into ``out`` and export it to HTML
    (no code, no prompts, every picture inside the file: see :mod:`alchemist.widgets.export`).

    Parameters
    ----------
    source : pathlib.Path
        The edge list the demo replayed (the report checks its counts against it).
    graph_id : str
        The graph's aggregate id.
    out : pathlib.Path
        The demo's output folder (holds ``metrics.json``, ``graph.png``, ``nodes.parquet``,
        ``messages_per_day.csv``); receives ``report.ipynb`` and ``report.html``.

    Returns
    -------
    pathlib.Path
        ``out/report.html``.
    """
    from alchemist._notebooks import execute_to_html

    return execute_to_html("report.ipynb", out, {"source": str(Path(source).resolve()), "graph_id": graph_id,
                                                 "output_dir": str(Path(out).resolve())},
                           cwd=Path(out).resolve(), exclude_input=True)


def _graph_id(source: Path) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_-]", "_", source.name.split(".")[0]) or "graph"


def _summary(m: dict, out: Path) -> str:
    s = m["stages_seconds"]
    lines = [
        "",
        f"alchemist demo — {m['graph_id']} ({m['lines']:,} lines of {Path(m['source']).name})",
        f"  graph       {m['nodes']:,} nodes, {m['edges']:,} edges, version {m['events_applied']:,}",
        f"  events      {m['events_total']:,} ({m['events_published']:,} published now, "
        f"{m['events_already_on_stream']:,} already on the stream, {m['events_rejected']} rejected)",
        f"  throughput  consume {m['consume_events_per_second']:,.0f} events/s"
        + (f", publish {m['publish_events_per_second']:,.0f} events/s" if m["publish_events_per_second"] else ""),
        f"  communities {m['communities']} (Louvain, modularity {m['modularity']:.2f})",
        f"  layout      ForceAtlas2 (LinLog), {m['layout_iterations']} iterations in {s['ForceAtlas2 layout']:.2f} s ({m['backend']}; "
        f"one-time compile {s['ForceAtlas2 compile (one time)']:.2f} s)",
        "  stages      " + ", ".join(f"{k} {v:.2f} s" for k, v in s.items()),
        f"  output      {out / 'graph.png'}" + (f", {m['report']}" if m.get("report") else ""),
    ]
    return "\n".join(lines)
