"""The REST API against a real gateway (uvicorn) over a real nats-server, with httpx as the client.

Graph files go in through ``POST /api/v1/graphs/import`` and come back out through
``GET /api/v1/graphs/{id}/export``; what comes back is read by NetworkX's own readers and compared
with what NetworkX counts in the source file.
"""

import gzip
import io
import json
import zipfile
from pathlib import Path

import httpx
import networkx as nx
import pyarrow.parquet as pq
import pytest

from alchemist.gateway import GatewaySettings

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
COLLEGE = SAMPLES / "CollegeMsg.txt.gz"


def stream_messages(conn) -> int:
    """Messages on the graph-events stream (any graph)."""
    return conn.stream_info().state.messages


def chunks(data: bytes, size: int = 65536):
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.fixture
def karate_graphml(tmp_path) -> Path:
    path = tmp_path / "karate.graphml"
    nx.write_graphml(nx.karate_club_graph(), path)
    return path


def test_import_a_snap_file_then_export_graphml_read_back_by_networkx(gateway, conn):
    source = nx.read_edgelist(gzip.open(COLLEGE, "rt"), create_using=nx.MultiDiGraph, data=False)
    with COLLEGE.open("rb") as handle:  # a streamed (chunked) raw body, as the seed's RestApiClient sends
        response = httpx.post(gateway.url + "/api/v1/graphs/import", params={"filename": COLLEGE.name},
                              content=chunks(handle.read()), headers={"Content-Type": "application/octet-stream"},
                              timeout=120)
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["graph_id"] == "CollegeMsg" and result["format"] == "edgelist"
    assert (result["nodes"], result["edges"]) == (source.number_of_nodes(), source.number_of_edges())
    assert result["version"] == 1 + source.number_of_nodes() + source.number_of_edges()
    assert result["bytes"] == COLLEGE.stat().st_size
    assert response.headers["location"] == "/api/v1/graphs/CollegeMsg"

    exported = httpx.get(gateway.url + "/api/v1/graphs/CollegeMsg/export", params={"format": "graphml"}, timeout=120)
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/graphml+xml"
    back = nx.read_graphml(io.BytesIO(exported.content))
    assert (back.number_of_nodes(), back.number_of_edges()) == (1899, 59835)  # SNAP's CollegeMsg page
    assert (back.number_of_nodes(), back.number_of_edges()) == (source.number_of_nodes(), source.number_of_edges())
    assert back.is_directed()
    assert sorted(back.nodes) == sorted(source.nodes)

    summary = httpx.get(gateway.url + "/api/v1/graphs/CollegeMsg", timeout=60).json()
    assert (summary["nodes"], summary["edges"], summary["version"]) == (1899, 59835, result["version"])
    # the stream is the audit log: both events name who imported them
    assert [e.metadata for e in conn.events("CollegeMsg")] == [{"actor": "anonymous", "via": "anonymous"}] * 2


def test_multipart_graphml_upload_round_trips_through_every_export_format(gateway, karate_graphml):
    source = nx.read_graphml(karate_graphml)
    with karate_graphml.open("rb") as handle:
        response = httpx.post(gateway.url + "/api/v1/graphs/import", files={"file": ("karate.graphml", handle)},
                              timeout=60)
    assert response.status_code == 201, response.text
    assert response.json()["format"] == "graphml"
    assert (response.json()["nodes"], response.json()["edges"]) == (34, 78)

    def export(fmt):
        answer = httpx.get(gateway.url + "/api/v1/graphs/karate/export", params={"format": fmt}, timeout=60)
        assert answer.status_code == 200, answer.text
        return answer

    gexf = export("gexf")
    assert gexf.headers["content-type"] == "application/gexf+xml"
    back = nx.read_gexf(io.BytesIO(gexf.content))
    assert (back.number_of_nodes(), back.number_of_edges()) == (source.number_of_nodes(), source.number_of_edges())
    assert {n: d["club"] for n, d in back.nodes(data=True)} == {n: d["club"] for n, d in source.nodes(data=True)}

    back = nx.read_gml(io.BytesIO(export("gml").content))
    assert (back.number_of_nodes(), back.number_of_edges()) == (34, 78)

    data = export("json").json()
    back = nx.node_link_graph(data, edges="links")
    assert (back.number_of_nodes(), back.number_of_edges()) == (34, 78)
    assert {frozenset(e) for e in back.edges} == {frozenset(e) for e in source.edges}

    parquet = export("parquet")
    assert parquet.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(parquet.content)) as archive:
        assert sorted(archive.namelist()) == ["karate.edges.parquet", "karate.nodes.parquet"]
        assert pq.read_table(io.BytesIO(archive.read("karate.nodes.parquet"))).num_rows == 34
        assert pq.read_table(io.BytesIO(archive.read("karate.edges.parquet"))).num_rows == 78

    lines = export("edgelist").text.strip().splitlines()
    back = nx.parse_edgelist(lines, data=False)
    assert (back.number_of_nodes(), back.number_of_edges()) == (34, 78)


def test_import_of_a_graph_that_exists_is_409_and_changes_nothing(gateway, conn, karate_graphml):
    first = httpx.post(gateway.url + "/api/v1/graphs/import", content=karate_graphml.read_bytes(),
                       params={"graph_id": "k"}, timeout=60)
    assert first.status_code == 201
    before = stream_messages(conn)
    again = httpx.post(gateway.url + "/api/v1/graphs/import", content=karate_graphml.read_bytes(),
                       params={"graph_id": "k"}, timeout=60)
    assert again.status_code == 409
    assert again.json()["code"] == "ConcurrencyError"
    assert stream_messages(conn) == before


def test_oversized_upload_is_413_and_nothing_is_published(gateway_factory, conn):
    gateway = gateway_factory(GatewaySettings(max_upload_bytes=1000))
    body = b"".join(b"%d %d\n" % (i, i + 1) for i in range(1000))  # 7,890 bytes
    assert len(body) > 1000
    declared = httpx.post(gateway.url + "/api/v1/graphs/import", content=body, params={"graph_id": "big"}, timeout=30)
    assert declared.status_code == 413
    assert declared.json()["code"] == "UploadTooLargeError" and "1000 bytes" in declared.json()["error"]
    chunked = httpx.post(gateway.url + "/api/v1/graphs/import", content=chunks(body, 500), params={"graph_id": "big"},
                         timeout=30)  # no Content-Length: counted while streaming
    assert chunked.status_code == 413
    multipart = httpx.post(gateway.url + "/api/v1/graphs/import", files={"file": ("big.txt", body)}, timeout=30)
    assert multipart.status_code == 413
    assert conn.aggregate_sequence("big") == 0
    assert stream_messages(conn) == 0
    fits = body[:body.index(b"\n", 900) + 1]  # whole lines, under 1,000 bytes
    small = httpx.post(gateway.url + "/api/v1/graphs/import", content=fits, params={"graph_id": "small"}, timeout=30)
    assert small.status_code == 201 and small.json()["edges"] == fits.count(b"\n")


def test_malformed_edge_list_is_422_naming_the_line_and_nothing_is_published(gateway, conn):
    response = httpx.post(gateway.url + "/api/v1/graphs/import", params={"filename": "bad.txt"},
                          content=b"# a comment\n1 2\n2 3\n4\n5 6\n", timeout=30)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "EdgeListFormatError"
    assert body["line"] == 4
    assert body["error"].startswith("bad.txt, line 4:")
    assert "alchemist-upload" not in body["error"]  # the temporary path is not shown
    assert stream_messages(conn) == 0


def test_malformed_graphml_is_422_with_the_readers_message(gateway, conn):
    response = httpx.post(gateway.url + "/api/v1/graphs/import", params={"filename": "broken.graphml"},
                          content=b'<?xml version="1.0"?>\n<graphml><graph edgedefault="x"><node id="a">\n',
                          timeout=30)
    assert response.status_code == 422
    assert response.json()["code"] == "GraphFormatError"
    assert "broken.graphml" in response.json()["error"]
    assert stream_messages(conn) == 0


def test_bad_requests_are_400_and_404(gateway):
    assert httpx.get(gateway.url + "/api/v1/graphs/nope/export", params={"format": "xlsx"}).status_code == 400
    missing = httpx.get(gateway.url + "/api/v1/graphs/nope/export", params={"format": "gml"}, timeout=30)
    assert missing.status_code == 404 and missing.json()["code"] == "GraphNotFoundError"
    assert httpx.get(gateway.url + "/api/v1/graphs/nope", timeout=30).status_code == 404
    empty = httpx.post(gateway.url + "/api/v1/graphs/import", content=b"", timeout=30)
    assert empty.status_code == 400
    bad_id = httpx.post(gateway.url + "/api/v1/graphs/import", params={"graph_id": "a.b"}, content=b"1 2\n", timeout=30)
    assert bad_id.status_code == 400 and "a.b" in bad_id.json()["error"]
    assert httpx.get(gateway.url + "/api/v1/graphs", params={"limit": 10 ** 6}).status_code == 400


def test_list_graphs_pages_sorted_ids(gateway):
    for name in ("b", "a", "c"):
        assert httpx.post(gateway.url + "/api/v1/graphs/import", params={"graph_id": name},
                          content=b"1 2\n2 3\n", timeout=30).status_code == 201
    listing = httpx.get(gateway.url + "/api/v1/graphs", timeout=30).json()
    assert [g["graph_id"] for g in listing["graphs"]] == ["a", "b", "c"]
    assert listing["total"] == 3 and all(g["messages"] == 2 for g in listing["graphs"])
    page = httpx.get(gateway.url + "/api/v1/graphs", params={"limit": 1, "offset": 1}, timeout=30).json()
    assert [g["graph_id"] for g in page["graphs"]] == ["b"]


def test_export_at_a_version_is_the_graph_then(gateway):
    assert httpx.post(gateway.url + "/api/v1/graphs/import", params={"graph_id": "t"},
                      content=b"a b\nb c\nc d\n", timeout=30).status_code == 201
    # events: graph_created, a, b, a-b, c, b-c, d, c-d -> after 4 events: nodes a, b and the edge a-b
    early = httpx.get(gateway.url + "/api/v1/graphs/t/export", params={"format": "edgelist", "version": 4}, timeout=30)
    assert early.status_code == 200
    assert [line.split()[:2] for line in early.text.splitlines()] == [["a", "b"]]


def test_openapi_document_lists_every_rest_route(gateway):
    from starlette.routing import Route

    from alchemist.gateway import rest

    document = httpx.get(gateway.url + "/api/v1/openapi.json", timeout=30).json()
    assert document["openapi"].startswith("3.")
    routes = [r for r in rest.routes(gateway.app.state.gateway) if isinstance(r, Route)]
    assert len(routes) == 9
    for route in routes:
        methods = {m.lower() for m in route.methods} - {"head"}
        assert methods <= set(document["paths"][route.path]), route.path
    assert {r.path for r in routes} <= set(document["paths"])
    # and the /api/ routes of the other parts (e.g. plugins), from the running application
    for route in gateway.app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/"):
            assert {m.lower() for m in route.methods} - {"head"} <= set(document["paths"][route.path]), route.path
    docs = httpx.get(gateway.url + "/api/v1/docs", timeout=30)
    assert docs.status_code == 200 and "openapi.json" in docs.text


def test_healthz_and_readyz_follow_the_nats_server(gateway, nats_server):
    assert httpx.get(gateway.url + "/healthz", timeout=10).json()["status"] == "ok"
    ready = httpx.get(gateway.url + "/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    nats_server.stop()
    not_ready = httpx.get(gateway.url + "/readyz", timeout=30)
    assert not_ready.status_code == 503
    assert not_ready.json()["status"] == "unavailable"
    assert httpx.get(gateway.url + "/healthz", timeout=10).status_code == 200  # the process still serves


def test_two_gateways_over_one_cim_serve_the_same_graphs(gateway_factory):
    one, two = gateway_factory(), gateway_factory()
    assert httpx.post(one.url + "/api/v1/graphs/import", params={"graph_id": "shared"},
                      content=b"1 2\n2 3\n3 1\n", timeout=30).status_code == 201
    summary = httpx.get(two.url + "/api/v1/graphs/shared", timeout=30).json()
    assert (summary["nodes"], summary["edges"]) == (3, 3)
    assert json.loads(httpx.get(two.url + "/api/v1/graphs/shared/export", params={"format": "json"},
                                timeout=30).text)["directed"] is True


@pytest.mark.parametrize("name, write", [
    ("karate.gexf", nx.write_gexf),
    ("karate.gml", nx.write_gml),
    ("karate.json", lambda g, path: path.write_text(json.dumps(nx.node_link_data(g, edges="links")))),
])
def test_files_written_by_networkx_import_with_networkxs_counts(gateway, tmp_path, name, write):
    source = nx.karate_club_graph()
    path = tmp_path / name
    write(source, path)
    response = httpx.post(gateway.url + "/api/v1/graphs/import", params={"filename": name},
                          content=path.read_bytes(), timeout=60)
    assert response.status_code == 201, response.text
    assert (response.json()["nodes"], response.json()["edges"]) == (source.number_of_nodes(), source.number_of_edges())


def test_a_parquet_pair_uploads_as_two_multipart_files(gateway, karate_graphml):
    httpx.post(gateway.url + "/api/v1/graphs/import", content=karate_graphml.read_bytes(),
               params={"graph_id": "karate"}, timeout=60).raise_for_status()
    archive = zipfile.ZipFile(io.BytesIO(httpx.get(gateway.url + "/api/v1/graphs/karate/export",
                                                   params={"format": "parquet"}, timeout=60).content))
    files = [("file", (name, archive.read(name))) for name in sorted(archive.namelist())]
    response = httpx.post(gateway.url + "/api/v1/graphs/import", files=files, data={"graph_id": "again"}, timeout=60)
    assert response.status_code == 201, response.text
    assert (response.json()["graph_id"], response.json()["format"]) == ("again", "parquet")
    assert (response.json()["nodes"], response.json()["edges"]) == (34, 78)
