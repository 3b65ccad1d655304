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

    Examples
    --------
    >>> import asyncio
    >>> loop = LoopThread()
    >>> async def answer():
    ...     await asyncio.sleep(0.01)
    ...     return 42
    >>> loop.run(answer())
    42
    >>> asyncio.run(loop.arun(answer()))  # from another event loop
    42
    >>> loop.stop()
    >>> loop.loop.is_closed()
    True
    """

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="alchemist-nats", daemon=True)
        self.thread.start()

    def run(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and block until it returns (or ``timeout`` seconds pass).

        Parameters
        ----------
        coro : awaitable
        timeout : float, optional
            Seconds to wait; None waits as long as it takes.

        Returns
        -------
        object
            What ``coro`` returns (what it raises is raised here; Ctrl-C cancels it).

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
        """Await ``coro`` run on this loop, from any other event loop (or this one).

        Parameters
        ----------
        coro : awaitable

        Returns
        -------
        object
            What ``coro`` returns; what it raises is raised here.
        """
        if asyncio.get_running_loop() is self.loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def spawn(self, coro: Awaitable) -> None:
        """Schedule ``coro`` on the loop without waiting (thread-safe).

        Parameters
        ----------
        coro : awaitable
            Its result and exceptions are not collected.

        Returns
        -------
        None
        """
        if threading.current_thread() is self.thread:
            self.loop.create_task(coro)  # type: ignore[arg-type]
        else:
            asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        """Stop the loop and join its thread (at most 5 s), then close the loop.

        Tasks still pending on it are dropped (not awaited). Calling it again does nothing.

        Returns
        -------
        None
        """
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
        if not self.loop.is_running() and not self.loop.is_closed():
            self.loop.close()
