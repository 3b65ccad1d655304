"""The REST API's OpenAPI 3.1 document (``/api/v1/openapi.json``) and a Swagger UI page (``/api/v1/docs``).

The document is written out here as a dictionary (:func:`openapi_document`), one entry per route of
:func:`alchemist.gateway.rest.routes`; the ``/api/...`` routes of other parts (e.g. the plugins'
``/api/v1/plugins``) are added from the running application with their docstring's first line as
summary. A test checks that every REST route of a running gateway is in it. The docs page
loads Swagger UI from the jsDelivr CDN, so it needs a browser with Internet access; the JSON
document does not.
"""

from __future__ import annotations

__all__ = ["openapi_document", "document_endpoint", "docs_endpoint", "SECURITY_SCHEMES"]

SECURITY_SCHEMES = {
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT or API key"},
}

_ERROR = {"description": "JSON error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_REFUSALS = {"401": _ERROR, "403": _ERROR, "429": _ERROR}
_GRAPH_ID = {"name": "graph_id", "in": "path", "required": True, "schema": {"type": "string"}}


def openapi_document(formats_in=None, formats_out=None, version: str = "1", routes=()) -> dict:
    """The OpenAPI 3.1 description of the REST routes.

    Parameters
    ----------
    formats_in, formats_out : sequence of str, optional
        Import and export formats (default: those of :mod:`alchemist.gateway.transfer`).
    version : str
        The API's version (``info.version``).
    routes : sequence of starlette.routing.BaseRoute
        The application's routes: those under ``/api/`` not described here are added (GET/POST/...
        with the endpoint docstring's first line).

    Returns
    -------
    dict

    Examples
    --------
    >>> sorted(openapi_document()["paths"])  # doctest: +NORMALIZE_WHITESPACE
    ['/api/v1/docs', '/api/v1/graphs', '/api/v1/graphs/import', '/api/v1/graphs/{graph_id}',
     '/api/v1/graphs/{graph_id}/export', '/api/v1/openapi.json', '/healthz', '/metrics', '/readyz']
    """
    from alchemist.gateway.transfer import EXPORT_FORMATS, IMPORT_FORMATS

    formats_in = list(formats_in or IMPORT_FORMATS)
    formats_out = list(formats_out or EXPORT_FORMATS)
    public = {"security": []}
    json_ok = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    import_result = {"type": "object", "properties": {
        "graph_id": {"type": "string"}, "format": {"type": "string"}, "nodes": {"type": "integer"},
        "edges": {"type": "integer"}, "events": {"type": "integer"}, "version": {"type": "integer"},
        "sequence": {"type": "integer"}, "object_cid": {"type": "string"}, "bytes": {"type": "integer"}}}
    upload_params = [
        {"name": "graph_id", "in": "query", "schema": {"type": "string"},
         "description": "the new graph's id (default: the file name up to its first dot)"},
        {"name": "format", "in": "query", "schema": {"type": "string", "enum": formats_in},
         "description": "the file's format (default: from its name, else its first bytes)"},
        {"name": "filename", "in": "query", "schema": {"type": "string"}, "description": "the file's name (raw bodies)"},
        {"name": "directed", "in": "query", "schema": {"type": "boolean", "default": True},
         "description": "edge lists and Arrows files: whether edges are directed"},
    ]
    paths = {
        "/healthz": {"get": {"summary": "The process serves", "responses": {"200": json_ok}, **public}},
        "/readyz": {"get": {"summary": "NATS connected and JetStream answering",
                            "responses": {"200": json_ok, "503": _ERROR}, **public}},
        "/metrics": {"get": {"summary": "Prometheus metrics (text exposition)", **public,
                             "responses": {"200": {"description": "OK", "content": {"text/plain": {}}}}}},
        "/api/v1/openapi.json": {"get": {"summary": "This document", "responses": {"200": json_ok}, **public}},
        "/api/v1/docs": {"get": {"summary": "Swagger UI over this document", **public,
                                 "responses": {"200": {"description": "OK", "content": {"text/html": {}}}}}},
        "/api/v1/graphs": {"get": {
            "summary": "Graphs on the CIM the caller may read", "responses": {"200": json_ok, **_REFUSALS},
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                           {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}]}},
        "/api/v1/graphs/import": {"post": {
            "summary": "Import a graph file (streamed upload; published through the object store)",
            "parameters": upload_params,
            "requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "file": {"type": "string", "format": "binary"}}}}}},
            "responses": {"201": {"description": "Imported", "content": {"application/json": {
                "schema": import_result}}}, "400": _ERROR, **_REFUSALS, "409": _ERROR, "413": _ERROR,
                "422": _ERROR}}},
        "/api/v1/graphs/{graph_id}": {"get": {
            "summary": "A graph's nodes, edges, version and stream sequence", "parameters": [_GRAPH_ID],
            "responses": {"200": json_ok, **_REFUSALS, "404": _ERROR}}},
        "/api/v1/graphs/{graph_id}/export": {"get": {
            "summary": "Export a graph as a file (streamed)",
            "parameters": [_GRAPH_ID,
                           {"name": "format", "in": "query", "schema": {"type": "string", "enum": formats_out,
                                                                        "default": "graphml"}},
                           {"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 0},
                            "description": "the graph as it was after that many events"}],
            "responses": {"200": {"description": "The file", "content": {
                "application/graphml+xml": {}, "application/gexf+xml": {}, "text/plain": {}, "application/json": {},
                "application/zip": {}}}, "400": _ERROR, **_REFUSALS, "404": _ERROR}}},
    }
    for route in routes:
        path, methods = getattr(route, "path", ""), getattr(route, "methods", None) or {"GET"}
        if path.startswith("/api/") and path not in paths:
            doc = (getattr(route, "endpoint", None).__doc__ or path).strip().splitlines()[0]
            paths[path] = {m.lower(): {"summary": doc, "responses": {"200": json_ok, **_REFUSALS}}
                           for m in sorted(methods) if m != "HEAD"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Information Alchemist gateway — REST API", "version": version,
                 "description": "Graph files in and out of the CIM. GraphQL is at /graphql; collaboration "
                                "WebSockets at /ws/graphs/{graph_id}."},
        "paths": paths,
        "security": [{"apiKey": []}, {"bearer": []}],
        "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": {"Error": {
            "type": "object", "required": ["error", "code"],
            "properties": {"error": {"type": "string"}, "code": {"type": "string"}, "line": {"type": "integer"}}}}},
    }


async def document_endpoint(request):
    """``GET /api/v1/openapi.json``: :func:`openapi_document`."""
    from starlette.responses import JSONResponse

    return JSONResponse(openapi_document(routes=request.app.routes))


_DOCS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Information Alchemist gateway — REST API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "openapi.json", dom_id: "#docs"});</script>
<noscript>The API's description: <a href="openapi.json">openapi.json</a></noscript></body></html>
"""


async def docs_endpoint(request):
    """``GET /api/v1/docs``: a Swagger UI page over the document."""
    from starlette.responses import HTMLResponse

    return HTMLResponse(_DOCS_PAGE)
