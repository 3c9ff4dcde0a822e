"""Ensembles: many runs executed as one array program, each run's numbers as if run alone.

The model's state is already laid out per team, and no rule couples teams (ODD section 3), so
runs can be stacked along the team axis: an :class:`EnsembleModel` of R runs holds their teams
run after run and steps them together, paying the fixed cost of a week's few hundred numpy
calls once for all R runs instead of once per run. What keeps each run's numbers exactly those
of its lone run (``PeerWorkModel(params, seed)``), bit for bit:

* random numbers: every run keeps its own streams, spawned from its own seed, and each draw is
  made run by run in the lone run's shapes and order (:class:`sim.streams.TeamDraws`);
* parameters: a number parameter on which the runs agree stays a scalar; where they differ it
  becomes a (teams, 1) array holding each run's value for its teams (:func:`stack_params`),
  which the rules broadcast as they would the scalar (``sim.params.for_entries``,
  ``as_team_axis``);
* identity: people get the ids their lone run's Mesa agents would have (counted from 1 per
  run, staff in post first, then service users, then each later hire), without creating a Mesa
  agent per person;
* tables: the recorder reads each run's teams back as that run's tables (``run=r``).

Structural choices (rule forms, switches, team make-up, horizon, anything that is not a number
parameter: see :func:`structure_key`) decide which code runs, so only runs with equal structure
share an ensemble; the experiment engine groups the runs of a chunk by this key
(``sim.sweep.runner``). ``tests/test_ensemble.py`` runs mixed ensembles (every number parameter
different, different seeds and team counts) against each run alone and compares every table.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Sequence
from functools import cache
from typing import Any

import mesa
import numpy as np

from sim.config import SimConfig
from sim.model import PeerWorkModel

#: Fields that may differ between the runs of one ensemble although they are not numbers: the
#: seed (each run has its own streams), the label, and the number of teams (runs are blocks).
PER_RUN_FIELDS = {("seed",), ("scenario_name",), ("organisation", "n_teams")}


@cache
def number_fields(cls: type) -> dict[str, str]:
    """Fields of a params dataclass that hold numbers: 'float' or 'table' (dict of floats)."""
    hints = typing.get_type_hints(cls)
    kinds = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if hint is float:
            kinds[f.name] = "float"
        elif typing.get_origin(hint) is dict and typing.get_args(hint)[1:] == (float,):
            kinds[f.name] = "table"
    return kinds


def _walk(config: Any, path: tuple[str, ...] = ()) -> Any:
    """The structure of a config: every field that is not a number, nested."""
    out = {}
    numbers = number_fields(type(config))
    for f in dataclasses.fields(config):
        key = path + (f.name,)
        value = getattr(config, f.name)
        if key in PER_RUN_FIELDS:
            continue
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out[f.name] = _walk(value, key)
        elif numbers.get(f.name) == "table":
            out[f.name] = sorted(value)  # the keys are structure, the values numbers
        elif f.name not in numbers:
            out[f.name] = value if not isinstance(value, list) else [
                dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v for v in value]
    return out


def structure_key(config: SimConfig) -> str:
    """What must be equal for runs to share an ensemble: every field that is not a number
    parameter (rule forms, switches, team make-up, horizon, recording intervals), as JSON."""
    return json.dumps(_walk(config), sort_keys=True, default=str)


def _stack_values(values: list[Any], teams_per_run: Sequence[int]) -> Any:
    first = values[0]
    if all(type(v) is type(first) and v == first for v in values):
        return first
    return np.repeat(np.array(values, dtype=float), teams_per_run)[:, None]


def _stack(configs: list[Any], teams_per_run: Sequence[int]) -> Any:
    first = configs[0]
    numbers = number_fields(type(first))
    changes = {}
    for f in dataclasses.fields(first):
        values = [getattr(c, f.name) for c in configs]
        if dataclasses.is_dataclass(values[0]) and not isinstance(values[0], type):
            changes[f.name] = _stack(values, teams_per_run)
        elif numbers.get(f.name) == "float":
            changes[f.name] = _stack_values(values, teams_per_run)
        elif numbers.get(f.name) == "table":
            changes[f.name] = {key: _stack_values([v[key] for v in values], teams_per_run)
                               for key in values[0]}
    return dataclasses.replace(first, **changes)


def stack_params(configs: Sequence[SimConfig]) -> SimConfig:
    """One config for the stacked teams of ``configs`` (all of one :func:`structure_key`):
    numbers on which the runs agree as they are, the others as (teams, 1) arrays."""
    keys = {structure_key(c) for c in configs}
    if len(keys) != 1:
        raise ValueError("an ensemble needs runs of equal structure (sim.ensemble."
                         "structure_key); group the runs first")
    teams = [c.organisation.n_teams for c in configs]
    stacked = _stack(list(configs), teams)
    stacked.organisation = dataclasses.replace(stacked.organisation, n_teams=sum(teams))
    return stacked


class EnsembleModel(PeerWorkModel):
    """Several runs of equal structure stepped together; the recorder's tables of run r
    (``recorder.results(r)``, ``recorder.agents(r)``, ...) equal those of
    ``PeerWorkModel(configs[r], seeds[r])``.

    People are not Mesa agents here (``model.agents`` is empty); their identity lives in the
    arrays (``workforce.agent_id``), numbered as their lone run's agents would be.
    """

    def __init__(self, configs: Sequence[SimConfig], seeds: Sequence[int] | None = None) -> None:
        if not configs:
            raise ValueError("an ensemble needs at least one run")
        seeds = [c.seed for c in configs] if seeds is None else list(seeds)
        if len(seeds) != len(configs):
            raise ValueError("one seed per run")
        mesa.Model.__init__(self, rng=np.random.default_rng(seeds[0]))
        self.seed_values = seeds
        self._next_id = np.ones(len(configs), dtype=np.int64)  # Mesa counts from 1 per model
        self._build(stack_params(configs), [dataclasses.replace(c, seed=s) for c, s in
                                            zip(configs, seeds, strict=True)],
                    [np.random.SeedSequence(s) for s in seeds])

    @property
    def n_runs(self) -> int:
        return len(self.run_params)

    def _run_of_team(self, teams: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.run_starts, teams, side="right") - 1

    def _give_identity(self, mask: np.ndarray) -> None:
        """Ids in ``np.nonzero`` order within each run, continuing that run's count."""
        teams, slots = np.nonzero(mask)
        run = self._run_of_team(teams)
        counts = np.bincount(run, minlength=self.n_runs)
        first_of_run = np.cumsum(counts) - counts
        rank = np.arange(len(teams)) - first_of_run[run]
        self.workforce.agent_id[teams, slots] = self._next_id[run] + rank
        self._next_id += counts

    def _give_users_identity(self) -> None:
        self._next_id += np.asarray(self.teams_per_run) * self.caseload.size

    def _remove_identity(self, leavers: np.ndarray) -> None:
        """Nothing to remove: a leaver's id goes with their slot's reset."""
