"""Mechanism attribution: which mechanisms and inputs produce each comparison (issue 9, part 1).

For every knock-out in ``patterns.yaml`` (``attribution``: one mechanism switched off, or one
sign-setting input set to its neutral value) every scenario is rerun with the knock-out applied
on top of its own overrides, with the same seeds as at the defaults. Each comparison is then
evaluated under each knock-out and classified:

* **guaranteed**: it holds under every knock-out, so no mechanism produces it: it is true by
  construction and is reported as a consistency check, never as validation;
* **parameter-set**: neutralising one input removes it (one input sets its sign);
* **single-mechanism**: the mechanism knock-outs that remove it all belong to one rule (its
  ``family`` in ``patterns.yaml``: a step and the terms inside it, e.g. ties and the meeting
  term of ties);
* **emergent**: knock-outs of two or more rules each remove it (it needs several interacting
  mechanisms) and no single input neutralised removes it;
* **redundant**: no single knock-out removes it, but two mechanisms knocked out together do:
  either mechanism alone produces it, so it is not true by construction.

A comparison no single knock-out removes is rerun with pairs of knock-outs (those of the
``PAIR_CANDIDATES`` that took it closest to its null, i.e. zero or an odds ratio of 1) before
it is called guaranteed; a pair that removes it and includes an input makes it parameter-set
(that input, with one mechanism, sets it). Pairs are not tried for equivalence and small-or-null
comparisons, which a model with the effect removed satisfies.

A knock-out *removes* a comparison when the effect is no longer established: the 95% CI no
longer lies on the predicted side (for the equivalence test: TOST no longer passes; for the
small-or-null ratio: its 95% CI no longer lies inside its range), or, for a comparison with a
null to reach, the CI no longer excludes a negligible effect: a share ``negligible_share`` (10%)
of the defaults' distance from the null (a minimum-effect test, Murphy & Myors 1999). With
common random numbers a knock-out that leaves 1% of an effect can still have a CI above zero;
the effect it leaves is real but is not the effect the comparison is about. A knock-out under
which the statistic cannot be computed (e.g. nobody leaves, so there is no odds ratio of
leaving) is shown as "not measurable" and not counted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from experiments.patterns import evaluate
from experiments.patterns.spec import Comparison, Knockout, PatternSpec, Size
from sim.config import load_config
from sim.ensemble import EnsembleModel
from sim.output import model_fingerprint, write_atomic

SEPARATOR = " ~ "  # scenario label under a knock-out: "<scenario> ~ <knock-out>"
DEFAULTS = "(defaults)"  # the same runs with no knock-out, for the reference row
CLASSES = ("emergent", "redundant", "single-mechanism", "parameter-set", "guaranteed",
           "not produced")
PAIR = "pair"  # the kind of a knock-out row made of two knock-outs together
PAIR_CANDIDATES = 4  # knock-outs combined in pairs for a comparison no single one removes
#: Statistics whose removal means reaching a null; equivalence and small-or-null hold there.
PAIRED_STATISTICS = {"difference": 0.0, "level": 0.0, "windows": 0.0, "smd": 0.0,
                     "odds_ratio": 1.0}


def knockout_scenarios(spec: PatternSpec) -> dict[str, list[str]]:
    """Every scenario under every knock-out: label -> the scenario's overrides + the knock-out's."""
    return {f"{name}{SEPARATOR}{k.name}": [*overrides, *k.overrides]
            for k in spec.knockouts for name, overrides in spec.scenarios.items()}


def _run_task(task: tuple[str, list[str], int, int, int, list[str]]) -> tuple[pd.DataFrame,
                                                                              pd.DataFrame]:
    """All replicates of one scenario under one knock-out, in this process: the run rows and
    the weekly team means of ``metrics``. Replicate r has seed ``root_seed + r`` in every
    scenario and knock-out (common random numbers)."""
    label, overrides, n_teams, replications, root_seed, metrics = task
    logging.getLogger("MESA").setLevel(logging.WARNING)
    params = load_config([f"organisation.n_teams={n_teams}", *overrides])
    # the replicates as one ensemble: each run's tables are those it gives alone
    model = EnsembleModel([params] * replications,
                          [root_seed + r for r in range(replications)]).run()
    runs, weekly = [], []
    for r in range(replications):
        summary, timeseries = model.recorder.results(r)
        runs.append({"scenario": label, "sample": -1, "replicate": r, **summary})
        week = timeseries.groupby("week", as_index=False)[metrics].mean()
        week.insert(0, "replicate", r)
        week.insert(0, "sample", -1)
        week.insert(0, "scenario", label)
        weekly.append(week)
    return pd.DataFrame(runs), pd.concat(weekly, ignore_index=True)


def run_knockouts(spec: PatternSpec, size: Size, workdir: Path, workers: int, root_seed: int,
                  metrics: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every scenario under every knock-out (and once with none), in ``workers`` processes
    (see ``run_tasks``)."""
    tasks = {f"{name}{SEPARATOR}{DEFAULTS}": overrides
             for name, overrides in spec.scenarios.items()} | knockout_scenarios(spec)
    return run_tasks(tasks, size, workdir, workers, root_seed, metrics)


def run_tasks(tasks: dict[str, list[str]], size: Size, workdir: Path, workers: int,
              root_seed: int, metrics: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run each task (label: "<scenario> ~ <knock-out>" -> overrides), in ``workers`` processes.

    Each (scenario, knock-out) task is saved to ``workdir`` as soon as it finishes and skipped
    when the command is run again, so an interrupted attribution loses nothing finished; its
    key includes the model's code (``sim.output.model_fingerprint``), so a task made by other
    code (changed defaults or rules) is run again, never reused. The
    models run in-process (one config composition and one ensemble of the replicates per
    task), not through the sweep engine: the attribution is hundreds of small tasks and the
    engine's per-run overhead dominated.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    code = model_fingerprint()

    def path_of(label: str, overrides: list[str]) -> Path:
        key = json.dumps([label, overrides, size.n_teams, size.attribution_replications,
                          root_seed, metrics, code])
        return workdir / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.pkl"

    todo = [(label, overrides, size.n_teams, size.attribution_replications, root_seed, metrics)
            for label, overrides in tasks.items() if not path_of(label, overrides).exists()]
    with ProcessPoolExecutor(max_workers=max(workers, 1)) as pool:
        for task, result in zip(todo, pool.map(_run_task, todo), strict=True):
            write_atomic(path_of(task[0], task[1]), lambda tmp, res=result: pd.to_pickle(
                res, tmp))
    parts = [pd.read_pickle(path_of(label, overrides)) for label, overrides in tasks.items()]
    return (pd.concat([p[0] for p in parts], ignore_index=True),
            pd.concat([p[1] for p in parts], ignore_index=True))


def split(table: pd.DataFrame, knockout: str) -> pd.DataFrame:
    """The rows of one knock-out, with their scenario labels restored."""
    suffix = f"{SEPARATOR}{knockout}"
    rows = table[table["scenario"].str.endswith(suffix)].copy()
    rows["scenario"] = rows["scenario"].str.slice(0, -len(suffix))
    return rows


def _row(c: Comparison, knockout: Knockout, runs: pd.DataFrame,
         weekly: pd.DataFrame) -> dict[str, object]:
    """One comparison under one knock-out: estimate, 95% CI, and whether the effect is still
    established (NaN: not measurable)."""
    k_runs, k_weekly = split(runs, knockout.name), split(weekly, knockout.name)
    result = evaluate.estimate(c, k_runs, k_weekly)
    measurable = not any(math.isnan(result[v]) for v in ("estimate", "ci_low", "ci_high"))
    return {"id": c.id, "knockout": knockout.name, "kind": knockout.kind,
            "family": knockout.family, "what": knockout.what,
            **{v: result[v] for v in ("estimate", "ci_low", "ci_high")},
            "established": evaluate.established(c, result) if measurable else math.nan}


def knockout_table(spec: PatternSpec, runs: pd.DataFrame, weekly: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison and knock-out, first the same runs with none (``_row``)."""
    none = Knockout(DEFAULTS, "defaults", "every mechanism on, every input at its default", ())
    return apply_minimum_effect(spec, pd.DataFrame([_row(c, k, runs, weekly)
                                                    for k in [none, *spec.knockouts]
                                                    for c in spec.comparisons]))


def effect_left(c: Comparison, rows: pd.DataFrame, column: str = "estimate") -> pd.Series:
    """Per knock-out row of ``c``: its ``column`` (the estimate, or a CI bound) as a distance
    from the null (0, or an odds ratio of 1) and a share of the defaults' estimate's (NaN
    where the statistic has no null to reach)."""
    null = PAIRED_STATISTICS.get(c.statistic)
    default = rows.loc[rows["kind"] == "defaults", "estimate"]
    if null is None or default.empty or not default.iloc[0] - null:
        return pd.Series(math.nan, index=rows.index)
    return (rows[column] - null) / (default.iloc[0] - null)


def apply_minimum_effect(spec: PatternSpec, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with a knock-out's effect no longer established where its 95% CI reaches
    within ``spec.negligible_share`` of the defaults' effect of the null (see the module
    docstring); the defaults' rows and statistics without a null are left as they are."""
    table = table.copy()
    for c in spec.comparisons:
        rows = table[table["id"] == c.id]
        toward_null = "ci_low" if c.statistic == "odds_ratio" or c.direction == "greater" \
            else "ci_high"
        negligible = effect_left(c, rows, toward_null) <= spec.negligible_share
        hit = negligible[negligible & (rows["kind"] != "defaults")
                         & rows["established"].notna()].index
        table.loc[hit, "established"] = False
    return table


def pairs_to_try(spec: PatternSpec, table: pd.DataFrame) -> dict[str, list[Knockout]]:
    """Per comparison that no single knock-out removes (and that has a null to reach): pairs
    of the ``PAIR_CANDIDATES`` knock-outs that left the least of its effect."""
    by_name = {k.name: k for k in spec.knockouts}
    pairs = {}
    for c in spec.comparisons:
        rows = table[table["id"] == c.id]
        if c.statistic not in PAIRED_STATISTICS or classify(rows)["class"] != "guaranteed":
            continue
        single = rows["kind"].isin(["mechanism", "parameter"])
        left = effect_left(c, rows)[single].sort_values(kind="stable")
        closest = rows.loc[left.index, "knockout"].head(PAIR_CANDIDATES)
        pairs[c.id] = [Knockout(f"{a} + {b}", PAIR, f"{by_name[a].what}; and "
                                f"{by_name[b].what}",
                                (*by_name[a].overrides, *by_name[b].overrides))
                       for a, b in itertools.combinations(closest, 2)]
    return pairs


def pair_scenarios(spec: PatternSpec, pairs: dict[str, list[Knockout]]) -> dict[str, list[str]]:
    """Each comparison's own scenarios under each of its pairs: label -> overrides."""
    by_id = {c.id: c for c in spec.comparisons}
    return {f"{name}{SEPARATOR}{k.name}": [*spec.scenarios[name], *k.overrides]
            for cid, knockouts in pairs.items() for k in knockouts
            for name in by_id[cid].scenarios}


def with_pairs(spec: PatternSpec, table: pd.DataFrame, size: Size, workdir: Path, workers: int,
               root_seed: int, metrics: list[str]) -> pd.DataFrame:
    """The knock-out table with a row per comparison and pair of knock-outs it was rerun with
    (``pairs_to_try``; the runs are saved and reused like the single knock-outs')."""
    pairs = pairs_to_try(spec, table)
    if not pairs:
        return table
    runs, weekly = run_tasks(pair_scenarios(spec, pairs), size, workdir, workers, root_seed,
                             metrics)
    by_id = {c.id: c for c in spec.comparisons}
    rows = [_row(by_id[cid], k, runs, weekly) for cid, knockouts in pairs.items()
            for k in knockouts]
    return apply_minimum_effect(spec, pd.concat([table, pd.DataFrame(rows)],
                                                ignore_index=True))


def classify(rows: pd.DataFrame) -> dict[str, object]:
    """The class of one comparison from its knock-out rows (see the module docstring)."""
    defaults = rows[rows["kind"] == "defaults"]
    knocked = rows[(rows["kind"] != "defaults") & rows["established"].notna()]
    removed = knocked[~knocked["established"].astype(bool)]
    by_parameter = removed.loc[removed["kind"] == "parameter", "knockout"].tolist()
    by_mechanism = removed.loc[removed["kind"] == "mechanism", "knockout"].tolist()
    by_pair = removed.loc[removed["kind"] == PAIR, "knockout"].tolist()
    family = removed["family"] if "family" in removed else removed["knockout"]
    rules = set(family[removed["kind"] == "mechanism"])
    kind_of = dict(zip(rows["knockout"], rows["kind"], strict=True))
    pair_of_mechanisms = [p for p in by_pair
                          if all(kind_of.get(k) == "mechanism" for k in p.split(" + "))]
    if not bool(defaults["established"].iloc[0]):
        cls = "not produced"
    elif by_parameter:
        cls = "parameter-set"
    elif len(rules) == 1:
        cls = "single-mechanism"
    elif rules:
        cls = "emergent"
    elif pair_of_mechanisms:
        cls = "redundant"
    elif by_pair:
        cls = "parameter-set"
    else:
        cls = "guaranteed"
    return {"class": cls, "removed_by_mechanisms": ", ".join(by_mechanism),
            "removed_by_parameters": ", ".join(by_parameter),
            "removed_by_pairs": ", ".join(by_pair),
            "knockouts": int((knocked["kind"] != PAIR).sum()),
            "pairs": int((knocked["kind"] == PAIR).sum())}


def classes(spec: PatternSpec, table: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison: its class and what removes it."""
    return pd.DataFrame([{"id": c.id, "title": c.title, **classify(table[table["id"] == c.id])}
                         for c in spec.comparisons])


def write_before(path: Path, found: pd.DataFrame, note: str) -> Path:
    """Save the classes found now (e.g. before a rework) with a note of the model revision."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = f"# {note}\n" + found.to_csv(index=False)
    path.write_text(text, encoding="utf-8")
    return path


def attribute(spec: PatternSpec, size: Size, workdir: Path, workers: int, root_seed: int,
              metrics: list[str]) -> pd.DataFrame:
    """The whole attribution: single knock-outs, then pairs where none removes a comparison."""
    runs, weekly = run_knockouts(spec, size, workdir, workers, root_seed, metrics)
    return with_pairs(spec, knockout_table(spec, runs, weekly), size, workdir, workers,
                      root_seed, metrics)


def at_draw(spec: PatternSpec, draw: pd.Series) -> PatternSpec:
    """The spec with one parameter set (path -> value) added to every scenario's overrides."""
    values = [f"{path}={float(value):.10g}" for path, value in draw.items()]
    return dataclasses.replace(spec, scenarios={name: [*overrides, *values]
                                                for name, overrides in spec.scenarios.items()})


def classes_at_draws(spec: PatternSpec, draws: pd.DataFrame, size: Size, workdir: Path,
                     workers: int, root_seed: int, metrics: list[str]) -> pd.DataFrame:
    """Each comparison's class at each parameter set in ``draws`` (one row per draw and
    comparison: draw, id, class), the attribution rerun in full at each: how far the classes
    depend on where in the calibrated parameters' posterior the model sits."""
    found = []
    for k, draw in draws.iterrows():
        at = at_draw(spec, draw)
        table = attribute(at, size, workdir, workers, root_seed, metrics)
        found.append(classes(at, table)[["id", "class"]].assign(draw=k))
    return pd.concat(found, ignore_index=True)[["draw", "id", "class"]]


def class_shares(spec: PatternSpec, at_draws: pd.DataFrame) -> pd.DataFrame:
    """Per comparison: the share of draws in each class (columns in ``CLASSES`` order)."""
    shares = pd.crosstab(at_draws["id"], at_draws["class"], normalize="index")
    shares = shares.reindex(index=[c.id for c in spec.comparisons], columns=list(CLASSES),
                            fill_value=0.0)
    return shares.rename_axis(index="id", columns=None).reset_index()


def is_validation(c: Comparison, cls: str) -> bool:
    """A comparison counts as validation only if it is not fitted and not true by construction."""
    return c.role == "validation" and cls != "guaranteed"
