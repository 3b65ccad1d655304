"""The event loop a :class:`~alchemist.cim.Connection` runs on.

nats-py is asyncio-only; notebooks and scripts call blocking methods. :class:`LoopThread` runs one
asyncio loop forever in a daemon thread: :meth:`LoopThread.run` submits a coroutine to it and blocks
the caller until it is done, :meth:`LoopThread.arun` awaits it from another event loop.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Awaitable, TypeVar

from alchemist.errors import CIMError

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """An asyncio event loop running forever in a daemon thread named ``alchemist-nats``.

    Attributes
    ----------
    loop : asyncio.AbstractEventLoop
    thread : threading.Thread
    """

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="alchemist-nats", daemon=True)
        self.thread.start()

    def run(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and block until it returns (or ``timeout`` seconds pass).

        Raises
        ------
        CIMError
            Called from the loop's own thread (it would deadlock): await the coroutine instead.
        concurrent.futures.TimeoutError
            ``timeout`` passed (the coroutine keeps running).
        """
        if threading.current_thread() is self.thread:
            coro.close()  # type: ignore[attr-defined]
            raise CIMError("a blocking Connection method was called from its own event loop; await the *_async "
                           "variant instead")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except KeyboardInterrupt:
            future.cancel()
            raise

    async def arun(self, coro: Awaitable[T]) -> T:
        """Await ``coro`` run on this loop, from any other event loop (or this one)."""
        if asyncio.get_running_loop() is self.loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def spawn(self, coro: Awaitable) -> None:
        """Schedule ``coro`` on the loop without waiting (thread-safe)."""
        if threading.current_thread() is self.thread:
            self.loop.create_task(coro)  # type: ignore[arg-type]
        else:
            asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        """Stop the loop and join its thread (at most 5 s), then close the loop."""
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
        if not self.loop.is_running() and not self.loop.is_closed():
            self.loop.close()
