"""Placeholder of the gateway part `collab` (being written; see alchemist.gateway.app)."""

from __future__ import annotations


def routes(ctx) -> list:
    """This part's Starlette routes (none yet)."""
    return []
