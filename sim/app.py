"""Workshop app: choose a preset, pull the levers, watch the team and its outcomes week by week.

Run it with ``make app`` (``solara run sim/app.py --host 127.0.0.1 --port 8765``) and open
http://127.0.0.1:8765. It needs no internet access: Solara's JavaScript and CSS come from the
``solara-assets`` package. The facilitator's guide is ``docs/workshop.md``.

This module only draws (like ``app.py`` in Mesa's examples): Mesa's ``SolaraViz`` gives the
controls (Reset, play/pause, Step) and the lever inputs; ``sim.app_model`` turns the preset and
the levers into a model and reads what is drawn. Every browser session builds its own model and
figures in ``Page``; nothing is shared between sessions at module level.

The figures are kept between weeks and redrawn by blitting (axes, ticks, legends and the
previous run are drawn once; each week only the data are drawn on top), so a week's redraw
costs a few tens of milliseconds.
"""

from __future__ import annotations

import io
import logging

import matplotlib
import numpy as np
import pandas as pd
import PIL.Image
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import update_counter

from sim.app_model import (
    LEVERS,
    PRESETS,
    RunMemory,
    WorkshopModel,
    preset_levers,
    team_view,
    weekly,
)

logging.getLogger("MESA").setLevel(logging.WARNING)

#: Live plots: title, y label, the y range always shown, and series (column -> label).
#: The first series of a panel has a 95% CI band over teams and the previous run in grey.
PANELS = (
    ("Distinctiveness of PW practice", "practice (0 conventional .. 1 peer)", (-0.1, 0.9),
     {"distinctiveness": "PW minus staff", "pw_practice": "PWs", "staff_practice": "staff"}),
    ("Expectation gap", "|PW expectation - team belief|", (0.0, 0.4),
     {"expectation_gap": "expectation gap", "pw_role_ambiguity": "PW role ambiguity"}),
    ("Status gap, ties and valuation", "0..1", (0.0, 0.8),
     {"status_gap": "status gap (staff - PW)", "pw_integration": "PW ties to team",
      "pw_valued_by_users": "PW valued by users"}),
    ("Strain", "strain (0 = none)", (0.0, 1.0),
     {"pw_strain": "PWs", "staff_strain": "non-peer staff"}),
    ("Retention", "PWs per team", (0.0, 2.5),
     {"pw_in_post": "PWs in post", "pw_leavers_so_far": "PWs who left (total)"}),
    ("Service-user benefit", "mean recovery (0..1)", (0.4, 0.6),
     {"user_recovery": "recovery"}),
)
PREVIOUS = {"color": "0.5", "ls": "--", "lw": 1.2, "label": "previous run"}
PRACTICE_CMAP = matplotlib.colormaps["coolwarm"]  # blue conventional .. red distinctive peer
MARKERS = {"manager": "s", "staff": "o", "PW": "D"}
#: Show every slider's value all the time (Vuetify shows it only while dragging).
CSS = """
.v-slider__thumb-label-container { display: block !important; }
.v-input__slider { margin-top: 28px; }
"""


class Session:
    """One browser session's inputs: the preset, the seed and every lever, each a reactive value.

    The sidebar's inputs are bound to these values, so choosing a preset can set every lever to
    the preset's value; Reset builds the next model from them (``WorkshopModel(inputs=...)``).
    """

    def __init__(self) -> None:
        self.memory = RunMemory()
        self.preset = solara.reactive("london")
        self.inputs = {"seed": solara.reactive(1)}
        for name, value in preset_levers(self.preset.value).items():
            self.inputs[name] = solara.reactive(value)
        self.model_params = self._model_params()

    def choose(self, preset: str) -> None:
        """Set every lever to the preset's value (the seed is kept)."""
        for name, value in preset_levers(preset).items():
            self.inputs[name].value = value

    def values(self) -> dict:
        """What the sidebar shows now: preset, seed and levers."""
        return {"preset": self.preset.value} | {k: v.value for k, v in self.inputs.items()}

    def new_model(self) -> WorkshopModel:
        return WorkshopModel(inputs=self.values, memory=self.memory)

    def _model_params(self) -> dict:
        """SolaraViz's inputs, bound to this session's values, and its fixed arguments."""
        params: dict = {"inputs": self.values, "memory": self.memory,
                        "seed": Slider("Seed (same seed, same run)", self.inputs["seed"], 1, 100,
                                       1, dtype=int)}
        for name, lever in LEVERS.items():
            value = self.inputs[name]
            if lever.kind == "select":
                params[name] = {"type": "Select", "value": value, "values": list(lever.values),
                                "label": lever.label}
            elif lever.kind == "bool":
                params[name] = {"type": "Checkbox", "value": value, "label": lever.label}
            else:
                kind = float if lever.kind == "float" else int
                params[name] = Slider(lever.label, value, *lever.values, dtype=kind)
        return params


def _png(canvas: FigureCanvasAgg) -> bytes:
    buffer = io.BytesIO()
    PIL.Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]).save(
        buffer, format="png", compress_level=1)
    return buffer.getvalue()


class _Blitted:
    """A figure whose static parts are drawn once and whose data are blitted on top."""

    def __init__(self, figsize: tuple[float, float]) -> None:
        self.fig = Figure(figsize=figsize, dpi=72)
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
    """The six live plots: mean over teams with a 95% CI band, and the previous run in grey."""

    def __init__(self) -> None:
        super().__init__((8.6, 8.6))
        self.fig.subplots_adjust(left=0.08, right=0.99, bottom=0.06, top=0.92, wspace=0.22,
                                 hspace=0.28)
        self.axes = list(self.fig.subplots(3, 2, sharex=True).flat)
        self.lines, self.bands, self.previous = {}, {}, []
        for ax, (title, ylabel, _, series) in zip(self.axes, PANELS, strict=True):
            for i, (column, label) in enumerate(series.items()):
                self.lines[column] = self._animate(
                    ax.plot([], [], color=f"C{i}", lw=2.0 if i == 0 else 1.2, label=label)[0])
                if i == 0:
                    self.bands[column] = self._animate(
                        ax.fill_between([0], [0], [0], color=f"C{i}", alpha=0.2, lw=0))
            self.previous.append(ax.plot([], [], **PREVIOUS)[0])
            ax.set(title=title, ylabel=ylabel)
            ax.grid(alpha=0.3)
        for ax in self.axes[-2:]:
            ax.set_xlabel("week")
        self.title = self._animate(self.fig.suptitle("", fontsize=12))

    @staticmethod
    def _limits(tables: list[pd.DataFrame]) -> list[tuple[float, float]]:
        """Each panel's y range: its fixed range, widened in steps of 0.1 to fit the means."""
        limits = []
        for _, _, (lo, hi), series in PANELS:
            values = np.concatenate([t[c].to_numpy() for t in tables for c in series]
                                    + [np.array([lo, hi])])
            values = values[np.isfinite(values)]
            limits.append((min(lo, np.floor(values.min() * 10) / 10),
                           max(hi, np.ceil(values.max() * 10) / 10)))
        return limits

    def render(self, model: WorkshopModel, previous: WorkshopModel | None) -> bytes:
        now = weekly(model)
        before = weekly(previous) if previous is not None else pd.DataFrame()
        horizon = model.params.organisation.horizon_weeks
        limits = self._limits([t for t in (now, before) if not t.empty])

        def redraw_static() -> None:
            for ax, line, (lo, hi), (_, _, _, series) in zip(self.axes, self.previous, limits,
                                                              PANELS, strict=True):
                column = next(iter(series))
                if before.empty:
                    line.set_data([], [])
                else:
                    line.set_data(before.index, before[column])
                # Headroom above the data for the legend, in one or two rows at the top.
                handles = [self.lines[c] for c in series] + ([line] if not before.empty else [])
                wide = len(handles) > 3 or sum(len(h.get_label()) for h in handles) > 38
                rows = 2 if wide else 1
                ax.set(xlim=(0, horizon), ylim=(lo - 0.02, hi + (0.13 + 0.12 * rows) * (hi - lo)))
                ax.legend(handles=handles, fontsize=8.5, loc="upper left",
                          ncols=-(-len(handles) // rows), handlelength=1.5, columnspacing=0.8,
                          borderaxespad=0.3)

        for column, line in self.lines.items():
            if now.empty:
                line.set_data([], [])
            else:
                line.set_data(now.index, now[column])
        for column, band in self.bands.items():
            if not now.empty:
                mean, half = now[column].to_numpy(), now[f"{column}_ci"].to_numpy()
                band.set_data(now.index.to_numpy(), mean - half, mean + half)
        n_teams = model.params.organisation.n_teams
        self.title.set_text(f"Week {model.week} of {horizon}. Lines: mean over {n_teams} teams; "
                            "bands: 95% CI; grey dashes: previous run")
        return self._blit((id(previous), horizon, tuple(limits)), redraw_static)


class TeamPicture(_Blitted):
    """One team this week: posts round a circle, colour = practice, size = status, ties."""

    def __init__(self) -> None:
        super().__init__((5.6, 5.8))
        self.fig.subplots_adjust(left=0.02, right=0.9, bottom=0.12, top=0.93)
        self.ax = self.fig.subplots()
        self.ax.set(xlim=(-1.35, 1.35), ylim=(-1.35, 1.35), aspect="equal")
        self.ax.axis("off")
        self.ties = self._animate(self.ax.add_collection(LineCollection([], color="0.3")))
        self.people = {role: self._animate(self.ax.scatter([], [], marker=marker, zorder=3))
                       for role, marker in MARKERS.items()}
        self.vacant = self._animate(self.ax.scatter([], [], s=300, c="white", edgecolors="0.6",
                                                    linestyle=":", linewidths=1.5))
        self.title = self._animate(self.ax.set_title("", fontsize=12))
        legend = [Line2D([], [], marker=m, ls="", color="0.5", ms=9, label=r)
                  for r, m in MARKERS.items()]
        legend += [Line2D([], [], marker="o", ls="", mfc="0.7", mec="black", mew=2, ms=9,
                          label="at the team meeting"),
                   Line2D([], [], marker="o", ls="", mfc="white", mec="0.5", mew=2, ms=9,
                          label="absent this week"),
                   Line2D([], [], marker="o", ls="", mfc="white", mec="0.6", ms=9,
                          label="vacant post")]
        self.fig.legend(handles=legend, loc="lower center", ncols=3, fontsize=9,
                        frameon=False)
        self.fig.colorbar(matplotlib.cm.ScalarMappable(cmap=PRACTICE_CMAP), ax=self.ax,
                          shrink=0.6, pad=0.01,
                          label="practice: 0 conventional .. 1 distinctive peer")

    def render(self, model: WorkshopModel, team: int) -> bytes:
        view = team_view(model, team)
        n = len(view.role)
        angle = np.pi / 2 - 2 * np.pi * np.arange(n) / n  # manager at the top, fixed places
        xy = np.column_stack([np.cos(angle), np.sin(angle)])
        i, j = np.triu_indices(n, 1)
        tie = np.where(view.occupied[i] & view.occupied[j], view.ties[i, j], 0.0)
        if model.week == 0:  # before the first week nobody's days are drawn yet
            view.present, view.at_meeting = view.occupied, np.zeros_like(view.occupied)
        self.ties.set_segments(np.stack([xy[i], xy[j]], axis=1))
        self.ties.set_linewidths(0.3 + 3 * tie)
        self.ties.set_alpha(None)
        self.ties.set_color([(0.3, 0.3, 0.3, a) for a in np.where(tie > 0.05, 0.1 + 0.6 * tie, 0)])
        for role, scatter in self.people.items():
            who = view.occupied & (view.role == role)
            colour = PRACTICE_CMAP(view.practice[who])
            scatter.set_offsets(xy[who] if who.any() else np.empty((0, 2)))
            scatter.set_sizes(150 + 900 * view.status[who])
            scatter.set_facecolors(np.where(view.present[who, None], colour, (1, 1, 1, 1)))
            scatter.set_edgecolors(np.where(view.at_meeting[who, None], (0, 0, 0, 1), colour))
            scatter.set_linewidths(np.where(view.present[who], 2.5, 3.0))
        self.vacant.set_offsets(xy[~view.occupied] if (~view.occupied).any()
                                else np.empty((0, 2)))
        self.title.set_text(f"Team {team + 1}, week {model.week}: size = status, "
                            "lines = ties")
        pw_slots = tuple(np.nonzero(view.role == "PW")[0])

        def redraw_static() -> None:
            for text in list(self.ax.texts):
                text.remove()
            for k in pw_slots:
                self.ax.annotate("PW", xy[k] * 1.2, ha="center", va="center", fontsize=10,
                                 fontweight="bold")

        return self._blit((n, pw_slots), redraw_static)


@solara.component
def Outcomes(model: WorkshopModel, memory: RunMemory):
    update_counter.get()
    plots = solara.use_memo(OutcomePlots, [])
    previous = memory.previous if memory.previous is not model else None
    png = solara.use_memo(lambda: plots.render(model, previous), [model, model.week, previous])
    solara.Text(f"This run: {model.label}, week {model.week}", classes=["run-label"])
    solara.Image(png, width="100%", classes=["outcome-plots"])


@solara.component
def TeamPanel(model: WorkshopModel):
    update_counter.get()
    picture = solara.use_memo(TeamPicture, [])
    team = solara.use_reactive(1)
    n_teams = model.params.organisation.n_teams
    shown = min(team.value, n_teams) - 1
    solara.SliderInt("Team shown", value=team, min=1, max=n_teams)
    png = solara.use_memo(lambda: picture.render(model, shown), [model, model.week, shown])
    solara.Image(png, width="100%", classes=["team-view"])


@solara.component
def Page():
    """One browser session: its own inputs, model, figures and memory of the previous run."""
    session = solara.use_memo(Session, [])
    model = solara.use_reactive(solara.use_memo(session.new_model, []))
    solara.Style(CSS)
    with solara.Sidebar(), solara.Card("Preset"), solara.Column(gap="8px"):
        solara.Select("Preset", value=session.preset, values=list(PRESETS),
                      on_value=session.choose)
        solara.Text(PRESETS[session.preset.value])
        solara.Text("Choosing a preset sets the levers under Model Parameters to its values. "
                    "Change them if you like, then press RESET to start a new run.")
    SolaraViz(model, components=[], model_params=session.model_params, play_interval=50,
              name="Peer Workers joining mental health teams")
    with solara.Columns([3, 2]):
        Outcomes(model.value, session.memory)
        TeamPanel(model.value)


# Pages: the workshop (this module) and the planner page (sim/app_planner.py).
from sim.app_planner import PlannerPage  # noqa: E402

routes = [solara.Route(path="/", component=Page, label="Workshop"),
          solara.Route(path="planner", component=PlannerPage, label="Planner")]
