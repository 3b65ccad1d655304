"""`import alchemist` is cheap (issue 15): it imports neither Numba nor the compute packages, and every
public name still resolves on first use (PEP 562)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import alchemist


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


def test_import_alchemist_does_not_import_numba():
    assert _run("import alchemist, sys; print('numba' in sys.modules)") == "False"


def test_import_alchemist_loads_no_compute_package():
    loaded = _run("import alchemist, sys; print(sorted(m for m in sys.modules if m.startswith('alchemist.')))")
    assert loaded == "[]"


def test_the_event_layer_imports_without_numba():
    # cim and the widgets import the envelope; the base32 kernel loads on the first CID made
    code = ("import sys; from alchemist.events import Event, new_event, verify_events; a = 'numba' in sys.modules; "
            "from alchemist.events import cid; c = cid(b''); print(a, 'numba' in sys.modules, c)")
    # the CID of the empty content, as published in the CIM's fixtures (and in alchemist.events.cid's doctest)
    assert _run(code) == "False True bafkr4ifpcne3t5pzugtkaqcn5i3nzskjtpfslsnnyejlpte2spfoihzsmi"


@pytest.mark.parametrize("name, module", [
    ("Graph", "alchemist.graph.core"), ("read_graph", "alchemist.graph.io"), ("read_edge_list", "alchemist.graph.io"),
    ("Event", "alchemist.events.envelope"), ("new_event", "alchemist.events.envelope"), ("cid", "alchemist.events.cid"),
    ("connect", "alchemist"), ("set_backend", "alchemist.backend"), ("get_backend", "alchemist.backend"),
    ("gpu_available", "alchemist.backend"),
])
def test_public_names_resolve(name, module):
    assert getattr(alchemist, name).__module__ == module


@pytest.mark.parametrize("name", ["layout", "render", "concepts", "games", "widgets", "cim", "errors", "events", "graph"])
def test_subpackages_resolve(name):
    assert getattr(alchemist, name).__name__ == f"alchemist.{name}"


def test_every_name_in_all_resolves_and_is_listed():
    assert all(hasattr(alchemist, name) for name in alchemist.__all__)
    assert set(alchemist.__all__) <= set(dir(alchemist))


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        alchemist.no_such_thing  # noqa: B018


def test_the_lazily_loaded_cid_kernel_matches_base64():
    import base64

    import blake3

    for data in (b"", b"alchemist", bytes(range(256))):
        raw = bytes([0x01, 0x55, 0x1E, 0x20]) + blake3.blake3(data).digest()  # CIDv1, raw, BLAKE3-256
        assert alchemist.cid(data) == "b" + base64.b32encode(raw).decode().lower().rstrip("=")


@pytest.mark.parametrize("env, expected", [
    ({}, "20000"),  # libgomp's 300,000 spins starve a descheduled partner thread on a busy machine
    ({"OMP_WAIT_POLICY": "PASSIVE"}, "None"),  # the user's policy stands (GOMP_SPINCOUNT would override it)
    ({"GOMP_SPINCOUNT": "7"}, "7"),
])
def test_import_alchemist_bounds_openmp_spinning_unless_the_user_chose(env, expected):
    import os

    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    done = subprocess.run([sys.executable, "-c", "import alchemist, os; print(os.environ.get('GOMP_SPINCOUNT'))"],
                          capture_output=True, text=True, timeout=120, check=True, env={**base, **env})
    assert done.stdout.strip() == expected
