"""Audit of every entry point against bad input and faults (issue 15): each category the review
listed is fed to the real command in a subprocess, in a fresh temporary folder, and its outcome
classified.

Run from the repository root (as root, for the read-only and full-disk folders; without root
those cases say "not simulated")::

    python -m benchmarks.input_audit                 # every case, then the fault-test matrix
    python -m benchmarks.input_audit --no-matrix     # the cases only
    python -m benchmarks.input_audit --only yaml     # cases whose category contains "yaml"

A refusal is classified exactly as ``tests/test_fuzz_inputs.py`` does: *traceback* (one is on
stderr), *accepted* (exit 0), *partial output* (a file or folder left in the case folder besides
what the case put there and an experiment folder's ``.lock``), *unclear* (exit other than 2, not
exactly one line on stderr, or the key or file not named) or *clear*. Signals (Ctrl-C on
``sim.run``, SIGTERM on a sweep) and a ``.tmp`` left by a killed analysis are faults, not bad
input: they are *clear* when the command exits 130/143 (0 for the resume) with one line and no
traceback, the manifest ends in a true state and rerunning the same command finishes.

The fault-test matrix runs ``tests/test_sweep_isolation.py``, ``tests/test_sweep_resume.py`` and
``tests/test_sweep_faults.py`` with pytest and maps each test to the faults and backends it
exercises. Results go to ``benchmarks/results/input_audit_<date>.md`` (and stdout).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sim.output import write_text

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}
TIMEOUT_S = 300

#: Small settings of each command, so an input wrongly accepted costs little.
RUN = ["organisation.n_teams=2", "organisation.horizon_weeks=5", "output.dashboard=false",
       "output.print_summary=false", "hydra.run.dir={d}/run"]
SWEEP = ["+experiment=recruitment_by_supervision", "experiment.replications=1",
         "experiment.base=['organisation.n_teams=2','organisation.horizon_weeks=5']",
         "experiment.analysis.outcomes=[]", "experiment.analysis.reference=null",
         "sweep.progress=none"]
COMPARE = ["replications=1", "context_samples=2", "n_teams=2", "horizon_weeks=5",
           "backend=serial", "progress=none"]
SENSITIVITY = ["+experiment=sensitivity_morris", "experiment.replications=1",
               "experiment.design.samples=2", "sweep.progress=none", "--no-plots",
               "experiment.base=['scenario=london','organisation.n_teams=2',"
               "'organisation.horizon_weeks=5']"]
GOAL = ["--goal", "distinctiveness_final>=0"]
#: The seven-point experiment of tests/test_sweep_isolation.py, one run per part, slowed down.
SLOW_SWEEP = [*SWEEP, "experiment.factors=[{name: team.caseload, levels: [20, 21, 22, 23, 24, "
              "25, 26]}]", "experiment.model=sweep_fault_models.SlowModel", "sweep.chunk_size=1",
              "sweep.analyse=false"]


@dataclass
class Case:
    category: str
    entry: str  # module run with python -m
    args: list[str]  # "{d}": the case folder; "{saved}": a copy of a finished experiment
    names: list[str]  # the message must name one of these (formatted like args)
    setup: Callable[[Path], contextlib.AbstractContextManager[str]] | None = None
    kind: str = "refuse"  # refuse, signal or resume (see the module docstring)


@dataclass
class Row:
    category: str
    command: str
    exit: object
    message: str
    outcome: str
    note: str = ""
    left: list[str] = field(default_factory=list)


# --- what a case puts in its folder ---------------------------------------------------------

def writes(name: str, content: bytes) -> Callable[[Path], contextlib.AbstractContextManager[str]]:
    """A case folder holding one file (a design, an experiment in a config search path)."""

    @contextlib.contextmanager
    def setup(folder: Path) -> Iterator[str]:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        yield ""

    return setup


def corrupts(target: str, content: Callable[[bytes], bytes]
             ) -> Callable[[Path], contextlib.AbstractContextManager[str]]:
    """The saved experiment with one file replaced (``"first part"``: its first run part)."""

    @contextlib.contextmanager
    def setup(folder: Path) -> Iterator[str]:
        saved = folder / "saved"
        path = (sorted((saved / "runs").glob("part-*.parquet"))[0] if target == "first part"
                else saved / target)
        path.write_bytes(content(path.read_bytes()))
        yield ""

    return setup


def plants_tmp(folder: Path) -> contextlib.AbstractContextManager[str]:
    """What ``kill -9`` during an analysis leaves: a 0-byte temporary file of atomic_path."""
    (folder / "saved" / "analysis").mkdir(exist_ok=True)
    (folder / "saved" / "analysis" / ".summary.csv.k1ll3d.tmp").write_bytes(b"")
    return contextlib.nullcontext("")


def disk(state: str, with_saved: bool = False
         ) -> Callable[[Path], contextlib.AbstractContextManager[str]]:
    """A tmpfs at ``{d}/disk``: read-only (``state="ro"``) or full (``"full"``); with the saved
    experiment copied in first when the command writes inside it."""

    @contextlib.contextmanager
    def setup(folder: Path) -> Iterator[str]:
        mount = folder / "disk"
        mount.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                              capture_output=True, text=True)
        if done.returncode:
            yield f"not simulated: mount failed ({done.stderr.strip()})"
            return
        try:
            if with_saved:
                shutil.copytree(folder / "saved", mount / "saved")
            if state == "ro":
                subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
            else:
                fill(mount / "filler")
            yield ""
        finally:
            subprocess.run(["umount", "-l", str(mount)], check=False)

    return setup


def fill(path: Path) -> None:
    with path.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the cases --------------------------------------------------------------------------------

MALFORMED = b"name: bad\ndescription: [unclosed\nreplications: 2\n"
DUPLICATE = b"name: dup\nreplications: 2\nreplications: 3\n"
SEARCH = "hydra.searchpath=[file://{d}/conf]"


def experiment_file(text: str) -> bytes:
    return ("# @package _global_\nexperiment:\n  name: mine\n  base: [organisation.n_teams=2,"
            "organisation.horizon_weeks=5]\n  factors: [{name: team.caseload, levels: [20]}]\n"
            "  analysis: {outcomes: [], reference: null}\n" + text).encode()


def cases() -> list[Case]:
    out = "sweep.output_dir={d}/out"
    c: list[Case] = []
    # YAML files: an experiment (in a config search path) and a design
    for label, content in [("malformed YAML", b"# @package _global_\nexperiment:\n  name: [x\n"),
                           ("duplicate key", b"# @package _global_\nexperiment:\n  name: a\n"
                                             b"  name: b\n")]:
        c.append(Case(f"{label} in an experiment file", "sim.sweep",
                      ["+experiment=mine", SEARCH, out], ["mine.yaml"],
                      writes("conf/experiment/mine.yaml", content)))
    for label, content in [("malformed YAML", MALFORMED), ("duplicate key", DUPLICATE)]:
        c.append(Case(f"{label} in a design file", "sim.compare",
                      [*COMPARE, "designs=[current,{d}/mine.yaml]", "output_dir={d}/out"],
                      ["mine.yaml"], writes("mine.yaml", content)))
    # CSV designs
    csv = [*SWEEP, "experiment.design.kind=csv", "experiment.design.csv={d}/design.csv",
           "experiment.factors=[]", out]
    for label, content in [("empty CSV design", b""),
                           ("binary CSV design", bytes(range(256)) * 4),
                           ("ragged CSV design", b"team.caseload,team.size\n20,5\n21\n22,5,9\n")]:
        c.append(Case(label, "sim.sweep", csv, ["design.csv", "experiment.design.csv"],
                      writes("design.csv", content)))
    # interpolations
    c += [Case("${oc.env:NOPE} interpolation", "sim.run", [*RUN, "seed=${oc.env:PWSIM_NOPE}"],
               ["seed"]),
          Case("${oc.env:NOPE} interpolation", "sim.sweep",
               [*SWEEP, "experiment.root_seed=${oc.env:PWSIM_NOPE}", out],
               ["experiment.root_seed"]),
          Case("${seed} interpolation", "sim.run", [*RUN, "seed=${seed}"], ["seed"]),
          Case("${seed} interpolation", "sim.sweep", [*SWEEP, "experiment.root_seed=${seed}", out],
               ["experiment.root_seed"])]
    # unwritable and full output folders, every entry point
    for state, label in [("ro", "unwritable output folder"), ("full", "full disk")]:
        where = "{d}/disk"
        c += [Case(label, "sim.run", [*RUN, f"hydra.run.dir={where}/run"], [where], disk(state)),
              Case(label, "sim.sweep", [*SWEEP, f"sweep.output_dir={where}/out"], [where],
                   disk(state)),
              Case(label, "sim.compare", [*COMPARE, f"output_dir={where}/out"], [where],
                   disk(state)),
              Case(label, "sim.analysis", [f"{where}/saved"], [where], disk(state, True)),
              Case(label, "sim.discover", ["{saved}", *GOAL, "--out", f"{where}/found"],
                   [where], disk(state)),
              Case(label, "sim.sensitivity", [*SENSITIVITY, f"sweep.output_dir={where}/out"],
                   [where], disk(state))]
    c += [Case("unreachable Dask scheduler", "sim.sweep",
               [*SWEEP, "sweep.backend=dask",
                f"sweep.scheduler_address=tcp://127.0.0.1:{free_port()}", out],
               ["sweep.scheduler_address"]),
          Case("negative compare seed", "sim.compare",
               [*COMPARE, "root_seed=-1", "output_dir={d}/out"], ["root_seed"])]
    # saved files, corrupt or truncated, read by discovery, analysis and resume
    garbage = lambda _: b"PAR1" + b"\x00" * 40 + b"PAR1"  # noqa: E731
    half = lambda content: content[: len(content) // 2]  # noqa: E731
    readers = [("sim.discover", ["{saved}", *GOAL, "--out", "{d}/found"]),
               ("sim.analysis", ["{saved}"]),
               ("resume (sim.sweep)", [*SWEEP, "sweep.output_dir={saved}"])]
    for target, how, change in [("points.parquet", "corrupt", garbage),
                                ("first part", "truncated", half)]:
        for entry, args in readers:
            if target == "points.parquet" and entry.startswith("resume"):
                continue  # resume rewrites points.parquet from the config
            c.append(Case(f"{how} {target.replace('first part', 'run part')}", entry, args,
                          ["{saved}"], corrupts(target, change)))
    for how, change in [("corrupt", lambda _: b"{not json"), ("truncated", half)]:
        for entry, args in readers[1:]:  # discovery reads the manifest only for provenance
            c.append(Case(f"{how} manifest", entry, args, ["manifest.json"],
                          corrupts("manifest.json", change)))
    # multirun, experiment keys, factor levels
    c += [Case("-m multirun", "sim.run", ["-m", *RUN[:-1], "hydra.sweep.dir={d}/multi",
                                          "organisation.n_teams=2,0"], ["organisation.n_teams"]),
          Case("unknown key inside an experiment file", "sim.sweep",
               ["+experiment=mine", SEARCH, out], ["experiment.replicationz"],
               writes("conf/experiment/mine.yaml", experiment_file("  replicationz: 3\n"))),
          Case("wrong type inside an experiment file", "sim.sweep",
               ["+experiment=mine", SEARCH, out], ["experiment.replications"],
               writes("conf/experiment/mine.yaml", experiment_file("  replications: many\n"))),
          Case("bad factor levels", "sim.sweep",
               [*SWEEP, "experiment.factors=[{name: team.caseload, levels: [abc]}]", out],
               ["team.caseload"])]
    # tables keyed by profession or sector, booleans, degenerate designs
    c += [Case(f"unknown entry in {key}", "sim.run", [*RUN, f"+{key}.nope_x=0.5"],
               [f"{key}.nope_x"])
          for key in ("supervision.support", "context.staff_practice", "team.external_status")]
    c += [Case("context.peer_network=2", "sim.run", [*RUN, "context.peer_network=2"],
               ["context.peer_network"]),
          Case("team.profession_mix={}", "sim.run", [*RUN, "team.profession_mix={}"],
               ["team.profession_mix"])]
    for value in ("-0.1", "nan"):
        c += [Case(f"ci_half_width={value}", "sim.sweep",
                   [*SWEEP, f"experiment.analysis.ci_half_width={value}", out],
                   ["experiment.analysis.ci_half_width"]),
              Case(f"tolerance={value}", "sim.run", [*RUN, f"boundaries.tolerance={value}"],
                   ["boundaries.tolerance"])]
    c += [Case("LHS range outside the allowed range", "sim.sweep",
               [*SWEEP, "experiment.factors=[{name: team.caseload, range: [0, 1000]}]",
                "experiment.design.kind=lhs", "experiment.design.samples=2", out],
               ["experiment.factors[0].range", "team.caseload"]),
          Case("meeting_days=[]", "sim.run", [*RUN, "meetings.meeting_days=[]"],
               ["meetings.meeting_days"]),
          Case("experiment.replications=100000000", "sim.sweep",
               [*SWEEP, "experiment.replications=100000000", out],
               ["experiment.replications"]),
          Case("too-narrow integer Morris range", "sim.sensitivity",
               [*SENSITIVITY, "experiment.factors=[{name: recruitment.refill_delay_weeks, "
                "range: [8.1, 8.4]}, {name: meetings.tie_gain, range: [0.07, 0.13]}]",
                "sweep.output_dir={d}/out"], ["recruitment.refill_delay_weeks"])]
    # faults: signals and what a kill leaves
    c += [Case("Ctrl-C on sim.run", "sim.run",
               ["organisation.n_teams=200", "organisation.horizon_weeks=520",
                "output.dashboard=false", "hydra.run.dir={d}/run"], ["interrupted"],
               kind="signal"),
          Case("SIGTERM on a sweep", "sim.sweep", [*SLOW_SWEEP, out], ["terminated"],
               kind="signal"),
          Case("kill during analysis leaves a .tmp", "resume (sim.sweep)",
               [*SWEEP, "sweep.output_dir={saved}"], [], plants_tmp, kind="resume")]
    return c


# --- running and classifying ----------------------------------------------------------------

def command(entry: str, args: list[str]) -> list[str]:
    module = entry.split("(")[-1].rstrip(")")
    return [sys.executable, "-m", module, *args]


def shown(entry: str, args: list[str], folder: Path) -> str:
    text = " ".join([f"python -m {entry.split('(')[-1].rstrip(')')}", *args])
    return text.replace(str(folder), "TMP")


def audit(case: Case, saved: Path) -> Row:
    with tempfile.TemporaryDirectory(prefix="audit-") as name:
        folder = Path(name)
        shutil.copytree(saved, folder / "saved")  # read by some cases, left alone by others
        args = [filled(a, folder) for a in case.args]
        names = [filled(n, folder) for n in case.names]
        with (case.setup or (lambda _: contextlib.nullcontext("")))(folder) as skipped:
            if skipped:
                return Row(case.category, shown(case.entry, args, folder), "-", skipped,
                           "not simulated")
            before = set(folder.rglob("*"))
            if case.kind == "signal":
                return signalled(case, args, folder)
            status, stderr = execute(command(case.entry, args), folder)
            left = sorted(str(p.relative_to(folder)) for p in set(folder.rglob("*")) - before
                          if p.name != ".lock")
        if case.kind == "resume":
            tmps = list((folder / "saved").rglob("*.tmp")) if (folder / "saved").exists() else []
            outcome = ("traceback" if "Traceback" in stderr else
                       "clear" if status == 0 and not tmps else
                       f"not clear: exit {status}, {len(tmps)} .tmp left")
            return Row(case.category, shown(case.entry, args, folder), status,
                       last_line(stderr, folder), outcome, "a 0-byte .tmp planted in analysis/; "
                       f"after the resume: {len(tmps)} .tmp files")
        outcome = classify(status, stderr, names, left)
        return Row(case.category, shown(case.entry, args, folder), status,
                   last_line(stderr, folder), outcome, left=left[:3])


def filled(text: str, folder: Path) -> str:
    return text.replace("{saved}", str(folder / "saved")).replace("{d}", str(folder))


def classify(status: object, stderr: str, names: list[str], left: list[str]) -> str:
    """As tests/test_fuzz_inputs.py: traceback, accepted, partial output, unclear or clear."""
    return ("traceback" if status == "traceback" or "Traceback" in stderr else
            "accepted" if status == 0 else
            "partial output" if left else
            "unclear" if status != 2 or len(stderr.splitlines()) != 1
            or not any(name in stderr for name in names) else "clear")


def execute(argv: list[str], cwd: Path) -> tuple[object, str]:
    try:
        done = subprocess.run(argv, cwd=cwd, env=ENV, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return "timeout", f"(no answer within {TIMEOUT_S} s)"
    return done.returncode, done.stderr.strip()


def last_line(stderr: str, folder: Path) -> str:
    lines = stderr.replace(str(folder), "TMP").splitlines()
    text = lines[-1] if lines else ""
    extra = f" (+{len(lines) - 1} more lines)" if len(lines) > 1 else ""
    return (text[:220] + ("..." if len(text) > 220 else "")) + extra


def signalled(case: Case, args: list[str], folder: Path) -> Row:
    """Start the command, signal it once it is under way, then check what it left and rerun."""
    argv = command(case.entry, args)
    proc = subprocess.Popen(argv, cwd=folder, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    is_run = case.entry == "sim.run"
    sig, expected = (signal.SIGINT, 130) if is_run else (signal.SIGTERM, 143)
    marker = folder / "run" / ".hydra" if is_run else folder / "out" / "runs"
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and not (
            marker.exists() and (is_run or any(marker.glob("part-*.parquet")))):
        time.sleep(0.05)
    time.sleep(1.0 if is_run else 0.0)  # sim.run: let the model start
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=TIMEOUT_S)
    stderr = stderr.strip()
    if is_run:
        state_ok = not (folder / "run").exists()
        state = "run folder removed" if state_ok else "run folder left behind"
    else:
        manifest = json.loads((folder / "out" / "manifest.json").read_text())
        state_ok = manifest["status"].startswith("interrupted")
        state = f"manifest status {manifest['status']!r}"
    rerun, rerun_err = execute(argv, folder)
    if is_run:
        rerun_ok = rerun == 0 and (folder / "run" / "manifest.json").is_file()
        resumed = f"rerun exit {rerun}, manifest written: {rerun_ok}"
    else:
        manifest = json.loads((folder / "out" / "manifest.json").read_text())
        runs = sorted(run_ids(folder / "out"))
        rerun_ok = rerun == 0 and manifest["status"] == "complete" and runs == list(range(7))
        resumed = (f"rerun exit {rerun}, manifest {manifest['status']!r}, runs saved once each: "
                   f"{runs == list(range(7))}")
    one_line = len(stderr.splitlines()) == 1
    outcome = ("traceback" if "Traceback" in stderr or "Traceback" in rerun_err else
               "clear" if proc.returncode == expected and one_line and state_ok and rerun_ok
               and any(n in stderr for n in case.names) else
               f"not clear (expected exit {expected})")
    return Row(case.category, shown(case.entry, args, folder), proc.returncode,
               last_line(stderr, folder), outcome, f"{state}; {resumed}")


def run_ids(folder: Path) -> list[int]:
    import pyarrow.parquet as pq

    return [i for p in (folder / "runs").glob("part-*.parquet")
            for i in pq.read_table(p, columns=["run_id"])["run_id"].to_pylist()]


def saved_experiment(folder: Path) -> Path:
    """A finished tiny experiment (analysed), copied into the cases that read one."""
    out = folder / "saved"
    status, stderr = execute(command("sim.sweep", [*SWEEP, f"sweep.output_dir={out}"]), folder)
    if status != 0:
        raise SystemExit(f"the saved experiment failed (exit {status}): {stderr}")
    return out


# --- the fault-test matrix --------------------------------------------------------------------

BACKENDS = ("serial", "processes", "dask")
ISOLATION = "test_sweep_isolation.test_every_fault_fails_its_runs_alone_and_is_recorded"
#: fault -> backend -> the tests that exercise it (a backend missing: not covered)
MATRIX: dict[str, dict[str, list[str]]] = {
    **{fault: {b: [f"{ISOLATION}[{b}]"] for b in BACKENDS}
       for fault in ("crash (os._exit)", "segfault", "sys.exit", "hang (sweep.run_timeout_s)",
                     "non-numeric summary")},
    "exception": {"processes": ["test_sweep_faults.test_failing_runs_are_isolated_and_recorded"],
                  "serial": ["test_sweep_faults.test_the_command_exits_non_zero_and_counts_"
                             "failures"]},
    "retry of failed runs (sweep.retry_failed)": {
        "serial": ["test_sweep_isolation.test_retry_failed_reruns_only_the_failed_runs_once_"
                   "fixed"]},
    "kill -9 of the sweep (process group)": {
        "processes": ["test_sweep_resume.test_killed_multiprocess_sweep_resumes_to_the_same_"
                      "results"]},
    "lost worker": {
        "processes": ["test_sweep_resume.test_a_lost_worker_process_stops_the_sweep_and_the_"
                      "rerun_finishes"],
        "dask": ["test_sweep_resume.test_a_lost_dask_worker_is_replaced_without_losing_runs"]},
    "Ctrl-C": {"serial": ["test_sweep_resume.test_ctrl_c_stops_cleanly_and_the_rerun_finishes"]},
    "SIGTERM": {"serial": ["test_sweep_isolation.test_sigterm_leaves_a_true_manifest",
                           "test_sweep_resume.test_sigterm_on_the_command_exits_143_with_one_"
                           "line_and_the_rerun_finishes"]},
    "kill between a chunk's two files": {
        "serial": ["test_sweep_resume.test_a_kill_between_a_chunks_two_files_leaves_no_trace"]},
    "two concurrent writers": {
        "serial": ["test_sweep_isolation.test_two_concurrent_sweeps_into_one_folder_never_"
                   "duplicate_a_run",
                   "test_sweep_isolation.test_a_second_writer_is_refused_with_exit_2_and_"
                   "writes_nothing"]},
    "copied part": {
        "serial": ["test_sweep_isolation.test_a_copied_part_is_refused_by_readers_and_by_"
                   "resume"]},
}
#: Checked before any backend starts, so the backend does not matter.
BEFORE_BACKEND = ("two concurrent writers", "copied part")
MATRIX_FILES = ["tests/test_sweep_isolation.py", "tests/test_sweep_resume.py",
                "tests/test_sweep_faults.py"]


def test_results() -> dict[str, str]:
    """Run the fault tests; ``module.test[param]`` -> passed, failed or skipped."""
    with tempfile.TemporaryDirectory() as name:
        report = Path(name) / "junit.xml"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"--junitxml={report}", *MATRIX_FILES], cwd=ROOT, env=ENV,
                       capture_output=True, text=True)
        tree = ET.parse(report)
    results = {}
    for case in tree.iter("testcase"):
        key = f"{case.get('classname', '').split('.')[-1]}.{case.get('name')}"
        results[key] = ("failed" if case.find("failure") is not None or case.find("error")
                        is not None else "skipped" if case.find("skipped") is not None
                        else "passed")
    return results


def matrix_table(results: dict[str, str]) -> list[str]:
    lines = ["| fault | " + " | ".join(BACKENDS) + " |", "|---|" + "---|" * len(BACKENDS)]
    for fault, by_backend in MATRIX.items():
        cells = []
        for backend in BACKENDS:
            tests = by_backend.get(backend)
            if not tests:
                cells.append("pass (checked before a backend starts)"
                             if fault in BEFORE_BACKEND else "not covered")
                continue
            states = {results.get(t, "not run") for t in tests}
            cells.append("pass" if states == {"passed"} else "/".join(sorted(states)))
        lines.append(f"| {fault} | " + " | ".join(cells) + " |")
    return lines


# --- report -------------------------------------------------------------------------------------

def audit_table(rows: list[Row]) -> list[str]:
    lines = ["| category | command | exit | message (last line of stderr) | class |",
             "|---|---|---:|---|---|"]
    for row in rows:
        note = f" ({row.note})" if row.note else ""
        left = f" left: {', '.join(row.left)}" if row.left else ""
        message = (row.message + note + left).replace("|", "\\|")
        lines.append(f"| {row.category} | `{row.command.replace('|', '/')}` | {row.exit} | "
                     f"{message} | {row.outcome} |")
    return lines


def totals(rows: list[Row]) -> str:
    counts = Counter("clear" if r.outcome == "clear" else r.outcome.split(" (")[0]
                     .split(":")[0] for r in rows)
    keys = ["traceback", "partial output", "unclear", "accepted", "not clear", "not simulated",
            "clear"]
    return (f"tried {len(rows)}, " + ", ".join(f"{k} {counts[k]}" for k in keys))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-matrix", action="store_true", help="skip the fault tests")
    parser.add_argument("--only", default="", help="cases whose category contains this")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    selected = [c for c in cases() if args.only.lower() in c.category.lower()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="audit-saved-") as name:
        saved = saved_experiment(Path(name))
        for case in selected:
            clock = time.perf_counter()
            row = audit(case, saved)
            rows.append(row)
            print(f"{row.outcome:>15}  {row.category}: {row.command[:90]} "
                  f"({time.perf_counter() - clock:.0f} s)", flush=True)
    lines = [f"# Input and fault audit, {started:%Y-%m-%d}", "",
             f"`python -m benchmarks.input_audit` at commit {git_head()}, {started:%H:%M} UTC; "
             "each case is the real command in a subprocess, in a fresh temporary folder (TMP). "
             "Classes as in tests/test_fuzz_inputs.py; signal and resume cases as in "
             "benchmarks/input_audit.py's docstring.", "", "## Cases", "", *audit_table(rows),
             "", f"**Totals:** {totals(rows)}.", ""]
    if not args.no_matrix:
        results = test_results()
        passed = sum(s == "passed" for s in results.values())
        lines += ["## Fault-test matrix", "",
                  f"pytest on {', '.join(MATRIX_FILES)}: {passed} of {len(results)} tests "
                  "passed. Each cell: the tests exercising that fault on that backend.", "",
                  *matrix_table(results), ""]
    text = "\n".join(lines)
    print("\n" + text)
    if not args.no_write and not args.only:
        RESULTS.mkdir(exist_ok=True)
        write_text(RESULTS / f"input_audit_{started:%Y-%m-%d}.md", text)
    return 0


def git_head() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True)
    return f"`{done.stdout.strip()}`" if done.returncode == 0 else "(unknown)"


if __name__ == "__main__":
    sys.exit(main())
