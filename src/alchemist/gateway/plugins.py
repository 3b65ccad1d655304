"""Extension points: readers, writers, agents, layout forces, GraphQL types and event types found in
installed packages through entry points (``importlib.metadata.entry_points``).

A package extends alchemist by declaring entry points in its ``pyproject.toml``::

    [project.entry-points."alchemist.readers"]
    pairs = "my_package.io:read_pairs"        # read_pairs(path, *, graph_id=None, directed=False) -> Graph

The groups (:data:`GROUPS`) and what each entry point must load:

- ``alchemist.readers`` — ``reader(path, *, graph_id=None, directed=False) -> Graph``; the name is the
  format, also matched against the file's extension by :func:`read_graph`;
- ``alchemist.writers`` — ``writer(graph, path) -> Path``; the name is the format (:func:`write_graph`);
- ``alchemist.agents`` — a subclass of :class:`alchemist.cim.agents.Agent`, added to
  :data:`~alchemist.cim.agents.AGENTS` under the name (``alchemist agent NAME``);
- ``alchemist.layout_forces`` — a :class:`~alchemist.layout.forces.Force` subclass, or a callable
  returning a ``Force``, to pass to ``forceatlas2(..., forces=[...])`` (:func:`layout_forces`);
- ``alchemist.graphql`` — a Strawberry type (``@strawberry.type``) whose fields the gateway's GraphQL
  ``Query`` takes in (:func:`graphql_types`);
- ``alchemist.event_types`` — a ``msgspec.Struct`` payload schema, registered with
  :func:`alchemist.events.types.register_event_type` under the name.

A plugin that cannot be imported, or loads something of the wrong kind, is skipped with a
:class:`PluginWarning` naming the entry point (``name = module:attr``), its distribution and the
error; discovery and the gateway's start-up go on without it. A name already taken (a built-in
format or agent, or an earlier plugin) is kept, and the newcomer skipped with a warning.

The gateway part (add ``"alchemist.gateway.plugins"`` to :data:`alchemist.gateway.app.PARTS`)
registers everything at start-up and serves ``GET /api/v1/plugins``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

__all__ = ["GROUPS", "Plugin", "PluginWarning", "discover", "readers", "writers", "read_graph", "write_graph",
           "layout_forces", "graphql_types", "register_agents", "register_event_types", "register_all",
           "routes", "startup", "PLUGINS_KEY"]

#: The entry-point groups alchemist reads, with what an entry point of each must load.
GROUPS = {
    "alchemist.readers": "a callable reader(path, *, graph_id=None, directed=False) -> Graph",
    "alchemist.writers": "a callable writer(graph, path) -> Path",
    "alchemist.agents": "a subclass of alchemist.cim.agents.Agent",
    "alchemist.layout_forces": "a subclass of alchemist.layout.forces.Force, or a callable returning a Force",
    "alchemist.graphql": "a Strawberry type (@strawberry.type) whose fields join the Query",
    "alchemist.event_types": "a msgspec.Struct payload schema",
}
#: What the gateway part registered, in :attr:`GatewayContext.extras`.
PLUGINS_KEY = "alchemist.gateway.plugins"


class PluginWarning(UserWarning):
    """A plugin was skipped: it could not be loaded, loads the wrong kind of object, or takes a name
    already in use. The message names the entry point, its distribution and the reason."""


@dataclass(frozen=True)
class Plugin:
    """One loaded entry point.

    Attributes
    ----------
    group : str
    name : str
    value : object
        What the entry point loads.
    entry_point : str
        ``name = module:attr``.
    distribution : str
        ``name version`` of the package that declares it (``"?"`` when unknown).
    """

    group: str
    name: str
    value: Any
    entry_point: str
    distribution: str

    def describe(self) -> dict:
        """JSON-ready ``{name, entry_point, distribution}``."""
        return {"name": self.name, "entry_point": self.entry_point, "distribution": self.distribution}


def discover(group: str) -> list[Plugin]:
    """Load and check every entry point of one group, skipping the broken ones with a warning.

    Parameters
    ----------
    group : str
        One of :data:`GROUPS`.

    Returns
    -------
    list of Plugin
        Sorted by name; one per name (the first distribution found keeps it).

    Raises
    ------
    ValueError
        ``group`` is not one of :data:`GROUPS`.

    Warns
    -----
    PluginWarning
        For each entry point skipped, naming it and why.

    Examples
    --------
    >>> discover("alchemist.readers")  # doctest: +SKIP
    [Plugin(group='alchemist.readers', name='pairs', value=<function read_pairs ...>, ...)]
    >>> discover("alchemist.nothing")
    Traceback (most recent call last):
    ...
    ValueError: 'alchemist.nothing' is not an alchemist plugin group; use one of alchemist.readers, ...
    """
    from importlib.metadata import entry_points

    if group not in GROUPS:
        raise ValueError(f"{group!r} is not an alchemist plugin group; use one of {', '.join(GROUPS)}")
    found: dict[str, Plugin] = {}
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        dist = f"{ep.dist.name} {ep.dist.version}" if getattr(ep, "dist", None) is not None else "?"
        where = f"{ep.name} = {ep.value} (group {group}, from {dist})"
        if ep.name in found:
            if found[ep.name].entry_point != f"{ep.name} = {ep.value}":
                _warn(f"alchemist plugin {where} is skipped: the name {ep.name!r} is taken by "
                      f"{found[ep.name].entry_point} from {found[ep.name].distribution}")
            continue
        try:
            value = ep.load()
            problem = _check(group, value)
        except Exception as exc:  # any import-time failure of a third-party package
            problem = f"loading it raised {exc.__class__.__name__}: {exc}"
        if problem:
            _warn(f"alchemist plugin {where} is skipped: {problem}; it must load {GROUPS[group]}")
            continue
        found[ep.name] = Plugin(group, ep.name, value, f"{ep.name} = {ep.value}", dist)
    return list(found.values())


def readers() -> dict[str, Callable]:
    """The plugin readers, by format name.

    Returns
    -------
    dict of str to callable
    """
    return {p.name: p.value for p in discover("alchemist.readers")}


def writers() -> dict[str, Callable]:
    """The plugin writers, by format name.

    Returns
    -------
    dict of str to callable
    """
    return {p.name: p.value for p in discover("alchemist.writers")}


def read_graph(path, *, format: str | None = None, graph_id: str | None = None, directed: bool = False, **kwargs):
    """Read a graph file with a plugin reader for its format, else :func:`alchemist.graph.io.read_graph`.

    Parameters
    ----------
    path : str or Path
    format : str, optional
        A format name; by default the file's last extension (``.pairs`` → ``"pairs"``) when a plugin
        reads it, else the built-in choice.
    graph_id : str, optional
    directed : bool
    **kwargs
        Passed to the built-in reader.

    Returns
    -------
    Graph

    Raises
    ------
    GraphFormatError, EdgeListFormatError
        As the reader used.
    """
    from alchemist.graph.io import read_graph as builtin

    path = Path(path)
    plugin = readers().get(format or path.suffix.lstrip(".").lower())
    if plugin is not None:
        return plugin(path, graph_id=graph_id, directed=directed)
    return builtin(path, directed, graph_id=graph_id, format=format, **kwargs)


def write_graph(graph, path, *, format: str | None = None) -> Path:
    """Write a graph with a plugin writer for its format, else :func:`alchemist.graph.io.write_graph`.

    Parameters
    ----------
    graph : Graph
    path : str or Path
    format : str, optional
        By default the file's last extension when a plugin writes it.

    Returns
    -------
    Path

    Raises
    ------
    GraphFormatError
        As the writer used.
    """
    from alchemist.graph.io import write_graph as builtin

    path = Path(path)
    plugin = writers().get(format or path.suffix.lstrip(".").lower())
    if plugin is not None:
        return Path(plugin(graph, path))
    return builtin(graph, path, format=format)


def layout_forces() -> dict[str, Callable]:
    """The plugin layout forces: name → the ``Force`` subclass or factory (call it to get a force).

    Returns
    -------
    dict of str to callable
    """
    return {p.name: p.value for p in discover("alchemist.layout_forces")}


def graphql_types() -> list[type]:
    """The plugin Strawberry types whose fields the gateway's GraphQL ``Query`` takes in.

    Returns
    -------
    list of type
        In name order (merge them with ``strawberry.tools.merge_types``).
    """
    return [p.value for p in discover("alchemist.graphql")]


def register_agents() -> list[str]:
    """Add the plugin agents to :data:`alchemist.cim.agents.AGENTS` (a taken name is kept, with a warning).

    Returns
    -------
    list of str
        The names added.
    """
    from alchemist.cim.agents import AGENTS

    added = []
    for plugin in discover("alchemist.agents"):
        if plugin.name in AGENTS and AGENTS[plugin.name] is not plugin.value:
            _warn(f"alchemist plugin {plugin.entry_point} (group alchemist.agents, from {plugin.distribution}) is "
                  f"skipped: the agent name {plugin.name!r} is taken by {AGENTS[plugin.name].__name__}")
            continue
        if plugin.name not in AGENTS:
            AGENTS[plugin.name] = plugin.value
            added.append(plugin.name)
    return added


def register_event_types() -> list[str]:
    """Register the plugin event types' payload schemas (a known type is kept, with a warning).

    Returns
    -------
    list of str
        The event types added.
    """
    from alchemist.events import types

    added = []
    for plugin in discover("alchemist.event_types"):
        if plugin.name in types.EVENT_TYPES:
            _warn(f"alchemist plugin {plugin.entry_point} (group alchemist.event_types, from {plugin.distribution}) "
                  f"is skipped: the event type {plugin.name!r} is already known")
            continue
        types.register_event_type(plugin.name, plugin.value)
        added.append(plugin.name)
    return added


def register_all() -> dict[str, list[str]]:
    """Discover every group and register what has a registry (agents, event types).

    Returns
    -------
    dict of str to list of str
        Group → the plugin names found (broken ones are skipped with a :class:`PluginWarning`).
    """
    register_agents()
    register_event_types()
    return {group: [p.name for p in discover(group)] for group in GROUPS}


# --------------------------------------------------------------------------- the gateway part
def routes(ctx) -> list:
    """``GET /api/v1/plugins``: the plugins found, by group.

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    list of starlette.routing.Route
    """
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def plugins(request):
        return JSONResponse({group: [p.describe() for p in discover(group)] for group in GROUPS})

    return [Route("/api/v1/plugins", plugins, methods=["GET"], name="plugins")]


async def startup(ctx) -> None:
    """Register the plugins' agents and event types; never fails the start-up.

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    None
    """
    try:
        ctx.extras[PLUGINS_KEY] = register_all()
    except Exception as exc:  # a registry refusing something: the gateway serves without plugins
        _warn(f"alchemist plugins were not registered: {exc.__class__.__name__}: {exc}")


# --------------------------------------------------------------------------- checks
def _check(group: str, value: Any) -> str | None:
    """Why ``value`` is not what ``group`` needs, or None."""
    if group in ("alchemist.readers", "alchemist.writers"):
        return None if callable(value) else f"it loads {type(value).__name__}, which is not callable"
    if group == "alchemist.agents":
        from alchemist.cim.agents import Agent

        return None if isinstance(value, type) and issubclass(value, Agent) else f"{value!r} is not an Agent subclass"
    if group == "alchemist.layout_forces":
        return None if callable(value) else f"it loads {type(value).__name__}, which is neither a Force nor callable"
    if group == "alchemist.graphql":
        return None if hasattr(value, "__strawberry_definition__") else f"{value!r} is not a Strawberry type"
    import msgspec

    return None if isinstance(value, type) and issubclass(value, msgspec.Struct) else f"{value!r} is not a msgspec.Struct"


def _warn(message: str) -> None:
    warnings.warn(message, PluginWarning, stacklevel=3)
