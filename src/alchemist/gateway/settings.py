"""The gateway's settings: one frozen dataclass, filled from ``alchemist serve``'s flags or by hand.

:func:`add_security_flags` adds the credential, CORS and limit flags to an ``argparse`` parser and
:func:`settings_from_args` turns the parsed flags into :class:`GatewaySettings`; API keys come from
a JSON or TOML file (:func:`load_api_keys`) and a JWT secret from an environment variable, never
from the command line (where ``ps`` would show it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from alchemist.gateway.responses import GatewayConfigError

__all__ = ["GatewaySettings", "load_api_keys", "add_security_flags", "settings_from_args", "PUBLIC_PATHS"]

PUBLIC_PATHS = ("/healthz", "/readyz", "/metrics", "/api/v1/openapi.json", "/api/v1/docs")
"""Paths served without credentials and outside the rate limit (probes, scrapers, the API's description)."""


@dataclass(frozen=True)
class GatewaySettings:
    """What one gateway instance serves and how it guards itself.

    Parameters
    ----------
    host, port : str, int
        Where uvicorn listens (default loopback, 8000).
    api_keys : dict of str to dict
        ``{key: {"subject": ..., "read": [graph ids or "*"], "write": [...]}}``; a request carries
        its key in ``X-API-Key`` or ``Authorization: Bearer <key>``.
    jwt_secret, jwt_public_key : str, optional
        Verify JWT bearer tokens (HS* with the secret, RS*/ES* with the PEM public key); claims
        ``sub``, ``read`` and ``write`` (lists of graph ids or ``"*"``), ``exp`` required.
    jwt_algorithms : tuple of str
        Algorithms accepted (``"none"`` is never accepted, whatever this says).
    jwt_audience, jwt_issuer : str, optional
        Checked when set (a token without the claim is then refused).
    allow_anonymous : bool
        Without credentials a request acts as ``anonymous`` with read and write on every graph.
        Default: true only when no key and no JWT verifier is configured.
    cors_origins : tuple of str
        Origins allowed by CORS (none by default; ``"*"`` for any).
    rate_limit : str or None
        Per-principal limit in the ``limits`` notation (``"100/second"``, ``"1000 per minute"``);
        None or ``""``: no limit. Each gateway instance counts on its own.
    public_paths : tuple of str
        Served without credentials and not rate limited (:data:`PUBLIC_PATHS`).
    graphql_max_depth, graphql_max_complexity : int
        Queries deeper or costlier are refused before they run.
    max_page_size : int
        The largest ``first``/``limit`` a query may ask.
    request_timeout_s : float
        A resolver or request running longer is cancelled with a clear error.
    max_upload_bytes : int
        The largest file ``POST /api/v1/graphs/import`` accepts (bytes; 413 beyond).
    webhooks : tuple of dict
        ``{"url": ..., "secret": "whsec_...", "event_types": [...]}`` per outgoing webhook.
    collab_limits : alchemist.gateway.collab_protocol.CollabLimits, optional
        Caps and rates of the collaboration channel (sessions per graph, cursor rate, presence
        TTL); the defaults of ``CollabLimits()`` when None.

    Examples
    --------
    >>> GatewaySettings().anonymous_allowed
    True
    >>> GatewaySettings(api_keys={"k1": {"subject": "ana", "read": ["*"]}}).anonymous_allowed
    False
    """

    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: dict = field(default_factory=dict)
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_algorithms: tuple[str, ...] = ("HS256",)
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    allow_anonymous: bool | None = None
    cors_origins: tuple[str, ...] = ()
    rate_limit: str | None = "100/second"
    public_paths: tuple[str, ...] = PUBLIC_PATHS
    graphql_max_depth: int = 12
    graphql_max_complexity: int = 10_000
    max_page_size: int = 1_000
    request_timeout_s: float = 30.0
    max_upload_bytes: int = 1 << 30
    webhooks: tuple[dict, ...] = ()
    collab_limits: object | None = None

    @property
    def anonymous_allowed(self) -> bool:
        """Whether a request without credentials is served (see ``allow_anonymous``)."""
        if self.allow_anonymous is not None:
            return self.allow_anonymous
        return not (self.api_keys or self.jwt_secret or self.jwt_public_key)


def load_api_keys(path: str | Path) -> dict:
    """Read API keys from a JSON or TOML file (by its extension; JSON otherwise).

    Either a table of keys, ``{"<key>": {"subject": "ana", "read": ["*"], "write": ["g1"]}}``,
    or a list under ``keys``: ``{"keys": [{"key": "<key>", "subject": "ana", ...}]}`` (in TOML,
    ``[[keys]]`` entries).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict of str to dict
        ``{key: {"subject": str, "read": list of str, "write": list of str}}``, the form of
        :attr:`GatewaySettings.api_keys`.

    Raises
    ------
    GatewayConfigError
        The file is missing or unreadable, or an entry lacks its key or subject or has ``read``/
        ``write`` that are not lists of strings; the message names the file and the entry.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp, "keys.toml")
    ...     _ = path.write_text('[[keys]]\\nkey = "s3cret"\\nsubject = "ana"\\nread = ["*"]\\n')
    ...     load_api_keys(path)
    {'s3cret': {'subject': 'ana', 'read': ['*'], 'write': []}}
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise GatewayConfigError(f"API key file {path}: cannot be read ({exc}); give a JSON or TOML file "
                                 "of {key: {subject, read, write}}") from None
    entries = data.get("keys", data) if isinstance(data, dict) else data
    if isinstance(entries, dict):
        entries = [{"key": key, **(spec if isinstance(spec, dict) else {})} for key, spec in entries.items()]
    if not isinstance(entries, list):
        raise GatewayConfigError(f"API key file {path}: expected a table of keys or a 'keys' list")
    keys = {}
    for number, entry in enumerate(entries, start=1):
        key, subject = entry.get("key"), entry.get("subject")
        if not isinstance(key, str) or not key or not isinstance(subject, str) or not subject:
            raise GatewayConfigError(f"API key file {path}: entry {number} needs a non-empty 'key' and 'subject'")
        spec = {"subject": subject}
        for action in ("read", "write"):
            graphs = entry.get(action, [])
            if isinstance(graphs, str):
                graphs = [graphs]
            if not isinstance(graphs, list) or not all(isinstance(g, str) for g in graphs):
                raise GatewayConfigError(f"API key file {path}: entry {number} ({subject!r}): {action!r} must be "
                                         f"a list of graph ids or '*', got {graphs!r}")
            spec[action] = graphs
        keys[key] = spec
    return keys


def add_security_flags(parser: argparse.ArgumentParser) -> None:
    """Add the gateway's credential, CORS and limit flags to ``parser`` (``alchemist serve``).

    Parameters
    ----------
    parser : argparse.ArgumentParser

    Returns
    -------
    None

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_security_flags(parser)
    >>> args = parser.parse_args(["--cors-origin", "https://a.example", "--rate-limit", "5/second"])
    >>> settings = settings_from_args(args)
    >>> settings.cors_origins, settings.rate_limit, settings.anonymous_allowed
    (('https://a.example',), '5/second', True)
    """
    group = parser.add_argument_group("security and limits")
    group.add_argument("--api-keys", metavar="FILE", help="JSON or TOML file of API keys: "
                       "{key: {subject, read: [graph ids or '*'], write: [...]}}")
    group.add_argument("--jwt-secret-env", metavar="NAME",
                       help="environment variable holding the HMAC secret of JWT bearer tokens (HS256)")
    group.add_argument("--jwt-public-key", metavar="FILE", help="PEM public key verifying RS*/ES* JWT bearer tokens")
    group.add_argument("--jwt-algorithm", action="append", metavar="ALG",
                       help="accepted JWT algorithm (repeatable; default HS256, or RS256 with --jwt-public-key)")
    group.add_argument("--jwt-audience", metavar="AUD", help="required 'aud' claim of JWT bearer tokens")
    group.add_argument("--jwt-issuer", metavar="ISS", help="required 'iss' claim of JWT bearer tokens")
    group.add_argument("--allow-anonymous", action=argparse.BooleanOptionalAction, default=None,
                       help="serve requests without credentials (default: only when no key or JWT is configured)")
    group.add_argument("--cors-origin", action="append", metavar="ORIGIN",
                       help="origin allowed by CORS, e.g. https://app.example (repeatable; '*' for any)")
    group.add_argument("--rate-limit", metavar="LIMIT", default=GatewaySettings.rate_limit,
                       help="requests per principal, e.g. '100/second' or '1000 per minute'; 'none' for no limit; "
                            "each instance counts on its own (default %(default)s)")
    group.add_argument("--max-upload-bytes", type=int, metavar="N", default=GatewaySettings.max_upload_bytes,
                       help="largest file POST /api/v1/graphs/import accepts (default %(default)s)")


def settings_from_args(args: argparse.Namespace, **overrides) -> GatewaySettings:
    """The :class:`GatewaySettings` of parsed ``alchemist serve`` flags.

    Flags of :func:`add_security_flags` are read as described there; any other attribute of
    ``args`` named like a settings field (``host``, ``port``, ``graphql_max_depth``, ...) and not
    None is taken as it is; ``overrides`` win over both.

    Parameters
    ----------
    args : argparse.Namespace
    **overrides
        Settings fields.

    Returns
    -------
    GatewaySettings

    Raises
    ------
    GatewayConfigError
        The API key file or the JWT public key cannot be read, or the environment variable named
        by ``--jwt-secret-env`` is unset or empty.
    """
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(GatewaySettings)
              if getattr(args, f.name, None) is not None and f.name not in ("api_keys", "jwt_public_key")}
    if getattr(args, "api_keys", None):
        values["api_keys"] = load_api_keys(args.api_keys)
    if getattr(args, "jwt_secret_env", None):
        secret = os.environ.get(args.jwt_secret_env)
        if not secret:
            raise GatewayConfigError(f"--jwt-secret-env {args.jwt_secret_env}: that environment variable is unset or "
                                     "empty; export the JWT secret in it")
        values["jwt_secret"] = secret
    if getattr(args, "jwt_public_key", None):
        try:
            values["jwt_public_key"] = Path(args.jwt_public_key).read_text()
        except OSError as exc:
            raise GatewayConfigError(f"--jwt-public-key {args.jwt_public_key}: cannot be read ({exc})") from None
        values.setdefault("jwt_algorithms", ("RS256",))
    if getattr(args, "jwt_algorithm", None):
        values["jwt_algorithms"] = tuple(args.jwt_algorithm)
    if getattr(args, "cors_origin", None):
        values["cors_origins"] = tuple(args.cors_origin)
    if str(values.get("rate_limit", "")).lower() in ("none", "off", "0"):
        values["rate_limit"] = None
    values.update(overrides)
    return GatewaySettings(**values)
