"""alchemist.games — game theory: normal-form games, equilibria, Pareto fronts, cooperative
games and coalitions on graphs.

Non-cooperative games: :class:`NormalFormGame` (n players, payoff arrays indexed by the action
profile), Gambit ``.nfg`` files (:func:`read_nfg`, :func:`write_nfg`), two-player equilibria
(:func:`support_enumeration`, :func:`vertex_enumeration`, :func:`lemke_howson`,
:func:`zero_sum_equilibrium`), verification (:func:`is_nash`, exact with ``exact=True``) and
degeneracy (:func:`is_degenerate`), n-player :func:`pure_nash`.

Equilibria are tuples of NumPy arrays, one mixed strategy per player.
"""

from alchemist.games.lemke_howson import lemke_howson, lemke_howson_all
from alchemist.games.nfg import read_nfg, write_nfg
from alchemist.games.normal_form import NormalFormGame, expected_payoffs, is_nash, regret
from alchemist.games.pure import pure_nash, pure_to_mixed
from alchemist.games.support_enumeration import support_enumeration
from alchemist.games.vertex_enumeration import is_degenerate, vertex_enumeration
from alchemist.games.zero_sum import zero_sum_equilibrium

__all__ = [
    "NormalFormGame",
    "read_nfg",
    "write_nfg",
    "is_nash",
    "regret",
    "expected_payoffs",
    "is_degenerate",
    "pure_nash",
    "pure_to_mixed",
    "support_enumeration",
    "vertex_enumeration",
    "lemke_howson",
    "lemke_howson_all",
    "zero_sum_equilibrium",
]

from alchemist.games.cooperative import (  # noqa: E402
    CoalitionalGame,
    ShapleyEstimate,
    banzhaf_index,
    core_is_empty,
    in_core,
    is_convex,
    is_superadditive,
    least_core,
    nucleolus,
    shapley_value,
    weighted_voting_game,
)
from alchemist.games.pareto import (  # noqa: E402
    equilibrium_payoffs,
    pareto_front,
    pareto_optimal_equilibria,
    welfare_maximizing_equilibria,
)

__all__ += [
    "CoalitionalGame",
    "weighted_voting_game",
    "shapley_value",
    "ShapleyEstimate",
    "banzhaf_index",
    "core_is_empty",
    "in_core",
    "least_core",
    "nucleolus",
    "is_superadditive",
    "is_convex",
    "pareto_front",
    "equilibrium_payoffs",
    "pareto_optimal_equilibria",
    "welfare_maximizing_equilibria",
]
from alchemist.games.dynamics import fictitious_play, iterated_dominance, replicator_dynamics  # noqa: E402
from alchemist.games.qre import logit_qre  # noqa: E402

__all__ += ["iterated_dominance", "replicator_dynamics", "fictitious_play", "logit_qre"]
from alchemist.games.coalitions import (  # noqa: E402
    HedonicGame,
    coalition_attraction,
    coalition_events,
    competition_repulsion,
    hedonic_game,
    is_core_stable,
    is_individually_stable,
    is_nash_stable,
    merge_and_split,
)

__all__ += [
    "HedonicGame",
    "hedonic_game",
    "merge_and_split",
    "is_nash_stable",
    "is_individually_stable",
    "is_core_stable",
    "coalition_attraction",
    "competition_repulsion",
    "coalition_events",
]
