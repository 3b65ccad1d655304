"""Connection options for the CIM, from arguments or environment variables; secrets redacted.

Environment variables (used when the argument is not given):

============================  ============================================
``ALCHEMIST_NATS_URL``        server URL(s), comma separated (``NATS_URL`` also read)
``NATS_CREDS``                path of a ``.creds`` file (JWT + NKey seed)
``NATS_NKEY``                 path of an NKey seed file
``NATS_USER``, ``NATS_PASSWORD``  user name and password
``NATS_TOKEN``                authentication token
``NATS_CA``, ``NATS_CERT``, ``NATS_KEY``  TLS CA bundle, client certificate and key (PEM paths)
``ALCHEMIST_NATS_REPLICAS``   stream replicas (cluster)
============================  ============================================

Secrets (password, token, the content of key files) never appear in ``repr``, ``str`` or log
lines: :meth:`ConnectOptions.redacted_url` masks credentials embedded in URLs.
"""

from __future__ import annotations

import os
import re
import ssl
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["ConnectOptions", "redact_url"]

_SECRET = "***"
_ENV = {
    "creds": "NATS_CREDS", "nkey": "NATS_NKEY", "user": "NATS_USER", "password": "NATS_PASSWORD",
    "token": "NATS_TOKEN", "tls_ca": "NATS_CA", "tls_cert": "NATS_CERT", "tls_key": "NATS_KEY",
}


def redact_url(url: str) -> str:
    """``nats://user:secret@host:4222`` → ``nats://user:***@host:4222`` (a bare token is masked too).

    Parameters
    ----------
    url : str

    Returns
    -------
    str
        ``url`` with the secret part of its user info replaced by ``***``; unchanged when it
        has none.

    Examples
    --------
    >>> redact_url("nats://alice:s3cret@cim.example:4222")
    'nats://alice:***@cim.example:4222'
    >>> redact_url("tls://mytoken@cim.example:4222")
    'tls://***@cim.example:4222'
    >>> redact_url("nats://127.0.0.1:4222")
    'nats://127.0.0.1:4222'
    """
    return re.sub(r"(//)([^/@:]*)(:[^/@]*)?@", lambda m: m.group(1) + (
        (m.group(2) + ":" + _SECRET) if m.group(3) else _SECRET) + "@", url)


@dataclass
class ConnectOptions:
    """Everything needed to reach a CIM (see :func:`alchemist.cim.connect` for the meanings).

    Parameters
    ----------
    servers : list of str
    name : str
    creds, nkey, user, password, token, tls_ca, tls_cert, tls_key : str or None
    max_reconnects : int
    reconnect_wait, timeout : float

    Examples
    --------
    >>> options = ConnectOptions(servers=["nats://u:pw@localhost:4222"], user="u", password="pw")
    >>> options
    ConnectOptions(servers=['nats://u:***@localhost:4222'], name='information-alchemist', user='u', password='***', max_reconnects=60, reconnect_wait=2.0, timeout=5.0)
    >>> options.uses_tls, ConnectOptions(servers=["tls://localhost:4222"]).uses_tls
    (False, True)
    """

    servers: list[str] = field(default_factory=list)
    name: str = "information-alchemist"
    creds: str | None = None
    nkey: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    max_reconnects: int = 60
    reconnect_wait: float = 2.0
    timeout: float = 5.0

    @classmethod
    def resolve(cls, url: str | None = None, servers=None, **given: Any) -> "ConnectOptions":
        """Arguments first, then environment variables (the table in the module docstring).

        Parameters
        ----------
        url : str, optional
            One URL or several, comma separated; ``$ALCHEMIST_NATS_URL`` or ``$NATS_URL`` when
            omitted (no servers at all: :func:`~alchemist.cim.connect` starts the embedded one).
        servers : list of str or str, optional
            Instead of ``url``.
        **given
            The other fields; None means "not given".

        Returns
        -------
        ConnectOptions

        Raises
        ------
        TypeError
            An unknown option name.
        ValueError
            ``password`` without ``user``, or ``tls_cert`` without ``tls_key`` (or the reverse).

        Examples
        --------
        >>> ConnectOptions.resolve("nats://a:4222, nats://b:4222", user="u", password="p").servers
        ['nats://a:4222', 'nats://b:4222']
        >>> ConnectOptions.resolve("nats://a:4222", password="p")
        Traceback (most recent call last):
        ...
        ValueError: password= was given without user=; give both (or NATS_USER and NATS_PASSWORD)
        """
        if servers is None:
            text = url or os.environ.get("ALCHEMIST_NATS_URL") or os.environ.get("NATS_URL")
            servers = [s.strip() for s in text.split(",") if s.strip()] if text else []
        elif isinstance(servers, str):
            servers = [servers]
        values = {k: v for k, v in given.items() if v is not None}
        for name, env in _ENV.items():
            if name not in values and os.environ.get(env):
                values[name] = os.environ[env]
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise TypeError(f"unknown connection option(s) {sorted(unknown)}; known: {sorted(known - {'servers'})}")
        options = cls(servers=list(servers), **values)
        if options.password is not None and options.user is None:
            raise ValueError("password= was given without user=; give both (or NATS_USER and NATS_PASSWORD)")
        if (options.tls_cert is None) != (options.tls_key is None):
            raise ValueError("tls_cert= and tls_key= go together (a client certificate needs its key)")
        return options

    @property
    def uses_tls(self) -> bool:
        """Whether TLS is used: a CA or client certificate is given, or a ``tls://`` URL."""
        return bool(self.tls_ca or self.tls_cert or any(s.startswith("tls://") for s in self.servers))

    def redacted_servers(self) -> list[str]:
        """The server URLs with credentials masked (:func:`redact_url`), for logs and reprs.

        Returns
        -------
        list of str
        """
        return [redact_url(s) for s in self.servers]

    def nats_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``nats.connect``.

        Returns
        -------
        dict
            Servers, name, timeouts and reconnection settings, the credentials given, and an
            ``ssl.SSLContext`` under ``tls`` when :attr:`uses_tls`.

        Raises
        ------
        FileNotFoundError
            A TLS CA, certificate or key path does not exist.
        ssl.SSLError
            A TLS file is not valid PEM, or the key does not match the certificate.
        """
        kw: dict[str, Any] = {
            "servers": self.servers, "name": self.name, "connect_timeout": self.timeout,
            "max_reconnect_attempts": self.max_reconnects, "reconnect_time_wait": self.reconnect_wait,
            "allow_reconnect": True,
            # a publish that fills the client's buffer waits for a forced flush; without a limit it
            # waits forever when the server goes away during that flush (nats-py 2.x)
            "flush_timeout": 2.0,
        }
        if self.creds:
            kw["user_credentials"] = self.creds
        if self.nkey:
            kw["nkeys_seed"] = self.nkey
        if self.user is not None:
            kw["user"], kw["password"] = self.user, self.password or ""
        if self.token:
            kw["token"] = self.token
        if self.uses_tls:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.tls_ca)
            if self.tls_cert:
                context.load_cert_chain(self.tls_cert, self.tls_key)
            kw["tls"] = context
            kw["tls_handshake_first"] = False
        return kw

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "servers":
                value = self.redacted_servers()
            elif f.name in ("password", "token"):
                value = _SECRET if value else None
            if value not in (None, [], ""):
                shown.append(f"{f.name}={value!r}")
        return f"ConnectOptions({', '.join(shown)})"

    __str__ = __repr__
