"""alchemist.concepts — Gärdenfors conceptual spaces.

Quality dimensions grouped into domains with salience weights and the combined metric
(:class:`ConceptualSpace`), fuzzy star-shaped concepts after Bechberger & Kühnberger
(:class:`Concept`), nearest-prototype categorization at scale on CPU and GPU
(:func:`categorize`, :func:`membership_matrix`, :func:`similarity_matrix`).
"""

from alchemist.concepts.categorize import categorize, distance_matrix, membership_matrix, similarity_matrix
from alchemist.concepts.concept import Concept
from alchemist.concepts.examples import read_reference_spaces
from alchemist.concepts.space import DIMENSION_KINDS, ConceptualSpace, Weights

__all__ = [
    "ConceptualSpace",
    "Weights",
    "DIMENSION_KINDS",
    "Concept",
    "categorize",
    "distance_matrix",
    "similarity_matrix",
    "membership_matrix",
    "read_reference_spaces",
]
