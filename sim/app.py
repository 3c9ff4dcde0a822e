"""Workshop app: choose a preset, pull the levers, watch the team and its outcomes week by week.

Run it with ``make app`` (``solara run sim/app.py --host 127.0.0.1 --port 8765``) and open
http://127.0.0.1:8765. It needs no internet access: Solara's JavaScript and CSS come from the
``solara-assets`` package. The facilitator's guide is ``docs/workshop.md``.

This module only draws: the controls (Reset, play/pause, Step; :func:`Controls` says why not
Mesa's ``SolaraViz``), the lever inputs and the plots; ``sim.app_model`` turns the preset and
the levers into a model and reads what is drawn. Every browser session builds its own model and
figures in ``Page``; nothing is shared between sessions at module level. The page never reads a
model directly: it draws a :class:`~sim.app_model.Frame`, a copy taken under the model's lock,
so a redraw in one thread cannot catch a week half-done in another (see ``sim.app_model``).

Beside the plots: numbers for the headline outcomes, a note on what each plot means and which
finding of the study it shows, downloads of the run (CSV) and the plots (PNG), and the last
three runs drawn in thin lines. *Projector mode* enlarges the type and the plots.

The figures are kept between weeks and redrawn by blitting (axes, ticks, legends and the
previous run are drawn once; each week only the data are drawn on top), so a week's redraw
costs a few tens of milliseconds.
"""

from __future__ import annotations

import io
import logging
import threading
import time

import matplotlib
import numpy as np
import pandas as pd
import PIL.Image
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.app_model import (
    LEVERS,
    PRESETS,
    Frame,
    RunMemory,
    WorkshopModel,
    describe_run,
    frame_csv,
    overrides_for,
    preset_levers,
)

logging.getLogger("MESA").setLevel(logging.WARNING)

#: Live plots, one per panel. Each: title, y label in words with its scale, the y range always
#: shown, series (column -> label; the first has a 95% CI band over teams), and the note shown
#: beside the plots: what the panel means and which finding of Gillard et al. (2013) it shows.
PANELS = (
    ("Distinctiveness of PW practice",
     "practice (0 conventional, 1 peer)", (-0.1, 0.9),
     {"distinctiveness": "PW minus staff", "pw_practice": "PWs", "staff_practice": "staff"},
     "How far PWs work differently from other staff: shared lived experience, mutuality, the "
     "PW's own choices. The bold line is the PWs' score minus the staff's. Lesson 3 (supervision "
     "and training that keep protective boundaries make PW practice less distinctive) and the "
     "conclusion (unsupported, the role is diluted)."),
    ("Expectation gap",
     "gap (0 none, 1 total)", (0.0, 0.4),
     {"expectation_gap": "expectation gap", "pw_role_ambiguity": "PW role ambiguity"},
     "How far what the PW was led to expect of the role is from what the team thinks the role "
     "is, and how unclear the PW finds the role. Lesson 1 (informal recruitment: PW and team "
     "expect different things from the start) and lesson 4 (no shared definition)."),
    ("Status gap, ties and valuation", "score (0 low, 1 high)", (0.0, 0.8),
     {"status_gap": "status gap (staff - PW)", "pw_integration": "PW ties to team",
      "pw_valued_by_users": "PW valued by users"},
     "Staff's standing in the team minus PWs' standing; how connected PWs are to colleagues; "
     "how much service users value their PW. Lesson 2 (flexible hours that miss the team "
     "meeting keep the hierarchy in place) and 'valued but marginal': valued by users, yet low "
     "in the team."),
    ("Strain", "strain (0 none, 1 high)", (0.0, 1.0),
     {"pw_strain": "PWs", "staff_strain": "non-peer staff"},
     "Accumulated strain, like emotional exhaustion. The model gives PWs no extra fragility: "
     "a gap between the lines comes from ambiguity, exclusion and drift (lesson 4; peer and "
     "non-peer burnout do not differ under equal conditions)."),
    ("Retention", "people per team", (0.0, 2.5),
     {"pw_in_post": "PWs in post", "pw_leavers_so_far": "PWs who left (total)"},
     "PWs in post per team, and how many have left since the start. PWs whose practice drifted "
     "from the peer role leave more often (tasks outside the role about triple the odds of "
     "intending to leave). A leaver's post stays empty for 12 weeks."),
    ("Service-user benefit", "recovery (0 low, 1 high)", (0.4, 0.6),
     {"user_recovery": "recovery"},
     "Mean recovery/empowerment of the 40 service users per team. Gains from PWs are modest "
     "(trials: about 0.2 standard deviations) and larger where distinctive practice is "
     "supported: the study's conclusion."),
)
#: Line styles of the remembered runs, newest first (every series of a panel is drawn).
HISTORY_STYLES = ("--", ":", "-.")
#: Headline outcomes shown as numbers above the plots: column, label, format.
MONITORS = (
    ("distinctiveness", "Distinctiveness (PW - staff)", "{:+.2f}"),
    ("expectation_gap", "Expectation gap", "{:.2f}"),
    ("status_gap", "Status gap (staff - PW)", "{:.2f}"),
    ("pw_strain", "PW strain", "{:.2f}"),
    ("pw_leavers_so_far", "PWs who left, per team", "{:.1f}"),
    ("user_recovery", "Service-user recovery", "{:.3f}"),
)
#: Plain-language notes on the levers, in the order the sidebar shows them (study lesson).
LEVER_NOTES = {
    "recruitment": "formal: co-produced role description, lived experience essential, a peer "
                   "on the panel; informal: staff pick someone they know (lesson 1).",
    "pw_hours": "share of a full-time week; days a week = hours x 5, rounded (lesson 2).",
    "working_days": "fixed contracted days, or flexible days re-drawn every week (lesson 2).",
    "meeting_aligned": "fixed days are built around the team-meeting day (lesson 2).",
    "paid": "unpaid volunteers are invited to only some meetings (lesson 2).",
    "supervisor": "whose idea of good practice supervision pulls toward (lesson 3).",
    "boundary_focus": "protective (professionally defined) or personal (defined by the PW) "
                      "boundaries (lesson 3).",
    "supervision_interval": "how often supervision happens (lesson 3).",
    "training_content": "risk-focused (conventional) or peer course (lesson 3).",
    "training_sessions": "length of the PW's training (lesson 3).",
    "whole_team_training": "staff are taught what the role is for (lessons 1, 4).",
    "coproduced_definition": "PWs, staff and managers agreed what peer practice is (lesson 4).",
    "peer_network": "PWs from different teams meet every 4 weeks: a protected space "
                    "(lesson 3).",
    "sector": "the culture staff bring and how strictly boundaries are policed.",
    "team_size": "the caseload stays at 40 service users: a smaller team means more work each.",
    "pw_count": "PW posts per team.",
}
PRACTICE_CMAP = matplotlib.colormaps["coolwarm"]  # blue conventional .. red distinctive peer
MARKERS = {"manager": "s", "staff": "o", "PW": "D"}
#: Show every slider's value all the time (Vuetify shows it only while dragging).
CSS = """
.v-slider__thumb-label-container { display: block !important; }
.v-input__slider { margin-top: 28px; }
.monitor { padding: 4px 10px; min-width: 120px; }
.monitor-value { font-size: 1.6em; font-weight: bold; }
.panel-note { font-size: 0.9em; margin: 2px 0 6px 0; }
"""
#: Projector mode: large type everywhere (the plots are also drawn with larger fonts).
PROJECTOR_CSS = """
.v-application { font-size: 20px !important; }
.v-application .v-label, .v-application .v-select__selection, .v-application .v-btn,
.v-application .v-card__title, .v-application p, .v-application div { font-size: 20px; }
.monitor-value { font-size: 2.4em !important; }
.panel-note { font-size: 1.0em !important; }
"""


class Session:
    """One browser session's inputs: the preset, the seed and every lever, each a reactive value.

    The sidebar's inputs are bound to these values, so choosing a preset can set every lever to
    the preset's value; Reset builds the next model from them (``WorkshopModel(inputs=...)``).
    ``redraw`` is bumped after every step; ``drawn`` is set each time the plots have been drawn
    (see :func:`Controls`).
    """

    def __init__(self) -> None:
        self.memory = RunMemory()
        self.projector = solara.reactive(False)
        self.preset = solara.reactive("london")
        self.weeks_per_redraw = solara.reactive(1)
        self.redraw = solara.reactive(0)
        self.drawn = threading.Event()
        self.inputs = {"seed": solara.reactive(1)}
        for name, value in preset_levers(self.preset.value).items():
            self.inputs[name] = solara.reactive(value)

    def choose(self, preset: str) -> None:
        """Set every lever to the preset's value (the seed is kept)."""
        for name, value in preset_levers(preset).items():
            self.inputs[name].value = value

    def values(self) -> dict:
        """What the sidebar shows now: preset, seed and levers."""
        return {"preset": self.preset.value} | {k: v.value for k, v in self.inputs.items()}

    def new_model(self) -> WorkshopModel:
        return WorkshopModel(inputs=self.values, memory=self.memory)

    def next_label(self) -> str:
        """The label of the run Reset would start now (shown, so nobody resets blind)."""
        levers = self.values()
        preset, seed = levers.pop("preset"), levers.pop("seed")
        return describe_run(preset, overrides_for(preset, seed, **levers), int(seed))


#: Pause between redraws while playing (seconds), and the longest wait for a redraw before the
#: next week is stepped anyway (a closed tab never draws).
PLAY_PAUSE_S = 0.05
REDRAW_WAIT_S = 10.0


@solara.component
def Controls(model: solara.Reactive[WorkshopModel], session: Session):
    """Reset, play/pause and Step. Playing steps, then waits until the page has drawn the week.

    Why not Mesa's ModelController: its play thread asks for a redraw and steps on without
    waiting. When that request arrives while a click is still being rendered, Solara runs it on
    the click's thread, which then re-renders week after week while holding its messages: the
    page froze until the run ended (issue 13, the stalled browser test). Waiting for each
    redraw keeps one render in flight, so every week reaches the browser, and a loaded server
    slows the play instead of freezing it.
    """
    playing = solara.use_reactive(False)
    running = model.value.running

    def advance(run: WorkshopModel, weeks: int) -> None:
        for _ in range(weeks):
            run.step()
        session.drawn.clear()
        session.redraw.value += 1

    def play() -> None:
        run = model.value
        while playing.value and run.running and model.value is run:
            time.sleep(PLAY_PAUSE_S)
            advance(run, session.weeks_per_redraw.value)
            session.drawn.wait(REDRAW_WAIT_S)
        if model.value is run:
            playing.value = False

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    def reset() -> None:
        playing.value = False
        model.value = session.new_model()

    with solara.Row(justify="space-between"):
        solara.Button("Reset", color="primary", on_click=reset)
        solara.Button("❚❚" if playing.value else "▶", color="primary",
                      on_click=lambda: playing.set(not playing.value), disabled=not running)
        solara.Button("Step", color="primary", on_click=lambda: advance(model.value, 1),
                      disabled=playing.value or not running)
    solara.SliderInt("Weeks per redraw while playing", value=session.weeks_per_redraw, min=1,
                     max=13)


@solara.component
def LeverInputs(session: Session):
    """The seed and every lever, bound to the session's values."""
    solara.SliderInt("Seed (same seed, same run)", value=session.inputs["seed"], min=1, max=100)
    for name, lever in LEVERS.items():
        value = session.inputs[name]
        if lever.kind == "select":
            solara.Select(lever.label, value=value, values=list(lever.values))
        elif lever.kind == "bool":
            solara.Checkbox(label=lever.label, value=value)
        elif lever.kind == "float":
            solara.SliderFloat(lever.label, value=value, min=lever.values[0],
                               max=lever.values[1], step=lever.values[2])
        else:
            solara.SliderInt(lever.label, value=value, min=lever.values[0],
                             max=lever.values[1], step=lever.values[2])


def _png(canvas: FigureCanvasAgg) -> bytes:
    buffer = io.BytesIO()
    PIL.Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]).save(
        buffer, format="png", compress_level=1)
    return buffer.getvalue()


class _Blitted:
    """A figure whose static parts are drawn once and whose data are blitted on top.

    ``scale`` enlarges the figure and its type together (projector mode uses 1.5).
    """

    def __init__(self, figsize: tuple[float, float], scale: float = 1.0) -> None:
        self.scale = scale
        self.fig = Figure(figsize=(figsize[0] * scale, figsize[1] * scale), dpi=72)
        self.canvas = FigureCanvasAgg(self.fig)
        self.dynamic: list[matplotlib.artist.Artist] = []
        self._background = None
        self._key: object = None

    def _animate(self, artist):
        artist.set_animated(True)
        self.dynamic.append(artist)
        return artist

    def _blit(self, key: object, redraw_static) -> bytes:
        if key != self._key or self._background is None:
            redraw_static()
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._key = key
        self.canvas.restore_region(self._background)
        for artist in self.dynamic:
            self.fig.draw_artist(artist)
        return _png(self.canvas)


class OutcomePlots(_Blitted):
    """The six live plots: mean over teams with a 95% CI band, and the last runs dashed."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__((8.6, 8.6), scale)
        size = 10 * scale
        self.fig.subplots_adjust(left=0.085, right=0.99, bottom=0.07, top=0.91, wspace=0.22,
                                 hspace=0.32)
        self.axes = list(self.fig.subplots(3, 2, sharex=True).flat)
        self.lines, self.bands = {}, {}
        self.history: list[list[Line2D]] = []  # per panel: one line per remembered run and series
        for ax, (title, ylabel, _, series, _) in zip(self.axes, PANELS, strict=True):
            for i, (column, label) in enumerate(series.items()):
                self.lines[column] = self._animate(
                    ax.plot([], [], color=f"C{i}", lw=2.0 if i == 0 else 1.2, label=label)[0])
                if i == 0:
                    self.bands[column] = self._animate(
                        ax.fill_between([0], [0], [0], color=f"C{i}", alpha=0.2, lw=0))
            self.history.append([ax.plot([], [], color=f"C{i}", ls=style, lw=1.1, alpha=0.75)[0]
                                 for style in HISTORY_STYLES for i in range(len(series))])
            ax.set_title(title, fontsize=size * 1.15)
            ax.set_ylabel(ylabel, fontsize=size * 0.9)
            ax.tick_params(labelsize=size * 0.9)
            ax.grid(alpha=0.3)
        for ax in self.axes[-2:]:
            ax.set_xlabel("week (one step = one week)", fontsize=size * 0.9)
        self.title = self._animate(self.fig.suptitle("", fontsize=size * 1.1))

    @staticmethod
    def _limits(tables: list[pd.DataFrame]) -> list[tuple[float, float]]:
        """Each panel's y range: its fixed range, widened in steps of 0.1 to fit the means."""
        limits = []
        for _, _, (lo, hi), series, _ in PANELS:
            values = np.concatenate([t[c].to_numpy() for t in tables for c in series]
                                    + [np.array([lo, hi])])
            values = values[np.isfinite(values)]
            limits.append((min(lo, np.floor(values.min() * 10) / 10),
                           max(hi, np.ceil(values.max() * 10) / 10)))
        return limits

    def render(self, frame: Frame, history: tuple[Frame, ...] = ()) -> bytes:
        """This week of ``frame``; ``history`` (newest first, up to 3) drawn in thin lines."""
        now, history = frame.table, tuple(history)[:len(HISTORY_STYLES)]
        limits = self._limits([t for t in [now, *(h.table for h in history)] if not t.empty])
        size = 10 * self.scale

        def redraw_static() -> None:
            for ax, lines, (lo, hi), (_, _, _, series, _) in zip(
                    self.axes, self.history, limits, PANELS, strict=True):
                handles = [self.lines[c] for c in series]
                for k, style in enumerate(HISTORY_STYLES):
                    before = history[k].table if k < len(history) else pd.DataFrame()
                    for i, column in enumerate(series):
                        line = lines[k * len(series) + i]
                        line.set_data(([], []) if before.empty else
                                      (before.index, before[column]))
                    if not before.empty:
                        handles.append(Line2D([], [], color="0.4", ls=style, lw=1.1,
                                              label=f"run -{k + 1}"))
                # Headroom above the data for the legend, in one or two rows at the top.
                wide = len(handles) > 3 or sum(len(h.get_label()) for h in handles) > 38
                rows = 2 if wide else 1
                ax.set(xlim=(0, frame.horizon),
                       ylim=(lo - 0.02, hi + (0.13 + 0.12 * rows) * (hi - lo)))
                ax.legend(handles=handles, fontsize=size * 0.8, loc="upper left",
                          ncols=-(-len(handles) // rows), handlelength=1.5, columnspacing=0.8,
                          borderaxespad=0.3)

        for column, line in self.lines.items():
            line.set_data(([], []) if now.empty else (now.index, now[column]))
        for column, band in self.bands.items():
            if not now.empty:
                mean, half = now[column].to_numpy(), now[f"{column}_ci"].to_numpy()
                band.set_data(now.index.to_numpy(), mean - half, mean + half)
        past = "; thin lines: the last runs (run -1 dashed)" if history else ""
        self.title.set_text(f"Week {frame.week} of {frame.horizon}. Lines: mean over "
                            f"{frame.n_teams} teams; bands: 95% CI{past}")
        return self._blit((tuple(id(h) for h in history), frame.horizon, tuple(limits)),
                          redraw_static)


class TeamPicture(_Blitted):
    """One team this week: posts round a circle, colour = practice, size = status, ties."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__((5.6, 5.8), scale)
        size = 10 * scale
        self.fig.subplots_adjust(left=0.02, right=0.9, bottom=0.12, top=0.93)
        self.ax = self.fig.subplots()
        self.ax.set(xlim=(-1.35, 1.35), ylim=(-1.35, 1.55), aspect="equal")  # room for labels
        self.ax.axis("off")
        self.ties = self._animate(self.ax.add_collection(LineCollection([], color="0.3")))
        self.people = {role: self._animate(self.ax.scatter([], [], marker=marker, zorder=3))
                       for role, marker in MARKERS.items()}
        self.vacant = self._animate(self.ax.scatter([], [], s=300, c="white", edgecolors="0.6",
                                                    linestyle=":", linewidths=1.5))
        self.title = self._animate(self.ax.set_title("", fontsize=size * 1.15))
        legend = [Line2D([], [], marker=m, ls="", color="0.5", ms=9, label=r)
                  for r, m in MARKERS.items()]
        legend += [Line2D([], [], marker="o", ls="", mfc="0.7", mec="black", mew=2, ms=9,
                          label="at the team meeting"),
                   Line2D([], [], marker="o", ls="", mfc="white", mec="0.5", mew=2, ms=9,
                          label="absent this week"),
                   Line2D([], [], marker="o", ls="", mfc="white", mec="0.6", ms=9,
                          label="vacant post")]
        self.fig.legend(handles=legend, loc="lower center", ncols=3, fontsize=size * 0.9,
                        frameon=False)
        bar = self.fig.colorbar(matplotlib.cm.ScalarMappable(cmap=PRACTICE_CMAP), ax=self.ax,
                                shrink=0.6, pad=0.07)
        bar.set_label("practice: 0 conventional .. 1 distinctive peer", fontsize=size * 0.9)
        bar.ax.tick_params(labelsize=size * 0.8)

    def render(self, frame: Frame, team: int, labels: tuple[str, ...] | None = None) -> bytes:
        """``labels``: one per post (empty: none); by default "PW" beside each PW post."""
        view = frame.teams[team]
        n = len(view.role)
        angle = np.pi / 2 - 2 * np.pi * np.arange(n) / n  # manager at the top, fixed places
        xy = np.column_stack([np.cos(angle), np.sin(angle)])
        i, j = np.triu_indices(n, 1)
        tie = np.where(view.occupied[i] & view.occupied[j], view.ties[i, j], 0.0)
        present, at_meeting = view.present, view.at_meeting
        if frame.week == 0:  # before the first week nobody's days are drawn yet
            present, at_meeting = view.occupied, np.zeros_like(view.occupied)
        self.ties.set_segments(np.stack([xy[i], xy[j]], axis=1))
        self.ties.set_linewidths(0.3 + 3 * tie)
        self.ties.set_alpha(None)
        self.ties.set_color([(0.3, 0.3, 0.3, a) for a in np.where(tie > 0.05, 0.1 + 0.6 * tie, 0)])
        for role, scatter in self.people.items():
            who = view.occupied & (view.role == role)
            colour = PRACTICE_CMAP(view.practice[who])
            scatter.set_offsets(xy[who] if who.any() else np.empty((0, 2)))
            scatter.set_sizes((150 + 900 * view.status[who]) * self.scale ** 2)
            scatter.set_facecolors(np.where(present[who, None], colour, (1, 1, 1, 1)))
            scatter.set_edgecolors(np.where(at_meeting[who, None], (0, 0, 0, 1), colour))
            scatter.set_linewidths(np.where(present[who], 2.5, 3.0))
        self.vacant.set_offsets(xy[~view.occupied] if (~view.occupied).any()
                                else np.empty((0, 2)))
        self.title.set_text(f"Team {team + 1}, week {frame.week}: size = standing, "
                            "lines = ties")
        if labels is None:
            labels = tuple("PW" if role == "PW" else "" for role in view.role)

        def redraw_static() -> None:
            for text in list(self.ax.texts):
                text.remove()
            gap = 19 * self.scale  # points: just beyond the largest marker
            for k, label in enumerate(labels):
                if label:  # outside the circle, running away from it
                    x, y = xy[k]
                    self.ax.annotate(
                        label, xy[k], xytext=(gap * x, gap * y), textcoords="offset points",
                        ha="left" if x > 0.3 else "right" if x < -0.3 else "center",
                        va="bottom" if y > 0.5 else "top" if y < -0.5 else "center",
                        fontsize=9 * self.scale, fontweight="bold")

        return self._blit((n, labels), redraw_static)


def monitor_values(frame: Frame) -> dict[str, float]:
    """The headline outcomes this week (mean over teams), NaN before the first week."""
    if frame.table.empty:
        return {column: float("nan") for column, _, _ in MONITORS}
    last = frame.table.iloc[-1]
    return {column: float(last[column]) for column, _, _ in MONITORS}


def _number(value: float, fmt: str) -> str:
    return "-" if not np.isfinite(value) else fmt.format(value)


@solara.component
def Monitors(frame: Frame, previous: Frame | None):
    """Numbers for the headline outcomes this week, and where the previous run ended."""
    now = monitor_values(frame)
    before = monitor_values(previous) if previous is not None else None
    with solara.Row(gap="8px", style={"flex-wrap": "wrap"}, classes=["monitors"]):
        for column, label, fmt in MONITORS:
            with solara.Card(classes=["monitor"], margin=0):
                solara.Text(label)
                solara.HTML(tag="div", unsafe_innerHTML=_number(now[column], fmt),
                            classes=["monitor-value", f"monitor-{column}"])
                if before is not None:
                    solara.Text(f"previous run: {_number(before[column], fmt)}")


@solara.component
def Outcomes(model: WorkshopModel, session: Session, projector: bool):
    session.redraw.get()
    memory = session.memory
    scale = 1.5 if projector else 1.0
    plots = solara.use_memo(lambda: OutcomePlots(scale), [scale])
    frame = model.frame()
    history = tuple(m.frame() for m in memory.history if m is not model)
    png = solara.use_memo(lambda: plots.render(frame, history), [plots, frame, history])
    solara.Text(f"This run: {model.label}, week {frame.week}", classes=["run-label"])
    Monitors(frame, history[0] if history else None)
    solara.Image(png, width="100%", classes=["outcome-plots"])
    slug = f"peer-work-{model.preset}-seed{model.seed_value}-week{frame.week}"
    with solara.Row():
        solara.FileDownload(lambda: frame_csv(frame), filename=f"{slug}.csv",
                            label="Download this run (CSV)")
        solara.FileDownload(lambda: png, filename=f"{slug}.png", label="Download the plots (PNG)")
    with solara.Details("What the plots mean", expand=projector):
        for title, _, _, _, note in PANELS:
            with solara.Div(classes=["panel-note"]):
                _note(f"{title}.", note)
    solara.use_effect(session.drawn.set)  # after every render: the play may step on


def _note(lead: str, text: str) -> None:
    """A bold lead-in and its explanation. Plain elements, not ``solara.Markdown``: Markdown
    loads KaTeX from a CDN path that solara-assets does not ship, which breaks offline use."""
    solara.HTML(tag="b", unsafe_innerHTML=lead)  # our own fixed text, never user input
    solara.Text(" " + text)


@solara.component
def TeamPanel(model: WorkshopModel, session: Session, projector: bool):
    session.redraw.get()
    scale = 1.5 if projector else 1.0
    picture = solara.use_memo(lambda: TeamPicture(scale), [scale])
    team = solara.use_reactive(1)
    frame = model.frame()
    shown = min(team.value, frame.n_teams) - 1
    solara.SliderInt("Team shown", value=team, min=1, max=frame.n_teams)
    png = solara.use_memo(lambda: picture.render(frame, shown), [picture, frame, shown])
    solara.Image(png, width="100%", classes=["team-view"])
    with solara.Div(classes=["panel-note"]):
        solara.Text("Colour: practice (blue conventional, red peer). Size: standing in the "
                    "team. Black outline: at this week's team meeting. Hollow: absent all "
                    "week. Dotted: vacant post. Lines: working ties, thicker = stronger.")


@solara.component
def Page():
    """One browser session: its own inputs, model, figures and memory of the last runs."""
    session = solara.use_memo(Session, [])
    model = solara.use_reactive(solara.use_memo(session.new_model, []))
    projector = session.projector.value
    solara.Style(CSS + (PROJECTOR_CSS if projector else ""))
    with solara.AppBar():
        solara.AppBarTitle("Peer Workers joining mental health teams")
    with solara.Sidebar(), solara.Column(gap="8px"):
        with solara.Card("Run"):
            Controls(model, session)
            solara.Text(f"Reset starts: {session.next_label()}", classes=["next-run"])
        with solara.Card("Preset"), solara.Column(gap="8px"):
            solara.Switch(label="Projector mode (large type and plots)", value=session.projector)
            solara.Select("Preset", value=session.preset, values=list(PRESETS),
                          on_value=session.choose)
            solara.Text(PRESETS[session.preset.value])
            solara.Text("Choosing a preset sets the levers under Model Parameters to its values. "
                        "Change them if you like, then press RESET to start a new run.")
            with solara.Details("What the levers mean"):
                for name, note in LEVER_NOTES.items():
                    with solara.Div(classes=["panel-note"]):
                        _note(f"{LEVERS[name].label}:", note)
        with solara.Card("Model Parameters"):
            LeverInputs(session)
    with solara.Column() if projector else solara.Columns([2, 1]):  # projector: one above the other
        Outcomes(model.value, session, projector)
        TeamPanel(model.value, session, projector)


# Pages: the workshop (this module), the planner (sim/app_planner.py) and the participatory
# room (sim/app_room_page.py).
from sim.app_planner import PlannerPage  # noqa: E402
from sim.app_room_page import FacilitatorPage, ParticipantPage  # noqa: E402

routes = [solara.Route(path="/", component=Page, label="Workshop"),
          solara.Route(path="planner", component=PlannerPage, label="Planner"),
          solara.Route(path="facilitator", component=FacilitatorPage, label="Room (facilitator)"),
          solara.Route(path="room", component=ParticipantPage, label="Room (join)")]
