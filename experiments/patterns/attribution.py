"""Mechanism attribution: which mechanisms and inputs produce each comparison (issue 9, part 1).

For every knock-out in ``patterns.yaml`` (``attribution``: one mechanism switched off, or one
sign-setting input set to its neutral value) every scenario is rerun with the knock-out applied
on top of its own overrides, with the same seeds as at the defaults. Each comparison is then
evaluated under each knock-out and classified:

* **guaranteed**: it holds under every knock-out, so no mechanism produces it: it is true by
  construction and is reported as a consistency check, never as validation;
* **parameter-set**: neutralising one input removes it (one input sets its sign);
* **single-mechanism**: exactly one mechanism knock-out removes it;
* **emergent**: two or more mechanism knock-outs each remove it (it needs several interacting
  mechanisms) and no single input neutralised removes it.

A knock-out *removes* a comparison when the effect is no longer established: the 95% CI no
longer lies on the predicted side (for the equivalence test: TOST no longer passes; for the
small-or-null ratio: the estimate leaves its range). A knock-out under which the statistic
cannot be computed (e.g. nobody leaves, so there is no odds ratio of leaving) is shown as
"not measurable" and not counted.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from experiments.patterns import evaluate
from experiments.patterns.spec import Comparison, PatternSpec

SEPARATOR = " ~ "  # scenario label under a knock-out: "<scenario> ~ <knock-out>"
CLASSES = ("emergent", "single-mechanism", "parameter-set", "guaranteed", "not produced")


def knockout_scenarios(spec: PatternSpec) -> dict[str, list[str]]:
    """Every scenario under every knock-out: label -> the scenario's overrides + the knock-out's."""
    return {f"{name}{SEPARATOR}{k.name}": [*overrides, *k.overrides]
            for k in spec.knockouts for name, overrides in spec.scenarios.items()}


def split(table: pd.DataFrame, knockout: str) -> pd.DataFrame:
    """The rows of one knock-out, with their scenario labels restored."""
    suffix = f"{SEPARATOR}{knockout}"
    rows = table[table["scenario"].str.endswith(suffix)].copy()
    rows["scenario"] = rows["scenario"].str.slice(0, -len(suffix))
    return rows


def knockout_table(spec: PatternSpec, runs: pd.DataFrame, weekly: pd.DataFrame,
                   at_defaults: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison and knock-out (plus the defaults): estimate, CI, established."""
    rows = []
    for c in spec.comparisons:
        r = at_defaults.set_index("id").loc[c.id]
        rows.append({"id": c.id, "knockout": "(defaults)", "kind": "defaults",
                     "what": "every mechanism on, every input at its default",
                     "estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "established": evaluate.established(c, r.to_dict())})
    for k in spec.knockouts:
        k_runs, k_weekly = split(runs, k.name), split(weekly, k.name)
        for c in spec.comparisons:
            result = evaluate.estimate(c, k_runs, k_weekly)
            measurable = not any(math.isnan(result[v]) for v in ("estimate", "ci_low", "ci_high"))
            rows.append({"id": c.id, "knockout": k.name, "kind": k.kind, "what": k.what,
                         **{v: result[v] for v in ("estimate", "ci_low", "ci_high")},
                         "established": evaluate.established(c, result) if measurable
                         else math.nan})
    return pd.DataFrame(rows)


def classify(rows: pd.DataFrame) -> dict[str, object]:
    """The class of one comparison from its knock-out rows (see the module docstring)."""
    defaults = rows[rows["kind"] == "defaults"]
    knocked = rows[(rows["kind"] != "defaults") & rows["established"].notna()]
    removed = knocked[~knocked["established"].astype(bool)]
    by_parameter = removed.loc[removed["kind"] == "parameter", "knockout"].tolist()
    by_mechanism = removed.loc[removed["kind"] == "mechanism", "knockout"].tolist()
    if not bool(defaults["established"].iloc[0]):
        cls = "not produced"
    elif removed.empty:
        cls = "guaranteed"
    elif by_parameter:
        cls = "parameter-set"
    elif len(by_mechanism) == 1:
        cls = "single-mechanism"
    else:
        cls = "emergent"
    return {"class": cls, "removed_by_mechanisms": ", ".join(by_mechanism),
            "removed_by_parameters": ", ".join(by_parameter),
            "knockouts": int(len(knocked))}


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


def is_validation(c: Comparison, cls: str) -> bool:
    """A comparison counts as validation only if it is not fitted and not true by construction."""
    return c.role == "validation" and cls != "guaranteed"
