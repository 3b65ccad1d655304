"""``alchemist serve``: the gateway's command (being written; see alchemist.gateway)."""

from __future__ import annotations


def add_commands(sub) -> None:
    """Add ``serve`` to the ``alchemist`` command's subparsers (not yet)."""
