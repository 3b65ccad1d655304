"""What every alchemist widget shares: its front-end assets, the static fallback in the MIME
bundle, HTML escaping, and a coalescing worker thread that renders only the latest request."""

from __future__ import annotations

import base64
import html
import threading
import time
from pathlib import Path
from typing import Any, Callable

import anywidget

__all__ = ["AlchemistWidget", "LatestWorker", "asset", "escape", "png_html"]

_ASSET_DIRS = (
    Path(__file__).resolve().parents[3] / "widgets",  # a source checkout: the top-level widgets/
    Path(__file__).resolve().parents[1] / "_static" / "widgets",  # an installed wheel
)


def asset(*names: str) -> str:
    """The text of front-end files from the top-level ``widgets/`` folder, concatenated in order
    (the shared DOM helpers first, then one widget's module, so each widget's ESM is one file)."""
    for folder in _ASSET_DIRS:
        if (folder / names[-1]).exists():
            return "\n".join((folder / name).read_text(encoding="utf-8") for name in names)
    raise FileNotFoundError(f"alchemist widget asset {names[-1]!r} is in none of {[str(d) for d in _ASSET_DIRS]}")


def escape(value: Any) -> str:
    """HTML-escaped text of any value (quotes included), for the static fallbacks."""
    return html.escape(str(value), quote=True)


def png_html(png: bytes, alt: str, width: int | None = None) -> str:
    """An ``<img>`` element holding ``png`` as a data URL (only for the static fallback; the live
    widget gets its images as binary buffers)."""
    size = f' width="{int(width)}"' if width else ""
    return (f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="{escape(alt)}"{size}'
            ' style="max-width:100%">')


class AlchemistWidget(anywidget.AnyWidget):
    """Base class: an anywidget whose MIME bundle also carries a static ``text/html`` view (and
    ``image/png`` where the widget is a picture), so that notebooks executed without a browser
    (papermill, nbconvert) still show it."""

    _css = asset("alchemist.css")

    def _repr_mimebundle_(self, **kwargs):
        """The live widget view plus the static views: ``text/html`` (the picture or table of
        :meth:`static_html`, shown by nbconvert exports through
        :class:`alchemist.widgets.export.StaticWidgetViews`) and a one-line ``text/plain``
        (the class and title, not the object's address)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle or {}, {})
        data = dict(data)
        try:
            data["text/html"] = f'<div class="alchemist-static">{self.static_html()}</div>'
        except Exception as exc:  # a fallback must never break the live display
            data["text/html"] = f"<pre>{escape(type(self).__name__)}: static view failed ({escape(exc)})</pre>"
        title = getattr(self, "title", "")
        data["text/plain"] = f"{type(self).__name__}({title!r})" if isinstance(title, str) and title else f"{type(self).__name__}()"
        return data, metadata

    def static_html(self) -> str:
        """HTML shown where no widget manager runs (nbconvert, papermill reports)."""
        return f"<b>{escape(type(self).__name__)}</b>"


class LatestWorker:
    """A daemon thread that runs ``handler(request)`` for the most recent request only.

    :meth:`submit` replaces any request still waiting, so a burst of requests (a fast drag) costs
    one render for the newest one and none for the stale ones. :meth:`wait` blocks until the
    worker is idle (for scripts and tests).
    """

    def __init__(self, handler: Callable[[Any], None], name: str = "alchemist-render"):
        self._handler = handler
        self._cond = threading.Condition()
        self._pending: Any = None
        self._has_pending = False
        self._busy = False
        self.coalesced = 0
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, request: Any) -> None:
        with self._cond:
            if self._has_pending:
                self.coalesced += 1
            self._pending, self._has_pending = request, True
            self._cond.notify_all()

    @property
    def pending(self) -> bool:
        """Whether a request is waiting (a long render may give way to it)."""
        return self._has_pending

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until no request is pending or running; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._has_pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._has_pending:
                    self._cond.wait()
                request, self._pending, self._has_pending = self._pending, None, False
                self._busy = True
            try:
                self._handler(request)
            except BaseException as exc:  # keep serving; the widget shows the error in its status
                self.errors.append(exc)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
