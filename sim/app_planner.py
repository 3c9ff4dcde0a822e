"""Planner page of the offline app (``/planner``): your team, your designs, the comparison.

The planner uploads her team file (or edits the example team as CSV in the page), writes one or
two designs as changes to her team (YAML, as in ``docs/planning.md``), picks a size and runs the
comparison in the background: a progress bar counts finished runs and the time left is
estimated from the runs finished so far in this session (no guess before the first runs are
in). Then she reads the recommendation and the traffic lights and downloads the report.

Work goes to ``outputs/planner/<team file hash>/``: running again with the same team reuses
every unchanged design's runs (``sim.compare`` keys results by design content). This module
only draws and orchestrates; the comparison is ``sim.compare.run_compare``.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import solara

from sim.analysis.compare_report import CompareReport, CompareSpec, traffic_lights
from sim.compare import load_compare_config, prepare, run_compare
from sim.params import ConfigError
from sim.roster import read_team_file, write_template

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "experiments" / "planner_example"
#: Where the page keeps its work (``SIM_PLANNER_DIR`` moves it, e.g. for tests).
WORK_DIR = Path(os.environ.get("SIM_PLANNER_DIR", REPO / "outputs" / "planner"))
#: Sizes offered: conditions sampled x replications x teams per run (three years each).
SIZES = {"try it out (seconds; too small to decide on)": (2, 1, 2),
         "quick look (a minute or two)": (4, 2, 4),
         "standard (a few minutes)": (10, 4, 8),
         "thorough (longer)": (20, 5, 8)}
#: The PWs' supervision arrangement (sim.roster.SUPERVISION_BY_PROFESSION) in words.
SUPERVISION_WORDS = {"clinical": "clinical supervision (a clinician or manager supervises them)",
                     "peer": "peer supervision (an experienced peer worker supervises them)",
                     "mixed": "mixed supervision (a clinician and a peer worker)"}
DEFAULT_DESIGNS = (("third_pw_post", (EXAMPLE / "third_pw_post.yaml")),
                   ("peer_supervision_tuesday", (EXAMPLE / "peer_supervision_tuesday.yaml")))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.strip().lower()).strip("_") or "design"


def team_folder(team_bytes: bytes) -> Path:
    """Where a team's comparisons live: one folder per team file content."""
    return WORK_DIR / f"team-{hashlib.sha256(team_bytes).hexdigest()[:12]}"


def runs_done(folders: list[Path]) -> int:
    """Finished runs saved so far in the designs' engine folders (parquet footers only)."""
    total = 0
    for folder in folders:
        for part in (folder / "runs").glob("part-*.parquet"):
            try:
                total += pq.read_metadata(part).num_rows
            except OSError:  # a part being written right now
                continue
    return total


@dataclass
class Eta:
    """Time left from the throughput measured so far (runs finished after the start)."""

    started: float
    done_at_start: int

    def text(self, done: int, total: int, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        new = done - self.done_at_start
        elapsed = now - self.started
        if done >= total:
            return "done"
        if new < 2 or elapsed < 5:
            return "time left: measuring..."
        left = (total - done) * elapsed / new
        if left < 90:
            return f"time left: about {max(10, round(left / 10) * 10):.0f} seconds"
        return f"time left: about {round(left / 60):.0f} minutes"


def compare_args(team_path: Path, designs: list[Path], size: str, folder: Path,
                 backend: str = "processes") -> list[str]:
    samples, replications, teams = SIZES[size]
    return [f"team_file={team_path}", "designs=[" + ",".join(map(str, designs)) + "]",
            f"context_samples={samples}", f"replications={replications}", f"n_teams={teams}",
            f"backend={backend}", "workers=2", "progress=none", f"output_dir={folder / 'runs'}"]


def write_inputs(team_name: str, team_bytes: bytes, designs: list[tuple[str, str]]
                 ) -> tuple[Path, list[Path], Path]:
    """Save the team file and the designs where the comparison reads them."""
    suffix = ".xlsx" if team_name.lower().endswith(".xlsx") else ".csv"
    folder = team_folder(team_bytes)
    folder.mkdir(parents=True, exist_ok=True)
    team_path = folder / f"{slug(Path(team_name).stem)}{suffix}"  # the report names it
    team_path.write_bytes(team_bytes)
    paths = []
    for name, text in designs:
        if text.strip():
            path = folder / "designs" / f"{slug(name)}.yaml"
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
            paths.append(path)
    return team_path, paths, folder


# --- the page ------------------------------------------------------------------------------

@dataclass
class Team:
    name: str
    data: bytes


@solara.component
def TeamStep(team: solara.Reactive, checked: tuple[bool, str]):
    """Upload or edit the team file; ``checked``: what :func:`check_team` said about it."""
    def on_file(info: dict) -> None:
        data = info.get("data") or info["file_obj"].read()
        team.value = Team(info["name"], data)

    def use_example() -> None:
        team.value = Team("team.csv", (EXAMPLE / "team.csv").read_bytes())

    def edited(text: str) -> None:
        team.value = Team("team.csv", text.encode())

    with solara.Card("1. Your team"):
        solara.Text("Upload your team file (a spreadsheet: one row per person, and the team "
                    "facts). Download a template, fill it in, and drop it here.")
        with solara.Row():
            solara.FileDownload(lambda: template_bytes(".xlsx"), "my_team.xlsx",
                                label="Template (Excel)")
            solara.FileDownload(lambda: template_bytes(".csv"), "my_team.csv",
                                label="Template (CSV)")
            solara.Button("Start from the example team", on_click=use_example, outlined=True)
        solara.FileDrop(label="Drop your team file (.xlsx or .csv) here", on_file=on_file,
                        lazy=False)
        if team.value is not None:
            ok, text = checked
            if ok:
                solara.Success(text, classes=["team-ok"])
            else:
                solara.Error(text, classes=["team-error"])
            if team.value.name.lower().endswith(".csv"):
                solara.InputTextArea("Your team as CSV (edit here if you like)",
                                     value=team.value.data.decode("utf-8-sig"),
                                     on_value=edited, rows=8, continuous_update=False)


def template_bytes(suffix: str) -> bytes:
    path = WORK_DIR / f"template{suffix}"
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    return write_template(path).read_bytes()


def check_team(team: Team) -> tuple[bool, str]:
    """(True, who is in the team) or (False, the team file's message naming row and column)."""
    folder = WORK_DIR / "check"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(team.name).name
    path.write_bytes(team.data)
    try:
        parsed = read_team_file(path)
    except ConfigError as err:
        return False, f"Your team file: {str(err).replace(str(path), team.name)}"
    pws = parsed.peer_workers
    staff = [p for p in parsed.people if p.role == "nonpeer"]
    return True, (f"Team read: a manager, {len(staff)} staff and {len(pws)} PWs; caseload "
            f"{parsed.caseload}; the PWs have {SUPERVISION_WORDS[parsed.supervisor()]}.")


@solara.component
def DesignStep(designs: list[tuple[solara.Reactive, solara.Reactive]]):
    with solara.Card("2. Your designs: changes to your team"):
        solara.Text("Write one change per line, such as pw_posts: 3 (three PW posts), "
                    "supervisor: peer or pw_days_include: [Tue] (PWs work on Tuesdays); lines "
                    "starting with # are notes. The planning guide (docs/planning.md, section "
                    "3) lists every change you can write. Your team as it is is always "
                    "compared too. Leave a design empty to skip it.")
        with solara.Columns([1, 1]):
            for i, (name, text) in enumerate(designs):
                with solara.Column():
                    solara.InputText(f"Design {i + 1} name", value=name)
                    solara.InputTextArea(f"Design {i + 1}", value=text, rows=6)


@solara.component
def PlannerPage():
    team = solara.use_reactive(None)
    checked = solara.use_memo(lambda: check_team(team.value) if team.value else (False, ""),
                              dependencies=[team.value])
    names = [solara.use_reactive(n) for n, _ in DEFAULT_DESIGNS]
    texts = [solara.use_reactive(p.read_text()) for _, p in DEFAULT_DESIGNS]
    size = solara.use_reactive(next(iter(SIZES)))
    progress = solara.use_reactive(0.0)
    status = solara.use_reactive("")
    report = solara.use_reactive(None)
    error = solara.use_reactive("")

    def run() -> None:
        error.value, report.value, progress.value = "", None, 0.0
        try:
            team_path, design_paths, folder = write_inputs(
                team.value.name, team.value.data,
                [(n.value, t.value) for n, t in zip(names, texts, strict=True)])
            config = load_compare_config(compare_args(team_path, design_paths, size.value,
                                                      folder))
            prep = prepare(config)
        except ConfigError as err:
            error.value = str(err)
            return
        total = prep.n_runs * config.replications
        folders = list(prep.folders.values())
        eta = Eta(time.monotonic(), runs_done(folders))
        outcome: dict = {}

        def work() -> None:
            try:
                outcome["report"] = run_compare(config, "the planner page")
            except Exception as err:  # shown in the page: the planner sees what went wrong
                outcome["error"] = str(err)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        while worker.is_alive():
            done = min(runs_done(folders), total)
            progress.value = 100 * done / total
            status.value = f"{done} of {total} runs; {eta.text(done, total)}"
            worker.join(timeout=1.0)
        if "error" in outcome:
            error.value = outcome["error"]
            return
        progress.value, status.value = 100.0, f"{total} of {total} runs; done"
        report.value = outcome["report"]

    task = solara.lab.use_task(run, dependencies=None)
    solara.Title("Planner: PW posts in your team")
    with solara.Column(style={"max-width": "1200px", "margin": "0 auto"}):
        solara.HTML(tag="h1", unsafe_innerHTML="Plan PW posts for your team")
        solara.Text("Compare your team as it is with changes you are considering, across "
                    "conditions you cannot control. Answers are per team, in people and weeks.")
        TeamStep(team, checked)
        DesignStep(list(zip(names, texts, strict=True)))
        with solara.Card("3. Run the comparison"):
            solara.Select("Size", value=size, values=list(SIZES))
            solara.Button("Run the comparison", on_click=task, color="primary",
                          disabled=not checked[0] or task.pending)
            if task.pending or progress.value:
                solara.ProgressLinear(value=progress.value)
                solara.Text(status.value, classes=["run-status"])
            if error.value:
                solara.Error(error.value, classes=["run-error"])
        if report.value is not None:
            ReportView(report.value)


LIGHTS_CSS = """
.planner-lights table{border-collapse:collapse;font-size:15px;margin:0.5em 0}
.planner-lights td,.planner-lights th{border:1px solid #bbb;padding:4px 10px;text-align:left;
 vertical-align:top}
.planner-lights th{background:#f2f2f2}
.planner-lights td.light{white-space:nowrap}
.planner-lights .dot{display:inline-block;width:14px;height:14px;border-radius:50%;
 border:1px solid #555;vertical-align:middle;margin-right:6px}
.planner-lights .green{background:#2e9e44}.planner-lights .red{background:#d7301f}
.planner-lights .amber{background:#f0a30a}.planner-lights .grey{background:#bdbdbd}
"""


def lights_html(folder: Path) -> str:
    """The report's traffic-light table (design and outcome in words, light, verdict, the
    difference with its interval, the smallest difference that matters); each cell carries
    its column's name as a class (``verdict``, ``light``, ...)."""
    table = traffic_lights(CompareSpec.read(folder.parent),
                           pd.read_csv(folder / "differences.csv"))

    def td(column: str, value: object) -> str:
        text = html.escape(str(value))
        if column == "light":
            text = f"<span class='dot {text}'></span>{text}"
        return f"<td class='{slug(column)}'>{text}</td>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    rows = "".join("<tr>" + "".join(td(c, v) for c, v in zip(table.columns, row, strict=True))
                   + "</tr>" for row in table.itertuples(index=False))
    return f"<table><tr>{head}</tr>{rows}</table>"


@solara.component
def ReportView(report: CompareReport):
    folder = Path(report.folder)
    page = (folder / "report.html").read_text()
    with solara.Card("4. The answer"):
        solara.HTML(tag="p", unsafe_innerHTML=f"<b>{html.escape(report.summary[0])}</b>",
                    classes=["planner-verdict"])
        solara.Style(LIGHTS_CSS)
        solara.HTML(tag="div", unsafe_innerHTML=lights_html(folder), classes=["planner-lights"])
        solara.FileDownload(lambda: (folder / "report.html").read_bytes(), "report.html",
                            label="Download the report (HTML; prints as a board paper)")
        # The whole report in a frame, so its stylesheet does not restyle the app.
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"<iframe title='report' srcdoc=\"{html.escape(page, quote=True)}\" "
            "style='width:100%;height:1600px;border:1px solid #ccc'></iframe>"),
            classes=["planner-report"])
