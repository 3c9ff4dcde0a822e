"""The multiverse stage: every pattern comparison under every combination of rival rule forms.

A comparison that holds only under the default forms is a property of one modelling choice;
one that survives the rival forms (ODD 7.3-7.6) is a property of the mechanisms they share.
The stage runs every scenario of ``patterns.yaml`` under each *structure* (one form per
family: ``design: full`` is every combination, ``one_at_a_time`` the defaults plus each rival
form alone) with common random numbers, evaluates every comparison per structure exactly as
at the defaults (``evaluate.evaluate``) and reports, per comparison, the share of structures in
which it passes and holds, and that share for each form of each family.

Sizes and the design are in ``patterns.yaml`` under ``multiverse``. Resumable like the other
sweeps: rerun the command after an interruption.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml
from omegaconf import DictConfig, OmegaConf, open_dict

from experiments.patterns import evaluate
from experiments.patterns.run import METRICS, ROOT_SEED, read, sweep_minutes
from experiments.patterns.spec import SPEC_PATH, PatternSpec
from sim.output import write_text
from sim.params import ConfigError
from sim.rules.boundaries import INFLUENCE_FORMS
from sim.rules.meetings import STATUS_FORMS
from sim.rules.supervision import SOCIALISATION_FORMS
from sim.rules.wellbeing import EXIT_FORMS
from sim.sweep.engine import load_sweep_config, run_sweep

#: Each family with a rival form: its config key and its forms, the default first.
FAMILIES = {"status": ("meetings.status_form", STATUS_FORMS),
            "influence": ("boundaries.influence_form", INFLUENCE_FORMS),
            "socialisation": ("supervision.socialisation_form", SOCIALISATION_FORMS),
            "exit": ("wellbeing.exit_form", EXIT_FORMS)}
DESIGNS = ("full", "one_at_a_time")


@dataclass(frozen=True)
class MultiverseSize:
    replications: int
    n_teams: int


@dataclass(frozen=True)
class MultiverseSpec:
    design: str
    sizes: dict[str, MultiverseSize]


def load_multiverse(path: Path = SPEC_PATH) -> MultiverseSpec:
    """The ``multiverse`` block of ``patterns.yaml`` (raises ``ConfigError`` if it is bad)."""
    raw = yaml.safe_load(path.read_text()).get("multiverse") or {}
    design = raw.get("design", "full")
    if design not in DESIGNS:
        raise ConfigError("multiverse.design", design, "one of " + ", ".join(DESIGNS))
    try:
        sizes = {name: MultiverseSize(**size) for name, size in raw.get("sizes", {}).items()}
    except TypeError as err:
        raise ConfigError("multiverse.sizes", raw.get("sizes"), str(err)) from None
    return MultiverseSpec(design, sizes)


def size_of(mspec: MultiverseSpec, name: str) -> MultiverseSize:
    if name not in mspec.sizes:
        raise ConfigError("multiverse.sizes", name, "one of " + ", ".join(mspec.sizes))
    return mspec.sizes[name]


def structures(design: str) -> list[dict[str, str]]:
    """One dict (family -> form) per structure; the first is the default forms."""
    if design == "one_at_a_time":
        default = {family: forms[0] for family, (_, forms) in FAMILIES.items()}
        return [default] + [{**default, family: form} for family, (_, forms) in
                            FAMILIES.items() for form in forms[1:]]
    return [dict(zip(FAMILIES, combo, strict=True)) for combo in
            itertools.product(*(forms for _, forms in FAMILIES.values()))]


def overrides(structure: dict[str, str]) -> list[str]:
    return [f"{FAMILIES[family][0]}={form}" for family, form in structure.items()]


def sweep_config(spec: PatternSpec, design: str, size: MultiverseSize, workdir: Path,
                 backend: str, workers: int) -> DictConfig:
    """The engine config: every pattern scenario at every structure (a design point whose
    factors are the forms' config keys), common random numbers across all of them."""
    cfg = load_sweep_config([f"sweep.backend={backend}", f"sweep.workers={workers}",
                             "sweep.analyse=false", f"sweep.output_dir={workdir}"])
    if design == "full":
        factors = [{"name": key, "levels": list(forms)} for key, forms in FAMILIES.values()]
        points: dict[str, str] = {"kind": "factorial"}
    else:  # explicit points, in the order of ``structures``
        table = pd.DataFrame([{FAMILIES[family][0]: form for family, form in s.items()}
                              for s in structures(design)])
        csv = workdir.parent / f"{workdir.name}_structures.csv"
        write_text(csv, table.to_csv(index=False))
        factors, points = [], {"kind": "csv", "csv": str(csv)}
    experiment = {
        "name": "patterns_multiverse", "description": "pattern comparisons under every "
        "combination of rival rule forms (experiments/patterns/multiverse.py)",
        "base": [f"organisation.n_teams={size.n_teams}"], "scenarios": spec.scenarios,
        "replications": size.replications, "root_seed": ROOT_SEED, "metrics": METRICS,
        "record_interval_weeks": 1, "factors": factors, "design": points}
    with open_dict(cfg):  # scenario labels are new keys of a typed dict
        cfg.experiment = OmegaConf.merge(cfg.experiment, experiment)
    return cfg


def _structure(runs: pd.DataFrame, weekly: pd.DataFrame, k: int) -> tuple[pd.DataFrame, ...]:
    """The runs and weekly rows of structure k (design point k)."""
    mine = runs[runs["design_point"] == k]
    return mine, weekly[weekly["run_id"].isin(mine["run_id"])]


def evaluate_structures(spec: PatternSpec, design: str, runs: pd.DataFrame,
                        weekly: pd.DataFrame) -> pd.DataFrame:
    """One row per structure and comparison: the forms, estimate, 95% CI, passes, holds."""
    rows = []
    for k, structure in enumerate(structures(design)):
        results = evaluate.evaluate(spec.comparisons, *_structure(runs, weekly, k))
        for row in results.to_dict("records"):
            rows.append({"structure": k, **structure, **row})
    return pd.DataFrame(rows)


def survival(spec: PatternSpec, table: pd.DataFrame) -> pd.DataFrame:
    """Per comparison: share of structures passing and holding, overall and by each form."""
    rows = []
    for c in spec.comparisons:
        mine = table[table["id"] == c.id]
        row = {"id": c.id, "comparison": c.title, "structures": len(mine),
               "share_passing": mine["passes"].mean(), "share_holding": mine["holds"].mean(),
               "estimate_min": mine["estimate"].min(), "estimate_max": mine["estimate"].max()}
        for family, (_, forms) in FAMILIES.items():
            for form in forms:
                chosen = mine[mine[family] == form]
                row[f"{family}={form}"] = chosen["passes"].mean() if len(chosen) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _pct(value: float) -> str:
    return "n/a" if isinstance(value, float) and math.isnan(value) else f"{value:.0%}"


def _mark(row: pd.Series) -> str:
    return "pass" if row["passes"] else ("sign" if row["holds"] else "FAIL")


def markdown(spec: PatternSpec, table: pd.DataFrame, shares: pd.DataFrame, note: str) -> str:
    """The report's multiverse section: survival by comparison and form, then every cell."""
    form_cols = [f"{family}={form}" for family, (_, forms) in FAMILIES.items() for form in forms]
    n_structures = table["structure"].nunique()
    robust = shares[shares["share_passing"] == 1.0]["id"].tolist()
    fragile = shares[shares["share_holding"] < 0.5]["id"].tolist()
    lines = [
        "## Multiverse: comparisons under rival rule forms", "", note, "",
        "Each structure picks one form per family (ODD 7.3-7.6): status "
        "(`meetings.status_form`), everyday influence (`boundaries.influence_form`), "
        "socialisation (`supervision.socialisation_form`) and the exit hazard "
        "(`wellbeing.exit_form`); structure 0 is the default forms. *Passing*: the 95% CI on "
        "the predicted side (and the size within the evidence's, where given), as at the "
        "defaults; *holding*: the estimate has the predicted sign and size. Columns "
        "`family=form`: share of the structures with that form in which the comparison "
        "passes.", "",
        f"Passes in all {n_structures} structures: {', '.join(robust) or 'none'}. "
        f"Holds in fewer than half: {', '.join(fragile) or 'none'}.", "",
        "| id | comparison | passing | holding | estimates | " + " | ".join(form_cols) + " |",
        "|" + "---|" * (5 + len(form_cols))]
    for row in shares.to_dict("records"):
        lines.append(f"| {row['id']} | {row['comparison']} | {_pct(row['share_passing'])} | "
                     f"{_pct(row['share_holding'])} | {row['estimate_min']:.3f} to "
                     f"{row['estimate_max']:.3f} | "
                     + " | ".join(_pct(row[c]) for c in form_cols) + " |")
    ids = [c.id for c in spec.comparisons]
    lines += ["", "Every structure (pass: CI on the predicted side; sign: predicted sign, CI "
              "not clear of zero; FAIL: wrong sign or size):", "",
              "| # | " + " | ".join(FAMILIES) + " | " + " | ".join(ids) + " |",
              "|" + "---|" * (1 + len(FAMILIES) + len(ids))]
    for k, group in table.groupby("structure"):
        first = group.iloc[0]
        cells = group.set_index("id").loc[ids].apply(_mark, axis=1)
        lines.append(f"| {k} | " + " | ".join(str(first[f]) for f in FAMILIES) + " | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def stage(spec: PatternSpec, size_name: str, workdir: Path, out: Path, backend: str,
          workers: int) -> str:
    """Run (or resume) the multiverse sweep, write ``multiverse.csv``,
    ``multiverse_survival.csv`` and ``multiverse.md`` into ``out``; return the section."""
    mspec = load_multiverse()
    size = size_of(mspec, size_name)
    folder = workdir / "patterns_multiverse"
    run_sweep(sweep_config(spec, mspec.design, size, folder, backend, workers))
    runs, weekly = read(folder, robustness=False)
    table = evaluate_structures(spec, mspec.design, runs, weekly)
    shares = survival(spec, table)
    n = len(structures(mspec.design))
    note = (f"Size '{size_name}': design `{mspec.design}`, {n} structures x "
            f"{len(spec.scenarios)} scenarios x {size.replications} replications, "
            f"{size.n_teams} teams x 156 weeks per run; {backend} backend, {workers} workers; "
            f"{sweep_minutes(folder):.1f} min of simulation over all attempts.")
    section = markdown(spec, table, shares, note)
    write_text(out / "multiverse.csv", table.to_csv(index=False))
    write_text(out / "multiverse_survival.csv", shares.to_csv(index=False))
    write_text(out / "multiverse.md", "# Pattern comparisons under rival rule forms\n\n"
               + section.split("\n", 2)[2])
    return section
