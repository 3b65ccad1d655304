"""The gateway's settings: one frozen dataclass, filled from ``alchemist serve``'s flags or by hand."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["GatewaySettings"]


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
        ``sub``, ``read`` and ``write`` (lists of graph ids or ``"*"``).
    jwt_algorithms : tuple of str
        Algorithms accepted (never ``"none"``).
    jwt_audience, jwt_issuer : str, optional
        Checked when set.
    allow_anonymous : bool
        Without credentials a request acts as ``anonymous`` with read and write on every graph.
        Default: true only when no key and no JWT verifier is configured.
    cors_origins : tuple of str
        Origins allowed by CORS (none by default).
    rate_limit : str
        Per-principal limit in the ``limits`` notation (``"100/second"``).
    graphql_max_depth, graphql_max_complexity : int
        Queries deeper or costlier are refused before they run.
    max_page_size : int
        The largest ``first``/``limit`` a query may ask.
    request_timeout_s : float
        A resolver or request running longer is cancelled with a clear error.
    max_upload_bytes : int
        The largest file ``POST /api/v1/graphs/import`` accepts.
    webhooks : tuple of dict
        ``{"url": ..., "secret": "whsec_...", "event_types": [...]}`` per outgoing webhook.
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
    rate_limit: str = "100/second"
    graphql_max_depth: int = 12
    graphql_max_complexity: int = 10_000
    max_page_size: int = 1_000
    request_timeout_s: float = 30.0
    max_upload_bytes: int = 1 << 30
    webhooks: tuple[dict, ...] = ()

    @property
    def anonymous_allowed(self) -> bool:
        """Whether a request without credentials is served (see ``allow_anonymous``)."""
        if self.allow_anonymous is not None:
            return self.allow_anonymous
        return not (self.api_keys or self.jwt_secret or self.jwt_public_key)
