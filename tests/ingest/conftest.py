"""Fixtures for the ingestion tests: the real nats-server of tests/cim."""

from __future__ import annotations

from tests.cim.conftest import conn, nats_server  # noqa: F401  (a real nats-server per test)
