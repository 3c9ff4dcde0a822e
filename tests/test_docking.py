"""Docking (Axtell et al. 1996): each anchor's known result, reproduced by our rule kernels.

Each test calls the kernel the model calls (``sim.rules.*``), on plain arrays, in the setting
of the original paper, and checks the paper's published result. A wrong kernel (a bound
applied the wrong way, a weight on the wrong party, an update out of order) fails here.
Small populations and few seeds keep the file fast; ODD section 7 names each anchor.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.boundaries import (
    anchoring_pull,
    bounded_mean,
    deffuant_step,
    random_pairs,
    relative_agreement_step,
    weighted_pull,
)
from sim.rules.supervision import code_update, socialisation_pull

SEEDS = range(3)


def opinion_clusters(values: np.ndarray, gap: float, min_size: int = 1) -> int:
    """Number of groups of sorted values separated by more than ``gap``, of at least
    ``min_size`` members (minor clusters below it are not counted, as in Deffuant 2000)."""
    ordered = np.sort(values)
    groups = np.split(ordered, np.nonzero(np.diff(ordered) > gap)[0] + 1)
    return sum(len(g) >= min_size for g in groups)


# --- Hegselmann & Krause 2002: consensus once epsilon exceeds about 0.2-0.25 ---------------

def hk_final(epsilon: float, seed: int, n: int = 100, rounds: int = 100) -> np.ndarray:
    """Everyone averages everyone within epsilon, equal weights, a full step each round."""
    rng = np.random.default_rng(seed)
    beliefs = rng.random((1, n))
    everyone = np.ones((1, n), dtype=bool)
    for _ in range(rounds):
        beliefs = bounded_mean(beliefs, np.ones((1, n)), everyone, epsilon)
    return beliefs[0]


@pytest.mark.parametrize("epsilon", [0.25, 0.3])
def test_hk_uniform_opinions_reach_consensus_above_the_transition(epsilon):
    for seed in SEEDS:
        assert opinion_clusters(hk_final(epsilon, seed), gap=1e-3) == 1


@pytest.mark.parametrize("epsilon, at_least", [(0.15, 2), (0.1, 3)])
def test_hk_uniform_opinions_fragment_below_the_transition(epsilon, at_least):
    for seed in SEEDS:
        assert opinion_clusters(hk_final(epsilon, seed), gap=1e-3) >= at_least


# --- Deffuant et al. 2000: about floor(1 / (2d)) clusters ----------------------------------

def deffuant_final(bound: float, seed: int, n: int = 200, rounds: int = 1500) -> np.ndarray:
    """Random pairs meet (one random matching of everyone per round) with mu = 0.5."""
    rng = np.random.default_rng(seed)
    x = rng.random((1, n))
    everyone = np.ones((1, n), dtype=bool)
    for _ in range(rounds):
        i, j, meets = random_pairs(everyone, rng)
        deffuant_step(x, i, j, meets, rate=0.5, bound=bound)
    return x[0]


@pytest.mark.parametrize("bound", [0.1, 0.15, 0.2, 0.3])
def test_deffuant_major_cluster_count_is_near_one_over_twice_the_bound(bound):
    expected = int(1 / (2 * bound))
    counts = [opinion_clusters(deffuant_final(bound, seed), gap=0.01, min_size=10)
              for seed in SEEDS]
    assert all(abs(c - expected) <= 1 for c in counts), counts
    assert np.median(counts) == expected, counts


def test_deffuant_pairs_beyond_the_bound_never_move():
    x = np.array([[0.1, 0.5]])
    deffuant_step(x, np.array([[0]]), np.array([[1]]), np.array([[True]]), 0.5, bound=0.3)
    assert x.tolist() == [[0.1, 0.5]]


# --- Friedkin & Johnsen 1999: x* = (I - AW)^-1 (I - A) x0 -----------------------------------

def test_influence_then_anchoring_converges_to_the_friedkin_johnsen_equilibrium():
    """Our weekly influence (weighted form, bound covering everyone) followed by anchoring is
    x(t+1) = A W x(t) + (I - A) x(0) with A = I - diag(alpha c) and W built from the ODD's
    weights: W_ij = mu R_i k_ij q_ij u_ij / sum_j k_ij (i != j), rows summing to 1."""
    rng = np.random.default_rng(3)
    n, mu, alpha = 6, 0.3, 0.2
    x0, status, confidence = rng.random((3, 1, n))
    together = rng.random((1, n, n))
    together = (together + together.transpose(0, 2, 1)) / 2
    readiness = np.where(np.arange(n) < 3, 1.0, 0.2)[None]
    x = x0.copy()
    for _ in range(3000):
        x = x + mu * readiness * weighted_pull(x, together, status, confidence, bound=1.01)
        x = x + anchoring_pull(x, x0, confidence, alpha)

    s, c, k = status[0], confidence[0], together[0] * (1 - np.eye(n))
    share_s = s[None, :] / (s[:, None] + s[None, :])
    share_c = c[None, :] / (c[:, None] + c[None, :])
    p = k * share_s * share_c / k.sum(axis=1, keepdims=True)
    w = np.eye(n) + mu * readiness[0][:, None] * (p - np.diag(p.sum(axis=1)))
    a = np.diag(1 - alpha * c)
    closed_form = np.linalg.solve(np.eye(n) - a @ w, (np.eye(n) - a) @ x0[0])
    np.testing.assert_allclose(x[0], closed_form, atol=1e-10)
    assert np.abs(closed_form - x0[0]).max() > 0.05  # influence really moved people


# --- March 1991: slow socialisation and modest turnover raise the code's knowledge -------

def march_knowledge(p1: float, turnover: float = 0.0, seed: int = 0, n: int = 50,
                    m: int = 30, periods: int = 400) -> float:
    """March's setting: reality is m dimensions of +/-1; people start with random beliefs in
    {-1, 0, 1}, the code at 0; each period people move toward the code (p1, our
    socialisation kernel) while the code learns from the superior group (p2 = 0.5, our code
    kernel); leavers are replaced by newcomers with random beliefs. Knowledge of the code:
    1 - mean |code - reality| / 2, averaged over the last 100 periods (equilibrium)."""
    rng = np.random.default_rng(seed)
    reality = rng.choice([-1.0, 1.0], (1, m))
    beliefs = rng.choice([-1.0, 0.0, 1.0], (1, n, m))
    code = np.zeros((1, m))
    members = np.ones((1, n), dtype=bool)
    knowledge = []
    for _ in range(periods):
        learnt = code_update(code, beliefs, reality, members, rate=0.5)
        beliefs = beliefs + socialisation_pull(beliefs, code[:, None, :], p1, 0.0,
                                               np.zeros((1, n, 1)))
        code = learnt
        leave = rng.random((1, n)) < turnover
        beliefs[leave] = rng.choice([-1.0, 0.0, 1.0], (int(leave.sum()), m))
        knowledge.append(1 - np.abs(code - reality).mean() / 2)
    return float(np.mean(knowledge[-100:]))


def test_march_slow_socialisation_raises_the_codes_equilibrium_knowledge():
    for seed in SEEDS:
        slow, fast = march_knowledge(0.1, seed=seed), march_knowledge(0.9, seed=seed)
        assert slow > fast + 0.03, (slow, fast)


def test_march_modest_turnover_raises_the_codes_equilibrium_knowledge():
    for seed in SEEDS:
        turnover, closed = march_knowledge(0.5, 0.02, seed), march_knowledge(0.5, 0.0, seed)
        assert turnover > closed + 0.05, (turnover, closed)


def test_march_code_ignores_members_who_know_less_than_it():
    code = np.array([[0.5]])
    worse = np.array([[[0.0], [0.1]]])
    unchanged = code_update(code, worse, np.array([[1.0]]), np.ones((1, 2), bool), 0.5)
    assert unchanged.tolist() == [[0.5]]


# --- Deffuant, Amblard, Weisbuch & Faure 2002: confident extremists pull the majority -----

def ra_share_extreme(extremists: float, extremist_u: float, moderate_u: float = 1.4,
                     seed: int = 0, n: int = 100, rounds: int = 1500) -> float:
    """The paper's setting on [-1, 1], mu = 0.2: a share of extremists at -1 and +1 with
    uncertainty ``extremist_u``, the rest uniform with uncertainty ``moderate_u``. Returns the
    share of moderates ending beyond +/-0.8."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (1, n))
    u = np.full((1, n), moderate_u)
    k = int(extremists * n)
    x[0, :k // 2], x[0, k // 2:k], u[0, :k] = -1.0, 1.0, extremist_u
    everyone = np.ones((1, n), dtype=bool)
    for _ in range(rounds):
        i, j, meets = random_pairs(everyone, rng)
        relative_agreement_step(x, u, i, j, meets, rate=0.2)
    return float((np.abs(x[0, k:]) > 0.8).mean())


def test_relative_agreement_confident_extremists_pull_uncertain_moderates_to_the_extremes():
    for seed in SEEDS:
        assert ra_share_extreme(0.2, 0.1, seed=seed) > 0.9


def test_relative_agreement_without_confident_extremists_the_majority_stays_central():
    for seed in SEEDS:
        assert ra_share_extreme(0.2, 1.4, seed=seed) < 0.05  # extremists as unsure as others
        assert ra_share_extreme(0.0, 0.1, seed=seed) < 0.05  # no extremists


def test_relative_agreement_the_certain_party_moves_the_other_more():
    x, u = np.array([[0.0, 0.4]]), np.array([[0.1, 0.6]])
    relative_agreement_step(x, u, np.array([[0]]), np.array([[1]]), np.array([[True]]), 0.5)
    assert 0.4 - x[0, 1] > x[0, 0] - 0.0 >= 0.0
    assert u[0, 1] < 0.6  # the unsure party grows more certain
