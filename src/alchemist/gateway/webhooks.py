"""Outgoing webhooks: chosen graph events POSTed to HTTP endpoints, signed per Standard Webhooks.

Each entry of ``GatewaySettings.webhooks`` (``{"url": ..., "secret": "whsec_...", "event_types":
["node_added", ...]}``; optional ``max_attempts``, ``backoff_s``, ``max_backoff_s``, ``timeout_s``,
``queue``) gets a durable JetStream pull consumer on the graph-events stream, filtered to its event
types (and to ``events_batch`` messages, whose events are filtered here). Several gateway instances
over one NATS share that consumer, so each event is delivered by one of them, and a restarted
gateway goes on from the first event it had not acknowledged; the consumer starts at the events
published after it was first created (no replay of history).

Each event is POSTed as ``{"type": "graph.<event_type>", "timestamp": ..., "data": <the event>}``
with the headers of the Standard Webhooks specification, ``webhook-id`` (the event id: the same on
every attempt, so a receiver can de-duplicate), ``webhook-timestamp`` and ``webhook-signature``
(HMAC-SHA256 by the ``standardwebhooks`` package), which a receiver checks with
``standardwebhooks.Webhook(secret).verify(body, headers)``. A 2xx answer is a delivery; anything
else, or no answer in ``timeout_s``, is retried ``max_attempts`` times in all with exponential
backoff (tenacity). After the last failure the event goes to the dead-letter stream
(:class:`~alchemist.cim.deadletters.DeadLetters`) on ``alchemist.dlq.WEBHOOK_<name>.<sequence>.<event
token>``, with the error ``WebhookDeliveryError`` and the reason (the URL, the attempts, the last
status or error); the body stored is the payload that was POSTed, so it can be sent again.

Memory is bounded: at most ``queue`` messages are in flight per webhook (the consumer's
``max_ack_pending``), fetched ``min(queue, 16)`` at a time.

References
----------
.. [1] Standard Webhooks specification, https://www.standardwebhooks.com/ (github.com/standard-webhooks).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

import msgspec

from alchemist.errors import GatewayError

__all__ = ["WebhookSpec", "WebhookWorker", "WebhookDeliveryError", "routes", "startup", "shutdown",
           "WEBHOOKS_KEY", "webhook_payload"]

log = logging.getLogger("alchemist.gateway.webhooks")

#: The running :class:`WebhookWorker` list in :attr:`GatewayContext.extras`.
WEBHOOKS_KEY = "alchemist.gateway.webhooks"
_KEYS = {"url", "secret", "event_types", "name", "max_attempts", "backoff_s", "max_backoff_s", "timeout_s", "queue"}


class WebhookDeliveryError(GatewayError):
    """A webhook endpoint did not accept an event after every attempt (the dead letter's error)."""


@dataclass(frozen=True)
class WebhookSpec:
    """One outgoing webhook.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` endpoint.
    secret : str
        ``whsec_`` and the base64 of the key (as Standard Webhooks libraries generate it).
    event_types : tuple of str
        Event types to send (:data:`alchemist.events.EVENT_TYPES`), or ``("*",)`` for all.
    name : str
        Names the durable consumer (``alchemist-webhook-<name>``) and the dead letters
        (``WEBHOOK_<name>``); by default 12 hex digits of a digest of the URL and event types.
    max_attempts : int
        POSTs in all before the event is dead-lettered.
    backoff_s, max_backoff_s : float
        Wait before the second attempt, doubled each time up to ``max_backoff_s``.
    timeout_s : float
        Seconds to wait for each answer.
    queue : int
        Events in flight at most (the consumer's ``max_ack_pending``).

    Examples
    --------
    >>> spec = WebhookSpec.from_dict({"url": "https://example.org/hook", "event_types": ["node_added"],
    ...                               "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
    >>> spec.event_types, spec.max_attempts, len(spec.name)
    (('node_added',), 5, 12)
    """

    url: str
    secret: str
    event_types: tuple[str, ...] = ("*",)
    name: str = ""
    max_attempts: int = 5
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    timeout_s: float = 10.0
    queue: int = 100

    @classmethod
    def from_dict(cls, entry: dict) -> "WebhookSpec":
        """Validate one entry of ``GatewaySettings.webhooks``.

        Parameters
        ----------
        entry : dict

        Returns
        -------
        WebhookSpec

        Raises
        ------
        GatewayConfigError
            An unknown key, a URL that is not http(s), a secret ``standardwebhooks`` cannot use,
            an unknown event type, or a limit that is not positive.
        """
        from standardwebhooks import Webhook

        from alchemist.events import EVENT_TYPES
        from alchemist.gateway.responses import GatewayConfigError

        if not isinstance(entry, dict):
            raise GatewayConfigError(f"a webhook is a dict with url, secret and event_types, not {entry!r}")
        unknown = set(entry) - _KEYS
        if unknown:
            raise GatewayConfigError(f"webhook keys {sorted(unknown)} are not known; use {sorted(_KEYS)}")
        url = str(entry.get("url", ""))
        if not url.startswith(("http://", "https://")):
            raise GatewayConfigError(f"webhook url {url!r} must start with http:// or https://")
        secret = str(entry.get("secret", ""))
        try:
            if not secret.startswith("whsec_"):
                raise ValueError("no whsec_ prefix")
            Webhook(secret)
        except Exception:
            raise GatewayConfigError(f"the secret of webhook {url} must be 'whsec_' and a base64 key (generate one "
                                     "with 'whsec_' + base64.b64encode(os.urandom(24)).decode())") from None
        types = entry.get("event_types", ("*",))
        types = (types,) if isinstance(types, str) else tuple(str(t) for t in types)
        bad = [t for t in types if t != "*" and t not in EVENT_TYPES]
        if bad or not types:
            raise GatewayConfigError(f"webhook {url}: event types {bad or types} are not known; choose among "
                                     f"{', '.join(EVENT_TYPES)} or '*'")
        if "*" in types:
            types = ("*",)
        digest = hashlib.blake2b(f"{url} {' '.join(sorted(types))}".encode(), digest_size=6).hexdigest()
        name = str(entry.get("name") or digest)
        if not name.replace("-", "").replace("_", "").isalnum():
            raise GatewayConfigError(f"webhook name {name!r} may hold only letters, digits, '-' and '_'")
        numbers = {k: entry[k] for k in ("max_attempts", "backoff_s", "max_backoff_s", "timeout_s", "queue")
                   if k in entry}
        for key, value in numbers.items():
            if not isinstance(value, (int, float)) or value <= 0:
                raise GatewayConfigError(f"webhook {url}: {key}={value!r} must be a positive number")
        return cls(url=url, secret=secret, event_types=types, name=name, **numbers)

    def wants(self, event_type: str) -> bool:
        """Whether events of ``event_type`` go to this webhook."""
        return self.event_types == ("*",) or event_type in self.event_types


def webhook_payload(event) -> bytes:
    """The JSON body POSTed for one event (Standard Webhooks' ``type``/``timestamp``/``data``).

    Parameters
    ----------
    event : alchemist.events.Event

    Returns
    -------
    bytes

    Examples
    --------
    >>> from alchemist.events import new_event
    >>> import json
    >>> body = json.loads(webhook_payload(new_event("node_added", "g1", {"node_id": "a"})))
    >>> body["type"], body["data"]["aggregate_id"], body["data"]["payload"]
    ('graph.node_added', 'g1', {'node_id': 'a'})
    """
    return msgspec.json.encode({"type": f"{event.aggregate_type}.{event.event_type}", "timestamp": event.timestamp,
                                "data": msgspec.to_builtins(event)})


# --------------------------------------------------------------------------- the gateway part
def routes(ctx) -> list:
    """No routes: webhooks only send.

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    list
    """
    return []


async def startup(ctx) -> None:
    """Validate ``settings.webhooks``, create each webhook's durable consumer and start its worker.

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    None

    Raises
    ------
    GatewayConfigError
        A webhook entry is not valid (the gateway does not start).
    """
    specs = [WebhookSpec.from_dict(entry) for entry in ctx.settings.webhooks]
    if not specs:
        return
    from alchemist.gateway import bus

    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        from alchemist.gateway.responses import GatewayConfigError

        raise GatewayConfigError(f"two webhooks share a name among {names}; give each its own 'name'")
    nc = await bus.acquire(ctx)
    workers = []
    try:
        for spec in specs:
            worker = WebhookWorker(spec, nc, ctx.connection)
            await worker.start()
            workers.append(worker)
    except BaseException:
        for worker in workers:
            await worker.stop()
        await bus.release(ctx)
        raise
    ctx.extras[WEBHOOKS_KEY] = workers


async def shutdown(ctx) -> None:
    """Stop the workers (an event being delivered is not acknowledged: it is delivered again later).

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    None
    """
    workers = ctx.extras.pop(WEBHOOKS_KEY, None)
    if workers is None:
        return
    from alchemist.gateway import bus

    for worker in workers:
        await worker.stop()
    await bus.release(ctx)


# --------------------------------------------------------------------------- delivery
@dataclass
class WebhookWorker:
    """Delivers one webhook's events: pull from its durable consumer, POST, retry, dead-letter.

    Parameters
    ----------
    spec : WebhookSpec
    nc : nats.aio.client.Client
        On the running loop.
    connection : alchemist.cim.Connection
        Gives the stream names and the subject template.

    Attributes
    ----------
    delivered, dead_lettered, attempts : int
        Events accepted by the endpoint, events dead-lettered, POSTs made.
    """

    spec: WebhookSpec
    nc: object
    connection: object
    delivered: int = 0
    dead_lettered: int = 0
    attempts: int = 0
    task: asyncio.Task | None = None
    sub: object = None
    client: object = None
    _signer: object = field(default=None, repr=False)

    @property
    def durable(self) -> str:
        """The durable consumer's name."""
        return f"alchemist-webhook-{self.spec.name}"

    def filter_subjects(self) -> list[str]:
        """The consumer's subject filters: one per event type, plus ``events_batch`` messages."""
        subjects = self.connection.subjects
        if self.spec.event_types == ("*",):
            return [subjects.stream_filter()]
        from alchemist.events import BATCH_TYPE

        def one(event_type: str) -> str:
            return subjects.prefix + subjects.template.format(domain=subjects.domain, kind="events",
                                                              aggregate_id="*", event=event_type)

        return [one(t) for t in (*self.spec.event_types, BATCH_TYPE)]

    async def start(self) -> None:
        """Create (or find) the durable consumer and start pulling."""
        import httpx
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        from standardwebhooks import Webhook

        spec = self.spec
        js = self.nc.jetstream()
        stream = self.connection.streams.graph
        filters = self.filter_subjects()
        # an event may wait for every attempt (and the backoff between them) before it is acknowledged
        busy = spec.max_attempts * spec.timeout_s + spec.max_attempts * spec.max_backoff_s + 30
        config = ConsumerConfig(durable_name=self.durable, deliver_policy=DeliverPolicy.NEW,
                                ack_policy=AckPolicy.EXPLICIT, ack_wait=busy, max_ack_pending=spec.queue,
                                description=f"alchemist webhook to {spec.url}",
                                **({"filter_subject": filters[0]} if len(filters) == 1 else {"filter_subjects": filters}))
        try:
            await js.add_consumer(stream, config)
        except Exception as exc:  # made by an instance with other settings: bind to it as it is
            log.warning("webhook %s: consumer %s kept as it is (%s)", spec.url, self.durable, exc)
        self.sub = await js.pull_subscribe_bind(durable=self.durable, stream=stream)
        self.client = httpx.AsyncClient(timeout=spec.timeout_s, follow_redirects=False,
                                        headers={"user-agent": "alchemist-webhooks"})
        self._signer = Webhook(spec.secret)
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop pulling and close the HTTP client."""
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except BaseException:
                pass
            self.task = None
        if self.sub is not None:
            try:
                await self.sub.unsubscribe()
            except Exception:
                pass
        if self.client is not None:
            await self.client.aclose()

    async def _run(self) -> None:
        import nats.errors

        batch = max(1, min(self.spec.queue, 16))
        while True:
            try:
                msgs = await self.sub.fetch(batch, timeout=2.0)
            except (nats.errors.TimeoutError, asyncio.TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # reconnecting: wait and pull again
                log.warning("webhook %s: fetch failed (%s); retrying", self.spec.url, exc)
                await asyncio.sleep(1.0)
                continue
            for msg in msgs:
                try:
                    await self.handle(msg)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the dead letter could not be stored: deliver it again later
                    log.warning("webhook %s: stream sequence %s not acknowledged (%s)", self.spec.url,
                                msg.metadata.sequence.stream, exc)
                    await _quietly(msg.nak(delay=5.0))

    async def handle(self, msg) -> None:
        """Deliver the wanted events of one stream message, then acknowledge it."""
        from alchemist.errors import EventError
        from alchemist.events import decode_message

        sequence = msg.metadata.sequence.stream
        try:
            events = decode_message(msg.data, dict(msg.headers or {}), sequence=sequence)
        except EventError as exc:  # the graph's readers dead-letter it; not for outside systems
            log.warning("webhook %s: stream sequence %s skipped (%s)", self.spec.url, sequence, exc)
            events = []
        for event in events:
            if self.spec.wants(event.event_type):
                await self.deliver(event, sequence, msg)
        await msg.ack()

    async def deliver(self, event, sequence: int, msg=None) -> bool:
        """POST one event with retries; dead-letter it after the last failure.

        Parameters
        ----------
        event : alchemist.events.Event
        sequence : int
            Its stream sequence.
        msg : nats.aio.msg.Msg, optional
            Told "in progress" before each attempt, so the server does not redeliver it meanwhile.

        Returns
        -------
        bool
            True when delivered, False when dead-lettered.
        """
        from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

        spec = self.spec
        body = webhook_payload(event)
        retrying = AsyncRetrying(stop=stop_after_attempt(spec.max_attempts), reraise=True,
                                 wait=wait_exponential(multiplier=spec.backoff_s, max=spec.max_backoff_s),
                                 retry=retry_if_exception_type(WebhookDeliveryError))
        try:
            async for attempt in retrying:
                with attempt:
                    if msg is not None:
                        await _quietly(msg.in_progress())
                    await self._post(event.event_id, body)
        except WebhookDeliveryError as exc:
            await self._dead_letter(body, event, sequence, exc)
            return False
        self.delivered += 1
        return True

    async def _post(self, msg_id: str, body: bytes) -> None:
        now = datetime.now(timezone.utc)
        headers = {"content-type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": self._signer.sign(msg_id, now, body)}
        self.attempts += 1
        try:
            response = await self.client.post(self.spec.url, content=body, headers=headers)
        except Exception as exc:  # connection refused, timeout, TLS
            raise WebhookDeliveryError(f"POST {self.spec.url}: {exc.__class__.__name__}: {exc}") from None
        if not 200 <= response.status_code < 300:
            raise WebhookDeliveryError(f"POST {self.spec.url}: HTTP {response.status_code} {response.reason_phrase}")

    async def _dead_letter(self, body: bytes, event, sequence: int, exc: WebhookDeliveryError) -> None:
        from alchemist.cim.deadletters import DeadLetters

        spec = self.spec
        why = WebhookDeliveryError(f"{exc} (attempt {spec.max_attempts} of {spec.max_attempts}); the endpoint did "
                                   f"not accept event {event.event_id} ({event.event_type}) of graph "
                                   f"{event.aggregate_id!r}")
        letters = DeadLetters(self.nc.jetstream(), stream=self.connection.streams.dlq)
        await letters.send(body, why, graph_id=event.aggregate_id, sequence=sequence, event_id=event.event_id,
                           stream=f"WEBHOOK_{spec.name}")
        self.dead_lettered += 1
        log.warning("webhook %s: event %s dead-lettered: %s", spec.url, event.event_id, why)


async def _quietly(awaitable) -> None:
    try:
        await awaitable
    except Exception:
        pass
