"""The gateway's overhead: GraphQL through ``alchemist serve`` vs the same calls through the Python API.

One embedded nats-server; a synthetic 100,000-node graph (each node ``i > 0`` joined to one or two
random earlier nodes: connected, about 150,000 edges, seed 0) imported into the CIM
(``Connection.import_graph``); ``alchemist serve --url <that server>`` as a child process (its own
interpreter, as in production, rate limit off); one client (``httpx.Client``, keep-alive) sends
requests one after another:

- ``findPath`` between random pairs (the same pairs for both sides) — Python API:
  ``graph.shortest_path`` on the live graph of ``Connection.graph``;
- ``nodes(first: 100, after: ...)`` of a random page, with ``nodeId label properties degree`` —
  Python API: the same page as ``graph.node(id)`` dicts and ``graph.degree()``;
- ``addNode`` mutations one after another (each an appended, chained, acknowledged event, answered
  once applied) — Python API: ``Connection.append``; and 8 clients at once, each on its own graph.

Latency p50/p99 in milliseconds; the ratio is GraphQL over the Python API. Every GraphQL read also
asks the CIM for the graph's version (one round trip) so that it reads its own writes; the Python
API reads the live graph as it is.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_NODES = 100_000


def run(full: bool = False) -> str:
    """Run the benchmark and return its Markdown section.

    Parameters
    ----------
    full : bool
        1,000 requests per read workload and 1,000 mutations (quick: 200 and 200).

    Returns
    -------
    str
    """
    import httpx

    from alchemist.cim import EmbeddedServer, connect

    reps = 1000 if full else 200
    mutations = 1000 if full else 200
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = synthetic_edge_list(tmp / "bench.txt", N_NODES, rng)
        server = EmbeddedServer(data_dir=tmp / "jetstream").start()
        gateway = None
        try:
            with connect(server.url, outbox=tmp / "outbox.sqlite") as conn:
                start = time.perf_counter()
                conn.import_graph(path, graph_id="bench", directed=False)
                graph = conn.graph("bench")
                load = time.perf_counter() - start
                n, m = graph.number_of_nodes(), graph.number_of_edges()
                gateway, url = start_gateway(server.url, tmp)
                with httpx.Client(base_url=url, timeout=60) as client:
                    ids = graph.node_ids
                    pairs = [(ids[a], ids[b]) for a, b in rng.integers(0, n, size=(reps, 2))]
                    pages = rng.integers(0, n // 100, size=reps) * 100
                    query = ("query($a: ID!, $b: ID!) { findPath(from: $a, to: $b, graphId: \"bench\", maxDepth: 100) "
                             "{ length nodeIds } }")
                    post(client, query, {"a": pairs[0][0], "b": pairs[0][1]})  # warm: the gateway folds the graph
                    graph.shortest_path(*pairs[0])
                    gql = timed(lambda p: post(client, query, {"a": p[0], "b": p[1]}), pairs)
                    api = timed(lambda p: graph.shortest_path(p[0], p[1]), pairs)
                    rows.append(("findPath", gql, api))
                    query = ("query($after: String) { nodes(graphId: \"bench\", first: 100, after: $after) "
                             "{ edges { node { nodeId label properties degree } } } }")
                    cursors = [None if k == 0 else cursor(k - 1) for k in pages]
                    gql = timed(lambda c: post(client, query, {"after": c}), cursors)
                    api = timed(lambda k: node_page(graph, int(k)), pages)
                    rows.append(("nodes (a page of 100)", gql, api))
                    add = "mutation($id: ID!) { addNode(graphId: \"bench\", input: {id: $id}) { version } }"
                    gql = timed(lambda i: post(client, add, {"id": f"gql-{i}"}), range(mutations))
                    api = timed(lambda i: conn.append("bench", "node_added", {"node_id": f"api-{i}"}),
                                range(mutations))
                    rows.append(("addNode (one client)", gql, api))
                concurrent = asyncio.run(parallel_mutations(url, 8, mutations // 8))
        finally:
            if gateway is not None:
                stop(gateway)
            server.stop()
    return report(rows, concurrent, n, m, load, reps, mutations, full)


# --------------------------------------------------------------------------- the workload
def synthetic_edge_list(path: Path, n: int, rng) -> Path:
    """Each node ``i > 0`` joined to a random earlier node, and half of them to a second one."""
    src = np.arange(1, n)
    dst = (rng.random(n - 1) * src).astype(np.int64)
    extra = src[rng.random(n - 1) < 0.5]
    src = np.concatenate([src, extra])
    dst = np.concatenate([dst, (rng.random(extra.shape[0]) * extra).astype(np.int64)])
    np.savetxt(path, np.column_stack([src, dst]), fmt="%d")
    return path


def cursor(offset: int) -> str:
    """The nodes cursor of an offset (as the gateway makes it)."""
    from alchemist.gateway.graphql_api.types import encode_cursor

    return encode_cursor("n", offset)


def node_page(graph, start: int) -> list[dict]:
    """The Python API's page of 100 nodes: id, label, properties and degree."""
    ids = graph.node_ids[start:start + 100]
    degree = graph.degree()[graph.node_rows(ids)]
    return [{**graph.node(i), "degree": int(d)} for i, d in zip(ids, degree.tolist())]


def post(client, query: str, variables: dict) -> dict:
    body = client.post("/graphql", json={"query": query, "variables": variables}).json()
    if "errors" in body:
        raise RuntimeError(f"GraphQL error: {body['errors'][0]['message']}")
    return body


def timed(call, items) -> np.ndarray:
    """Seconds of each call, one after another."""
    out = []
    for item in items:
        start = time.perf_counter()
        call(item)
        out.append(time.perf_counter() - start)
    return np.asarray(out)


async def parallel_mutations(url: str, clients: int, each: int) -> tuple[float, int]:
    """Events/s of ``clients`` concurrent clients, each adding ``each`` nodes to its own graph."""
    import httpx

    async def one(k: int, client) -> None:
        graph_id = f"par{k}"
        await client.post("/graphql", json={"query": "mutation($g: ID!) { createGraph(input: {id: $g}) { id } }",
                                            "variables": {"g": graph_id}})
        for i in range(each):
            response = await client.post("/graphql", json={
                "query": "mutation($g: ID!, $i: ID!) { addNode(graphId: $g, input: {id: $i}) { version } }",
                "variables": {"g": graph_id, "i": f"n{i}"}})
            if "errors" in response.json():
                raise RuntimeError(response.json()["errors"][0]["message"])

    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        start = time.perf_counter()
        await asyncio.gather(*(one(k, client) for k in range(clients)))
        seconds = time.perf_counter() - start
    total = clients * (each + 1)
    return total / seconds, total


# --------------------------------------------------------------------------- the gateway process
def start_gateway(nats_url: str, tmp: Path):
    """``alchemist serve`` on a free port over ``nats_url``; returns (process, base URL)."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = [sys.executable, "-m", "alchemist.cli", "serve", "--url", nats_url, "--port", str(port),
            "--outbox", str(tmp / "gateway-outbox.sqlite"), "--log-level", "warning"]
    help_text = subprocess.run(args[:4] + ["--help"], capture_output=True, text=True).stdout
    if "--rate-limit" in help_text:
        args += ["--rate-limit", "none"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"alchemist serve exited: {process.stderr.read()}")
        try:
            if httpx.post(url + "/graphql", json={"query": "{ __typename }"}, timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError("alchemist serve did not answer within 60 s")


def stop(process) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --------------------------------------------------------------------------- the section
def report(rows, concurrent, n, m, load, reps, mutations, full) -> str:
    ms = lambda a, q: 1000 * float(np.percentile(a, q))  # noqa: E731
    lines = [
        "## Gateway (GraphQL over the Python API)\n",
        f"`alchemist serve` (child process) over the embedded CIM; synthetic graph of {n:,} nodes and {m:,} edges "
        f"(imported and folded live in {load:.1f} s); one keep-alive client, requests one after another "
        f"({reps} per read workload, {mutations} mutations{', full mode' if full else ''}). "
        "Every GraphQL read first asks the CIM for the graph's version (read-your-writes); the Python API "
        "reads the live graph of `Connection.graph`.\n",
        "| call | GraphQL p50 (ms) | GraphQL p99 (ms) | Python API p50 (ms) | Python API p99 (ms) | ratio p50 | ratio p99 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, gql, api in rows:
        lines.append(f"| {name} | {ms(gql, 50):.2f} | {ms(gql, 99):.2f} | {ms(api, 50):.3f} | {ms(api, 99):.3f} | "
                     f"{ms(gql, 50) / ms(api, 50):.1f}x | {ms(gql, 99) / ms(api, 99):.1f}x |")
    mutation = [r for r in rows if r[0].startswith("addNode")][0]
    rate, total = concurrent
    lines += [
        "",
        f"Mutation throughput: one GraphQL client {len(mutation[1]) / mutation[1].sum():,.0f} events/s, "
        f"`Connection.append` {len(mutation[2]) / mutation[2].sum():,.0f} events/s "
        f"(ratio {mutation[2].sum() / mutation[1].sum():.2f}); 8 concurrent GraphQL clients on 8 graphs "
        f"{rate:,.0f} events/s ({total} events). A GraphQL mutation is two CIM round trips (the version, then the "
        "publish with the expected sequence; the chain head comes from the live graph) and answers once its event "
        "is applied; `Connection.append` is three (version, chain head, publish) and does not wait.\n",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(full="--full" in sys.argv))
