"""Malformed inputs to every entry point get exit 2, one line naming the key or file, no
traceback and nothing left behind (property-based: hypothesis generates the inputs).

Entry points are called in-process (``main(argv)``). Each example is classified (tracebacks,
partial outputs, unclear messages, bad inputs accepted) and the counts are printed at the end
of the module (``pytest -s``) as well as asserted to be zero.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sim import analysis as _analysis  # noqa: F401  (sim.analysis.__main__ below)
from sim import compare, discover, run, sensitivity
from sim.analysis import __main__ as analyse
from sim.sweep import __main__ as sweep

COUNTS: Counter[str] = Counter()
FUZZ = settings(max_examples=10, deadline=None, derandomize=True, phases=[Phase.generate],
                suppress_health_check=[HealthCheck.too_slow])
#: A tiny experiment, so that an input wrongly accepted costs little.
TINY = ["+experiment=recruitment_by_supervision", "experiment.replications=1",
        "experiment.base=['organisation.n_teams=2','organisation.horizon_weeks=5']",
        "experiment.analysis.outcomes=[]", "experiment.analysis.reference=null",
        "sweep.analyse=false", "sweep.progress=none"]


def call(entry: Callable[[list[str]], int | None], argv: list[str]) -> tuple[object, str]:
    """Exit status and stderr of ``entry(argv)``; an escaped exception is a traceback."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = entry(argv)
    except SystemExit as stop:
        status = stop.code
    except Exception as escaped:  # noqa: BLE001  (counted and reported as a traceback)
        status, err = "traceback", io.StringIO(f"Traceback: {escaped!r}")
    return status, err.getvalue().strip()


def check(entry: Callable[[list[str]], int | None], argv: list[str], names: list[str],
          folder: Path, before: set[Path]) -> None:
    """Classify one example, then assert it was refused cleanly."""
    status, message = call(entry, argv)
    # the empty .lock of an existing experiment folder is the lock, not an output
    left = {p for p in folder.rglob("*") if p.name != ".lock"} - before
    COUNTS["tried"] += 1
    outcome = ("traceback" if status == "traceback" or "Traceback" in message else
               "accepted" if status == 0 else
               "partial output" if left else
               "unclear" if status != 2 or len(message.splitlines()) != 1
               or not any(name in message for name in names) else "clear")
    COUNTS[outcome] += 1
    assert outcome == "clear", (argv, status, message, sorted(left))


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    print("\nfuzz counts: " + ", ".join(f"{k} {COUNTS[k]}" for k in (
        "tried", "traceback", "partial output", "unclear", "accepted", "clear")))


@contextlib.contextmanager
def workdir():
    """A fresh folder, also the working directory (sim.run writes outputs/ there)."""
    with tempfile.TemporaryDirectory() as name:
        here = os.getcwd()
        os.chdir(name)
        try:
            yield Path(name)
        finally:
            os.chdir(here)


BOOL_KEYS = ["context.peer_network", "output.dashboard", "schedule.meeting_status"]
NUMBER_KEYS = ["team.caseload", "organisation.n_teams", "organisation.horizon_weeks", "seed"]
TABLE_KEYS = ["supervision.support", "context.staff_practice", "team.external_status"]
not_bool = st.one_of(st.integers(), st.sampled_from(["yes", "no", "1", "0", "on", "2.5"]))
bad_number = st.one_of(st.integers(max_value=-1), st.integers(min_value=10**7),
                       st.sampled_from(["nan", "abc", "-inf", "${oc.env:PWSIM_NOPE}"]))
unknown = st.from_regex(r"[a-z]{3,8}_x", fullmatch=True)


@FUZZ
@given(st.one_of(
    st.tuples(st.sampled_from(BOOL_KEYS), not_bool),
    st.tuples(st.sampled_from(NUMBER_KEYS), bad_number),
    st.tuples(st.builds(lambda key, name: f"+{key}.{name}", st.sampled_from(TABLE_KEYS),
                        unknown), st.just("0.5")),
    st.tuples(st.builds(lambda name: f"+team.{name}", unknown), st.just("1")),
    st.tuples(st.just("meetings.meeting_days"), st.just("[]")),
    st.tuples(st.sampled_from([*TABLE_KEYS, "team.profession_mix"]), st.just("{}"))))
def test_run_refuses_bad_overrides(override):
    key, value = override
    with workdir() as folder:
        check(run.main, [f"{key}={value}"], [key.lstrip("+")], folder, set())


@FUZZ
@given(st.tuples(st.sampled_from(NUMBER_KEYS), bad_number.filter(lambda v: "$" not in str(v))))
def test_run_multirun_refuses_a_bad_job(override):
    """``-m key=good,bad``: every job is checked before the first runs."""
    key, value = override
    with workdir() as folder:
        check(run.main, ["-m", f"{key}=3,{value}"], [key], folder, set())


SWEEP_BAD = st.one_of(
    st.tuples(st.just("sweep.run_timeout_s"), st.sampled_from(["-1", "nan", "inf", "-0.5"])),
    st.tuples(st.sampled_from(["sweep.workers", "sweep.max_runs"]),
              st.integers(max_value=0).map(str)),
    st.tuples(st.just("experiment.analysis.ci_half_width"),
              st.one_of(st.floats(max_value=0).map(str), st.just("nan"))),
    st.tuples(st.just("experiment.replications"),
              st.integers(min_value=10**6, max_value=10**12).map(str)),
    st.tuples(st.just("experiment.factors"),
              st.sampled_from(["[{name: team.caseload, range: [0, 1000]}]",
                               "[{name: team.caseload, range: [5, 5000]}]",
                               "[{name: team.nope_x, levels: [1]}]",
                               "[{name: team.caseload, levels: [abc]}]"])),
    st.tuples(st.builds(lambda name: f"+experiment.{name}", unknown), st.just("1")),
    st.tuples(st.just("experiment.base"), st.sampled_from(
        ["['context.peer_network=2']", "['meetings.meeting_days=[]']",
         "['+supervision.support.nope_x=1']", "['seed=${oc.env:PWSIM_NOPE}']"])))


@FUZZ
@given(SWEEP_BAD)
def test_sweep_refuses_bad_settings(override):
    key, value = override
    with workdir() as folder:
        out = folder / "out"
        argv = [*TINY, f"{key}={value}", f"sweep.output_dir={out}"]
        if key == "experiment.factors" and "range" in value:
            argv += ["experiment.design.kind=lhs", "experiment.design.samples=2"]
        names = [key.lstrip("+"), "experiment.base/", "context.peer_network",
                 "meetings.meeting_days", "supervision.support", "seed", "team.caseload="]
        check(sweep.main, argv, names, folder, set())
        assert not out.exists()


CSV_BAD = st.one_of(
    st.binary(min_size=0, max_size=200).filter(lambda b: b"," not in b or b"\x00" in b),
    st.just(b""),
    st.just(b"team.caseload\n"),  # header only
    st.lists(st.lists(st.integers(1, 40).map(str), min_size=1, max_size=4), min_size=2,
             max_size=5).filter(lambda rows: len({len(r) for r in rows}) > 1)
    .map(lambda rows: ("team.caseload,team.size\n" + "\n".join(",".join(r) for r in rows))
         .encode()))


@FUZZ
@given(CSV_BAD)
def test_sweep_refuses_bad_csv_designs(content):
    with workdir() as folder:
        design = folder / "design.csv"
        design.write_bytes(content)
        out = folder / "out"
        argv = [*TINY, "experiment.design.kind=csv", f"experiment.design.csv={design}",
                "experiment.factors=[]", f"sweep.output_dir={out}"]
        check(sweep.main, argv, ["experiment.design.csv", "experiment.factors"], folder,
              {design})
        assert not out.exists()


#: YAML that does not parse, or a key given twice (YAML would keep the last silently).
YAML_BAD = st.one_of(
    st.from_regex(r"[a-z]{3,8}", fullmatch=True).map(lambda key: f"{key}: 1\n{key}: 2\n"),
    st.sampled_from(["name: [unclosed\n", "a: b: c\n", "{\n", "- a\nb: 1\n",
                     "a:\n\tb: 1\n", "a: 1\n  b: 2\n"]))


@FUZZ
@given(YAML_BAD)
def test_sweep_refuses_malformed_experiment_files(text):
    with workdir() as folder:
        path = folder / "conf" / "experiment" / "mine.yaml"
        path.parent.mkdir(parents=True)
        path.write_text("# @package _global_\n" + text)
        out = folder / "out"
        argv = ["+experiment=mine", f"hydra.searchpath=[file://{folder / 'conf'}]",
                f"sweep.output_dir={out}"]
        check(sweep.main, argv, [str(path)], folder, {path.parent.parent, path.parent, path})
        assert not out.exists()


@FUZZ
@given(st.one_of(st.tuples(unknown, st.just("3")),
                 st.tuples(st.sampled_from(["replications", "root_seed", "record_interval_weeks"]),
                           st.sampled_from(["many", "[1, 2]", "{a: 1}", "1.5"]))))
def test_sweep_refuses_bad_keys_and_types_inside_experiment_files(entry):
    """The message names the full key (experiment.KEY) and the file, not just "experiment"."""
    key, value = entry
    with workdir() as folder:
        path = folder / "conf" / "experiment" / "mine.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(f"# @package _global_\nexperiment:\n  name: mine\n  {key}: {value}\n")
        out = folder / "out"
        argv = ["+experiment=mine", f"hydra.searchpath=[file://{folder / 'conf'}]",
                f"sweep.output_dir={out}"]
        check(sweep.main, argv, [f"experiment.{key}"], folder,
              {path.parent.parent, path.parent, path})
        assert not out.exists()


@FUZZ
@given(st.one_of(YAML_BAD.map(str.encode), st.binary(min_size=1, max_size=100).filter(
    lambda b: not b.decode("utf-8", "ignore").isprintable())))
def test_compare_refuses_malformed_design_files(content):
    with workdir() as folder:
        path = folder / "mine.yaml"
        path.write_bytes(content)
        check(compare.main, [f"designs=[current,{path}]", f"output_dir={folder / 'out'}"],
              [str(path)], folder, {path})


corrupt = st.one_of(st.binary(max_size=300), st.just(b"PAR1" + b"\x00" * 40 + b"PAR1"))


def saved_experiment(folder: Path) -> Path:
    out = folder / "saved"
    status, message = call(sweep.main, [*TINY, f"sweep.output_dir={out}"])
    assert status == 0, message
    return out


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """A finished tiny experiment, copied before each corruption."""
    return saved_experiment(tmp_path_factory.mktemp("saved"))


def corrupted_copy(saved: Path, folder: Path, target: str, content: bytes) -> Path:
    import shutil

    copy = folder / "copy"
    shutil.copytree(saved, copy)
    path = copy / target if target != "first run part" else sorted(
        (copy / "runs").glob("part-*.parquet"))[0]
    path.write_bytes(content)
    return copy


TARGETS = ["manifest.json", "points.parquet", "first run part"]


@FUZZ
@given(st.sampled_from(TARGETS), corrupt)
def test_resume_analysis_and_discovery_refuse_corrupt_files(saved, target, content):
    with workdir() as folder:
        copy = corrupted_copy(saved, folder, target, content)
        before = set(folder.rglob("*"))
        names = [str(copy), target, "points.parquet", "manifest.json", "runs"]
        entries = [(analyse.main, [str(copy)])]  # it reads the manifest too
        if target != "manifest.json":  # discovery and sensitivity read only the tables
            entries += [(discover.main, [str(copy), "--goal", "distinctiveness_final>=0"]),
                        (sensitivity.main, ["--analyse-only", str(copy)])]
        if target != "points.parquet":  # resume rebuilds points.parquet from the config
            entries.append((sweep.main, [*TINY, f"sweep.output_dir={copy}"]))
        for entry, argv in entries:
            check(entry, argv, names, folder, before)


MORRIS = ["+experiment=sensitivity_morris", "experiment.replications=1",
          "experiment.design.samples=2"]


@pytest.mark.parametrize("entry", ["run", "sweep", "compare", "analysis", "discover",
                                   "sensitivity"])
def test_every_entry_point_refuses_an_output_folder_it_cannot_write(saved, entry):
    """A file where the output folder should be (benchmarks/input_audit.py also tries a
    read-only and a full disk, which need root to mount)."""
    import shutil

    with workdir() as folder:
        blocker = folder / "blocker"
        blocker.write_text("not a folder")
        target = blocker / "out"
        copy = folder / "copy"
        shutil.copytree(saved, copy)
        (copy / "analysis").mkdir(exist_ok=True)
        shutil.rmtree(copy / "analysis")
        (copy / "analysis").write_text("not a folder")  # where the analysis would go
        main, argv = {
            "run": (run.main, [f"hydra.run.dir={target}"]),
            "sweep": (sweep.main, [*TINY, f"sweep.output_dir={target}"]),
            "compare": (compare.main, [f"output_dir={target}"]),
            "analysis": (analyse.main, [str(copy)]),
            "discover": (discover.main, [str(copy), "--goal", "distinctiveness_final>=0",
                                         "--out", str(target)]),
            "sensitivity": (sensitivity.main, [*MORRIS, f"sweep.output_dir={target}"]),
        }[entry]
        check(main, argv, [str(target), str(copy / "analysis")], folder,
              set(folder.rglob("*")))


@FUZZ
@given(st.one_of(
    st.tuples(st.just("root_seed"), st.integers(max_value=-1).map(str)),
    st.tuples(st.sampled_from(["replications", "workers", "n_teams"]),
              st.integers(max_value=0).map(str)),
    st.tuples(st.builds(lambda name: f"+{name}", unknown), st.just("1")),
    st.tuples(st.just("designs"), st.sampled_from(["[current]", "[current,current]",
                                                   "[nope_x,current]"]))))
def test_compare_refuses_bad_settings(override):
    key, value = override
    with workdir() as folder:
        check(compare.main, [f"{key}={value}"], [key.lstrip("+"), "nope_x"], folder, set())


def test_the_counts_add_up():
    """Runs last in the module: every tried input was refused clearly."""
    assert COUNTS["tried"] > 0
    assert COUNTS["tried"] == COUNTS["clear"]
