"""Fixture: Bechberger's fruit space, read from the shared reference JSON (skips when absent)."""

from __future__ import annotations

import json

import pytest

from alchemist.concepts import read_reference_spaces


@pytest.fixture
def fruit(shared_data):
    path = shared_data("conceptual_spaces/bechberger_example_spaces.json")
    spaces = read_reference_spaces(path)
    space, concepts = spaces["fruit_space"]
    expected = json.loads(path.read_text())["fruit_space"]["expected_results_from_demo"]
    return space, concepts, expected
