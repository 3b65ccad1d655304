"""Readers for published example spaces: Bechberger's fruit space and apple space.

The JSON file (``conceptual_spaces/bechberger_example_spaces.json`` in the project's shared
data) transcribes the demo spaces of Bechberger's reference implementation
(github.com/lbechberger/ConceptualSpaces, ``demo/fruit_space.py`` and ``demo/apple_space.py``,
MIT licence): domains, dimension names and, per concept, the core cuboids, μ₀, c and weights.
"""

from __future__ import annotations

import json
from pathlib import Path

from alchemist.concepts.concept import Concept
from alchemist.concepts.space import ConceptualSpace
from alchemist.errors import InputFormatError

__all__ = ["read_reference_spaces"]


def read_reference_spaces(path) -> dict[str, tuple[ConceptualSpace, dict[str, Concept]]]:
    """Read Bechberger's example spaces.

    Parameters
    ----------
    path : str or Path
        The ``bechberger_example_spaces.json`` transcription.

    Returns
    -------
    dict
        Space name (``"fruit_space"``, ``"apple_space"``) → ``(space, {concept name: Concept})``.

    Raises
    ------
    InputFormatError
        If the file is missing or lacks a field.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputFormatError(f"cannot read example spaces from {path}: {exc}", path=str(path)) from None
    out = {}
    try:
        for name, spec in data.items():
            if name.startswith("_"):
                continue
            space = ConceptualSpace(spec["domains"], dimension_names=spec["dimension_names"], name=name)
            concepts = {}
            for cname, c in spec["concepts"].items():
                cuboids = [([float(v) for v in cub["p_min"]], [float(v) for v in cub["p_max"]]) for cub in c["cuboids"]]
                dims = {d: {int(k): float(w) for k, w in ws.items()} for d, ws in c["dimension_weights"].items()}
                concepts[cname] = space.concept(
                    cuboids, mu=c["mu"], c=c["c"], weights=c["domain_weights"], dimension_weights=dims
                )
            out[name] = (space, concepts)
    except KeyError as exc:
        raise InputFormatError(f"{path}: missing field {exc.args[0]!r}", path=str(path)) from None
    return out
