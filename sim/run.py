"""Run one simulation from Hydra config: ``python -m sim.run [overrides]``.

Examples::

    python -m sim.run                                  # the default scenario
    python -m sim.run scenario=london seed=7           # a study case, another seed
    python -m sim.run recruitment=informal organisation.n_teams=20
    python -m sim.run --cfg job                        # print the composed config

The config is composed and validated before Hydra creates an output folder, so a bad key,
type or value stops with one message and leaves nothing behind. Outputs (in Hydra's run
folder): ``timeseries.parquet`` (team x week), ``agents.parquet`` (per-person snapshots),
``service_users.parquet`` (final state), ``leavers.parquet`` (state of each person in the
week they left), ``summary.csv``, ``dashboard.png``, ``config.yaml``,
``manifest.json`` (written last).
"""

from __future__ import annotations

import itertools
import logging
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import hydra
import pandas as pd
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from sim import plots
from sim.config import CONF_DIR, SimConfig, load_config, to_params
from sim.model import PeerWorkModel
from sim.output import check_writable, write_manifest, write_parquet, write_text
from sim.params import ConfigError

#: Outcomes shown in the printed summary.
SHOWN = ("distinctiveness", "expectation_gap", "pw_role_ambiguity", "consensus", "status_gap",
         "pw_integration", "pw_confidence", "pw_strain", "staff_strain", "pw_valued_by_staff",
         "pw_valued_by_users", "user_recovery")


def users_table(model: PeerWorkModel) -> pd.DataFrame:
    cl = model.caseload
    team, user = divmod(pd.RangeIndex(cl.recovery.size).to_numpy(), cl.size)
    return pd.DataFrame({"team": team, "user": user,
                         "agent_id": [a.unique_id for a in model.users],
                         "peer_slot": cl.peer_slot.ravel(), "recovery": cl.recovery.ravel(),
                         "baseline_recovery": cl.baseline_recovery.ravel(),
                         "relationship": cl.relationship.ravel(),
                         "valuation": cl.valuation.ravel(), "admissions": cl.admissions.ravel()})


def simulate(params: SimConfig, out_dir: Path, config_yaml: str) -> dict[str, float]:
    """Run the model and write every output file; return the summary row."""
    started = datetime.now(UTC)
    clock = time.perf_counter()
    model = PeerWorkModel(params).run()
    run_seconds = time.perf_counter() - clock
    summary = {"scenario": params.scenario_name, "seed": params.seed,
               **model.recorder.summary()}
    timeseries = model.recorder.timeseries()
    files = [
        write_parquet(out_dir / "timeseries.parquet", timeseries),
        write_parquet(out_dir / "agents.parquet", model.recorder.agents()),
        write_parquet(out_dir / "leavers.parquet", model.recorder.leavers()),
        write_parquet(out_dir / "service_users.parquet", users_table(model)),
        write_text(out_dir / "summary.csv", pd.DataFrame([summary]).to_csv(index=False)),
        write_text(out_dir / "config.yaml", config_yaml),
    ]
    if params.output.dashboard:
        files.append(plots.dashboard(timeseries, out_dir / "dashboard.png",
                                     params.scenario_name))
    write_manifest(out_dir, files, seed=params.seed, scenario=params.scenario_name,
                   started=started.isoformat(), run_seconds=round(run_seconds, 4),
                   finished=datetime.now(UTC).isoformat())
    return summary


def format_summary(summary: dict[str, float]) -> str:
    rows = [(name, summary[f"{name}_final"], summary[f"{name}_mean"]) for name in SHOWN]
    rows.append(("pw_turnover_per_year", summary["pw_turnover_per_year"], float("nan")))
    table = pd.DataFrame(rows, columns=["outcome", "final week", "run mean"]).set_index("outcome")
    return table.to_string(float_format=lambda x: f"{x:.3f}")


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def hydra_main(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    params = to_params(cfg)
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        summary = simulate(params, out_dir, OmegaConf.to_yaml(cfg, resolve=True))
    except KeyboardInterrupt:
        # a folder without its manifest is half-written: remove it rather than leave it
        shutil.rmtree(out_dir, ignore_errors=True)
        print(f"interrupted: nothing saved ({out_dir} removed)", file=sys.stderr)
        raise SystemExit(130) from None
    except OSError as err:
        shutil.rmtree(out_dir, ignore_errors=True)
        print(f"error: cannot write {err.filename or out_dir}: {err.strerror}; nothing saved",
              file=sys.stderr)
        raise SystemExit(2) from None
    if params.output.print_summary:
        print(f"scenario {params.scenario_name}, seed {params.seed}: "
              f"{params.organisation.n_teams} teams x {params.organisation.horizon_weeks} weeks")
        print(format_summary(summary))
        print(f"outputs: {out_dir}")


def job_overrides(overrides: list[str]) -> list[list[str]]:
    """The overrides of every job of a multirun (``-m seed=1,2 team=small,default``), as
    Hydra's basic sweeper expands them."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as err:
        raise ConfigError("overrides", overrides, str(err).splitlines()[0]) from None
    choices = [[f"{o.get_key_element()}={value}" for value in o.sweep_string_iterator()]
               if o.is_sweep_override() else [o.input_line] for o in parsed]
    return [list(job) for job in itertools.product(*choices)]


def check_overrides(overrides: list[str], multirun: bool) -> None:
    """Every job's config is valid and its output folder can be written (``ConfigError``)."""
    for job in job_overrides(overrides) if multirun else [overrides]:
        load_config(job)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        hydra_cfg = compose(config_name="config", overrides=overrides if not multirun else
                            job_overrides(overrides)[0], return_hydra_config=True).hydra
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    check_writable(Path(hydra_cfg.sweep.dir if multirun else hydra_cfg.run.dir), key)


def main(argv: list[str] | None = None) -> None:
    """Validate the overrides first (no folder is created for a bad config, or when the folder
    cannot be written), then run Hydra; with ``-m``, every job's overrides."""
    args = list(sys.argv[1:] if argv is None else argv)
    overrides = [a for a in args if "=" in a and not a.startswith("-")]
    if not any(a in ("--help", "-h", "--hydra-help", "--info") or a.startswith("--info")
               for a in args):
        try:
            check_overrides(overrides, multirun=any(a in ("-m", "--multirun") for a in args))
        except ConfigError as err:
            print(f"error: {err}", file=sys.stderr)
            raise SystemExit(2) from None
    sys.argv = [sys.argv[0], *args]
    hydra_main()


if __name__ == "__main__":
    main()
