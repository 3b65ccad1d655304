"""The REST part of the gateway: graph files in and out, graph listings, health, metrics, OpenAPI.

Routes (the seed's §3 ``RestApiClient`` posts a file to ``/api/v1/graphs/import`` with
``X-API-Key`` and reads ``/api/v1/graphs/{id}/export?format=...`` back):

- ``POST /api/v1/graphs/import``: a streamed upload, either the raw file as the body
  (``application/octet-stream``; ``?format=``, ``?graph_id=``, ``?filename=``, ``?directed=``) or
  ``multipart/form-data`` (one file, or the two files of a Parquet pair; the same fields as form
  fields or query parameters). Spooled to a temporary folder, refused with 413 beyond
  ``max_upload_bytes``, read by alchemist's readers and published through the object store
  (:func:`~alchemist.gateway.transfer.import_file`); answers 201 with the import result. A
  malformed file is 422 with the reader's message (file and line).
- ``GET /api/v1/graphs/{graph_id}/export?format=graphml|gexf|gml|json|parquet|edgelist[&version=N]``:
  the file, streamed from a temporary file.
- ``GET /api/v1/graphs`` (the graphs on the stream the principal may read; ``limit``, ``offset``),
  ``GET /api/v1/graphs/{graph_id}`` (nodes, edges, version, stream sequence).
- ``GET /healthz`` (the process answers), ``GET /readyz`` (NATS connected and JetStream answering;
  503 otherwise), ``GET /metrics`` (:mod:`alchemist.gateway.metrics`), ``GET /api/v1/openapi.json``
  and ``GET /api/v1/docs`` (:mod:`alchemist.gateway.openapi`).

Every graph route authorizes the principal (read, or write for an import) before it reads a byte
of the body or a graph; errors are JSON ``{"error": ..., "code": ...}``.
"""

from __future__ import annotations

import asyncio
import functools
import shutil
import tempfile
import uuid
from pathlib import Path

from alchemist.errors import QueryRejectedError
from alchemist.gateway.responses import GraphNotFoundError, UploadTooLargeError, error_response, status_of
from alchemist.gateway.security import actor_metadata, authorize, principal_of
from alchemist.gateway.transfer import EXPORT_FORMATS, IMPORT_FORMATS, Spool, export_file, import_file

__all__ = ["routes", "API_PREFIX", "READY_TIMEOUT_S"]

API_PREFIX = "/api/v1"
READY_TIMEOUT_S = 3.0
"""Seconds ``/readyz`` waits for JetStream's answer before it reports 503."""


def routes(ctx) -> list:
    """The REST part's Starlette routes.

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    list of starlette.routing.Route
    """
    from starlette.routing import Route

    from alchemist.gateway import openapi
    from alchemist.gateway.metrics import metrics_endpoint

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route(f"{API_PREFIX}/openapi.json", openapi.document_endpoint, methods=["GET"]),
        Route(f"{API_PREFIX}/docs", openapi.docs_endpoint, methods=["GET"]),
        Route(f"{API_PREFIX}/graphs", list_graphs, methods=["GET"]),
        Route(f"{API_PREFIX}/graphs/import", import_graph, methods=["POST"]),
        Route(f"{API_PREFIX}/graphs/{{graph_id}}", graph_summary, methods=["GET"]),
        Route(f"{API_PREFIX}/graphs/{{graph_id}}/export", export_graph, methods=["GET"]),
    ]


def json_errors(endpoint):
    """Answer the gateway's errors raised by ``endpoint`` as JSON (:func:`status_of`); a
    ``ValueError`` that is not one of them (a bad graph id, a bad number) is a 400.

    Parameters
    ----------
    endpoint : async callable
        ``endpoint(request) -> Response``.

    Returns
    -------
    async callable
    """
    @functools.wraps(endpoint)
    async def wrapped(request):
        try:
            return await endpoint(request)
        except Exception as exc:
            status = status_of(exc) or (400 if isinstance(exc, ValueError) else None)
            if status is None:
                raise
            return error_response(exc, status)
    return wrapped


async def healthz(request):
    """``GET /healthz``: 200 ``{"status": "ok", "instance": ...}`` while the process serves."""
    from starlette.responses import JSONResponse

    return JSONResponse({"status": "ok", "instance": request.app.state.gateway.instance_id})


async def readyz(request):
    """``GET /readyz``: 200 when NATS is connected and JetStream answers an account-info request
    within :data:`READY_TIMEOUT_S`, else 503 with the reason."""
    from starlette.responses import JSONResponse

    conn = request.app.state.gateway.connection
    try:
        if not conn.nc.is_connected:
            raise ConnectionError("NATS is not connected")
        await asyncio.wait_for(conn.run_async(conn.js.account_info()), READY_TIMEOUT_S)
    except Exception as exc:
        reason = str(exc) or type(exc).__name__
        return JSONResponse({"status": "unavailable", "error": f"the CIM does not answer: {reason}",
                             "code": "NotReady"}, status_code=503)
    return JSONResponse({"status": "ready", "instance": request.app.state.gateway.instance_id})


@json_errors
async def list_graphs(request):
    """``GET /api/v1/graphs?limit=&offset=``: the graph ids on the stream the principal may read,
    with their message counts, sorted by id."""
    from starlette.responses import JSONResponse

    ctx = request.app.state.gateway
    principal = principal_of(request)
    limit = _int_param(request, "limit", 100, ctx.settings.max_page_size)
    offset = _int_param(request, "offset", 0, None)
    conn = ctx.connection
    info = await conn.run_async(conn.js.stream_info(conn.graph_stream, subjects_filter=conn.subjects.stream_filter()))
    position = conn.subjects.subject("GRAPH", "EVENT").split(".").index("GRAPH")
    counts: dict[str, int] = {}
    for subject, n in (info.state.subjects or {}).items():
        tokens = subject.split(".")
        if len(tokens) > position:
            counts[tokens[position]] = counts.get(tokens[position], 0) + int(n)
    readable = sorted(g for g in counts if principal.can_read(g))
    page = [{"graph_id": g, "messages": counts[g]} for g in readable[offset:offset + limit]]
    return JSONResponse({"graphs": page, "total": len(readable), "limit": limit, "offset": offset})


@json_errors
async def graph_summary(request):
    """``GET /api/v1/graphs/{graph_id}``: nodes, edges, directed, version, stream sequence."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    ctx = request.app.state.gateway
    graph_id = request.path_params["graph_id"]
    authorize(principal_of(request), graph_id, "read")
    conn = ctx.connection

    def summary() -> dict:
        sequence = conn.aggregate_sequence(graph_id)
        if sequence == 0:
            raise GraphNotFoundError(f"graph {graph_id!r} has no events on this CIM")
        graph = conn.graph(graph_id, live=False)
        return {"graph_id": graph_id, "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(),
                "directed": graph.directed, "version": graph.version, "sequence": sequence,
                "last_event_at": graph.last_timestamp}

    return JSONResponse(await run_in_threadpool(summary))


@json_errors
async def import_graph(request):
    """``POST /api/v1/graphs/import``: see the module docstring; 201 with the import result."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    ctx = request.app.state.gateway
    principal = principal_of(request)
    params = dict(request.query_params)
    if params.get("graph_id"):
        authorize(principal, params["graph_id"], "write")  # before a byte of the body is read
    limit = ctx.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise UploadTooLargeError(f"the upload ({declared} bytes) is larger than this gateway's limit of {limit} "
                                  "bytes; split the file or raise --max-upload-bytes")
    spool = Spool(limit)
    try:
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            names = await _spool_multipart(request, spool, params)
        else:
            names = [params.get("filename") or "upload"]
            spool.open(names[0])
            async for chunk in request.stream():
                spool.write(chunk)
            spool.finish()
        if not spool.files or spool.size == 0:
            raise QueryRejectedError("the upload is empty; send the graph file as the body or a multipart 'file' field")
        fmt = params.get("format") or None
        if fmt is not None and fmt not in IMPORT_FORMATS:
            raise QueryRejectedError(f"format={fmt!r}; use one of {', '.join(IMPORT_FORMATS)}")
        index = next((i for i, p in enumerate(spool.files) if p.name.endswith(".nodes.parquet")), 0)
        main, name = spool.files[index], names[index]
        graph_id = params.get("graph_id") or _graph_id_of(name)
        authorize(principal, graph_id, "write")
        directed = params.get("directed", "true").lower() not in ("0", "false", "no")
        result = await run_in_threadpool(import_file, ctx.connection, main, graph_id, format=fmt, directed=directed,
                                         metadata=actor_metadata(principal), display_name=name)
    finally:
        spool.close()
    result["bytes"] = spool.size
    return JSONResponse(result, status_code=201, headers={"Location": f"{API_PREFIX}/graphs/{graph_id}"})


@json_errors
async def export_graph(request):
    """``GET /api/v1/graphs/{graph_id}/export?format=...&version=...``: the file, streamed."""
    from starlette.background import BackgroundTask
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import FileResponse

    ctx = request.app.state.gateway
    graph_id = request.path_params["graph_id"]
    fmt = request.query_params.get("format", "graphml")
    if fmt not in EXPORT_FORMATS:
        raise QueryRejectedError(f"format={fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    authorize(principal_of(request), graph_id, "read")
    version = request.query_params.get("version")
    folder = Path(tempfile.mkdtemp(prefix="alchemist-export-"))
    try:
        path = await run_in_threadpool(export_file, ctx.connection, graph_id, fmt, folder,
                                       version=None if version is None else int(version))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(path, media_type=EXPORT_FORMATS[fmt][1], filename=path.name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


# ---------------------------------------------------------------------- helpers
async def _spool_multipart(request, spool: Spool, params: dict) -> list[str]:
    """Stream a multipart body's files into ``spool`` (text fields join ``params`` unless the query
    gave them); the client's file names, in order."""
    from starlette.datastructures import UploadFile
    from starlette.formparsers import MultiPartException, MultiPartParser

    async def counted():
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > spool.max_bytes:
                raise UploadTooLargeError(f"the upload is larger than this gateway's limit of {spool.max_bytes} "
                                          "bytes; split the file or raise --max-upload-bytes")
            yield chunk

    try:
        form = await MultiPartParser(request.headers, counted(), max_files=2, max_fields=8).parse()
    except MultiPartException as exc:
        raise QueryRejectedError(f"the multipart body cannot be read: {exc.message}") from None
    names = []
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                names.append(Path(value.filename or "upload").name)
                spool.open(names[-1])
                while chunk := await value.read(1 << 20):
                    spool.write(chunk)
                spool.finish()
            elif key not in params:
                params[key] = value
    finally:
        await form.close()
    return names


def _graph_id_of(filename: str) -> str:
    """A graph id from an upload's file name (up to its first dot), or a fresh one."""
    stem = Path(filename).name.split(".")[0]
    return stem if stem and stem != "upload" else f"graph-{uuid.uuid4().hex[:12]}"


def _int_param(request, name: str, default: int, maximum: int | None) -> int:
    """A non-negative integer query parameter, at most ``maximum``."""
    raw = request.query_params.get(name)
    value = default if raw is None else int(raw)
    if value < 0 or (maximum is not None and value > maximum):
        raise QueryRejectedError(f"{name}={value}; use 0 to {maximum}" if maximum else f"{name}={value}; use 0 or more")
    return value
