"""Random draws for a block of teams that belongs to one run or to several (an ensemble).

Every rule draws through a :class:`TeamDraws`: one ``numpy.random.Generator`` per run, each
drawing for its own run's block of teams (teams are stacked along the first axis, run after
run). Each run's generator is asked for exactly the draws, in exactly the order and shapes,
that the run would ask for if it ran alone, so a run's numbers are the same bit for bit whether
it runs alone or inside an ensemble of any size and in any position (:mod:`sim.ensemble`).

Draws come in two kinds, both in the layout of the team axis:

* full-shape draws (``random``, ``normal``, ``multinomial``): the array's team axis is split
  into the runs' blocks, each run draws its block's shape and the pieces are joined;
* draws for the entries of a mask (``random_for``, ``normal_for``, ``choice_for``), in the
  order of ``np.nonzero(mask)`` (team-major, so each run's entries are contiguous): each run
  draws as many values as its block has entries.

Parameters of a draw (``loc``, ``scale``, ``n``, ``p``) may be per-team arrays where the runs
of an ensemble differ (shape ``(teams, 1)``, :mod:`sim.ensemble`); each run draws with its own
value, the scalar it would have alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def _per_run(value: Any, starts: np.ndarray) -> list[Any]:
    """Each run's scalar of a draw parameter: the scalar itself, or a per-team array's value at
    each run's first team (``starts``)."""
    if np.ndim(value) == 0:
        return [value] * len(starts)
    column = np.asarray(value).reshape(np.shape(value)[0], -1)[:, 0]
    return column[starts].tolist()


class TeamDraws:
    """Draws of one rule family for teams stacked run after run along the first axis."""

    def __init__(self, generators: Sequence[np.random.Generator],
                 teams_per_run: Sequence[int]) -> None:
        if len(generators) != len(teams_per_run):
            raise ValueError("one generator per run")
        self.generators = list(generators)
        self.teams_per_run = [int(n) for n in teams_per_run]
        self.starts = np.concatenate([[0], np.cumsum(self.teams_per_run)]).astype(int)

    @property
    def single(self) -> np.random.Generator | None:
        """The generator when the block is one run (the arrays are exactly that run's)."""
        return self.generators[0] if len(self.generators) == 1 else None

    def _full(self, shape: tuple[int, ...], team_axis: int,
              draw: Callable[[np.random.Generator, tuple[int, ...], int], np.ndarray]
              ) -> np.ndarray:
        """``draw(generator, shape, run)`` for each run's block of teams, joined."""
        if self.single is not None:
            return draw(self.single, shape, 0)
        pieces = []
        for run, gen in enumerate(self.generators):
            block = list(shape)
            block[team_axis] = self.teams_per_run[run]
            pieces.append(draw(gen, tuple(block), run))
        return np.concatenate(pieces, axis=team_axis)

    def random(self, size: int | tuple[int, ...] | None = None,
               team_axis: int = 0) -> np.ndarray | float:
        """Uniform [0, 1) draws of ``size``, whose axis ``team_axis`` runs over the teams."""
        if size is None or np.ndim(size) == 0:
            if self.single is None:
                raise ValueError("a draw without a team axis needs a single run")
            return self.single.random(size)
        return self._full(tuple(size), team_axis, lambda gen, shape, _: gen.random(shape))

    def normal(self, loc: Any, scale: Any, size: tuple[int, ...]) -> np.ndarray:
        """Normal draws of ``size`` (team axis first) with per-run ``loc`` and ``scale``."""
        if self.single is not None:
            return self.single.normal(loc, scale, size)
        locs, scales = _per_run(loc, self.starts[:-1]), _per_run(scale, self.starts[:-1])
        return self._full(tuple(size), 0, lambda gen, shape, run: gen.normal(
            locs[run], scales[run], shape))

    def multinomial(self, n: Any, pvals: np.ndarray) -> np.ndarray:
        """One multinomial draw per team: ``pvals`` is (teams, categories)."""
        if self.single is not None:
            return self.single.multinomial(n, pvals)
        ns = _per_run(n, self.starts[:-1])
        return np.concatenate([gen.multinomial(ns[run], pvals[start:stop]) for run, (gen, start,
                               stop) in enumerate(zip(self.generators, self.starts[:-1],
                                                      self.starts[1:], strict=True))])

    def _for(self, mask: np.ndarray, extra: tuple[int, ...],
             draw: Callable[[np.random.Generator, int, int], np.ndarray]) -> np.ndarray:
        """``draw(generator, n, run)`` for the n entries of each run's block of ``mask``, in
        ``np.nonzero`` order. A run without entries is not asked: a draw of no values would
        not move its generator either."""
        if self.single is not None:
            return draw(self.single, int(mask.sum()), 0)
        per_team = mask.reshape(mask.shape[0], -1).sum(axis=1)
        counts = np.add.reduceat(per_team, self.starts[:-1]) if len(per_team) else []
        pieces = [draw(self.generators[run], int(n), run) for run, n in enumerate(counts) if n]
        return np.concatenate(pieces) if pieces else np.zeros((0, *extra))

    def random_for(self, mask: np.ndarray, extra: tuple[int, ...] = ()) -> np.ndarray:
        """(entries, *extra) uniform draws for the entries of ``mask``."""
        return self._for(mask, extra, lambda gen, n, _: gen.random((n, *extra)))

    def normal_for(self, mask: np.ndarray, loc: Any, scale: Any) -> np.ndarray:
        """Normal draws for the entries of ``mask``, with each run's ``loc`` and ``scale``."""
        if self.single is not None:
            return self.single.normal(loc, scale, int(mask.sum()))
        locs, scales = _per_run(loc, self.starts[:-1]), _per_run(scale, self.starts[:-1])
        return self._for(mask, (), lambda gen, n, run: gen.normal(locs[run], scales[run], n))

    def choice_for(self, mask: np.ndarray, options: int, p: np.ndarray) -> np.ndarray:
        """Indices into ``options`` categories for the entries of ``mask``, with chances
        ``p``: (categories,), or (teams, categories) where runs differ."""
        def draw(gen: np.random.Generator, n: int, run: int) -> np.ndarray:
            return gen.choice(options, size=n, p=p if p.ndim == 1 else p[self.starts[run]])
        return self._for(mask, (), draw).astype(np.int64)


def as_team_draws(rng: np.random.Generator | TeamDraws) -> TeamDraws:
    """Rules take a run's generator (tests, docking) or the model's per-family draws."""
    return rng if isinstance(rng, TeamDraws) else TeamDraws([rng], [0])
