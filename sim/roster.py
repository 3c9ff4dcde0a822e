"""A planner's own team, written in a spreadsheet: roster and team facts (``docs/planning.md``).

A *team file* is an XLSX workbook (sheets ``roster`` and ``team facts``) or a CSV file (the
roster table, a blank line, then a ``fact,value`` table). One roster row per person: role,
profession, hours a week or FTE, working days, whether they attend the team meeting, and
whether they supervise the PWs. Team facts: caseload, meeting days, sector, recruitment,
training, a co-produced role definition, a peer network, ... ``python -m sim.compare template
my_team.xlsx`` (or ``.csv``) writes a template with a comment on every column and fact.

:func:`read_team_file` checks every cell and raises :class:`TeamFileError` (a ``ConfigError``:
exit status 2) naming the file, the row and column, the value and what is allowed.
:func:`team_overrides` turns a team (and a design's changes, :func:`apply_design`) into model
overrides: the team's size and mix come from the roster, each person keeps their own FTE and
days (``team.roster``), and the PWs' supervisor's profession becomes a supervision arrangement
(:data:`SUPERVISION_BY_PROFESSION`; docs/ODD.md section 7.4).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.agents import PROFESSIONS, WEEKDAYS
from sim.params import ConfigError
from sim.rules.working_patterns import FULL_TIME_HOURS, days_per_week

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri")
ROLES = {"manager": "manager", "staff": "nonpeer", "peer worker": "peer_worker"}
STAFF_PROFESSIONS = tuple(p.replace("_", " ") for p in PROFESSIONS[1:-1])
#: Who supervises the PWs -> the model's supervision arrangement. Evidence: Gillard et al. 2013
#: (all three NHS cases: supervision by a clinician of the team, holding protective,
#: professionally defined boundaries); Alberta & Ploski 2014 (supervision by clinicians in
#: treatment organisations pulls peer work toward clinical practice; supervision by
#: experienced peers keeps it distinct). A team manager or support worker supervising is mapped
#: to clinical (assumption: their supervision follows the team's clinical governance); a peer
#: and a clinician together are "mixed" (assumption).
SUPERVISION_BY_PROFESSION = {"manager": "clinical", "psychiatrist": "clinical",
                             "psychologist": "clinical", "nurse": "clinical",
                             "social_worker": "clinical", "occupational_therapist": "clinical",
                             "support_worker": "clinical", "peer_worker": "peer"}
#: Manager championing in planner words -> team.manager_champion_effort (the model's default
#: 0.6 is "medium"; 0.3 and 0.9 are the ends of the range compare samples when it is unknown).
CHAMPIONING = {"low": 0.3, "medium": 0.6, "high": 0.9}

ROSTER_COLUMNS = {
    "name": "optional: a label for the person (not used by the model)",
    "role": "manager, staff or peer worker (one manager per team)",
    "profession": "for staff: " + ", ".join(STAFF_PROFESSIONS) + " (leave empty for the "
                  "manager and peer workers)",
    "hours_per_week": f"contracted hours a week, up to {FULL_TIME_HOURS:g} (or fill fte)",
    "fte": "or: fraction of full time, 0.05 to 1 (fill hours_per_week or fte, not both)",
    "working_days": "days worked, e.g. Mon Tue Thu or Mon-Fri; peer workers may say flexible "
                    "(days arranged week by week)",
    "attends_team_meeting": "yes or no; yes needs a meeting day among the working days",
    "supervises_pws": "yes if this person supervises the peer workers (a senior peer worker "
                      "counts as peer supervision)",
}


@dataclass(frozen=True)
class Fact:
    kind: str  # int, days, choice, yes_no, championing
    comment: str
    example: str
    choices: tuple[str, ...] = ()
    low: int = 0
    high: int = 0


TEAM_FACTS = {
    "caseload": Fact("int", "service users on the team's caseload", "45", low=1, high=500),
    "meeting_days": Fact("days", "days of the weekly team meeting, e.g. Tue or Mon Thu", "Tue"),
    "sector": Fact("choice", "nhs, voluntary or partnership", "nhs",
                   ("nhs", "voluntary", "partnership")),
    "recruitment": Fact("choice", "formal (role description, lived experience essential, a peer "
                        "on the panel) or informal (staff nominate someone they know)",
                        "informal", ("formal", "informal")),
    "training": Fact("choice", "PW training: conventional (risk-focused) or peer (peer-specific)",
                     "conventional", ("conventional", "peer")),
    "training_sessions": Fact("int", "PW training sessions at the start", "8", low=0, high=100),
    "whole_team_training": Fact("yes_no", "yes if the staff were trained about the PW role",
                                "no"),
    "coproduced_role_definition": Fact("yes_no", "yes if PWs, staff and managers agreed what "
                                       "peer practice is", "no"),
    "peer_network": Fact("yes_no", "yes if PWs meet PWs of other teams", "no"),
    "pws_paid": Fact("yes_no", "yes if PWs are paid (no: volunteers)", "yes"),
    "supervision_every_weeks": Fact("int", "weeks between PW supervision sessions", "4",
                                    low=1, high=52),
    "pw_supervisor_outside_team": Fact(
        "choice", "only if nobody on the roster supervises the PWs: peer or clinical",
        "", ("peer", "clinical")),
    "manager_championing": Fact(
        "championing", "optional: how much the manager champions the PW role, low, medium or "
        "high (empty: unknown, the comparison samples it)", "", ("low", "medium", "high")),
}
REQUIRED_FACTS = ("caseload", "meeting_days", "sector", "recruitment")


class TeamFileError(ConfigError):
    """A bad cell of a team file: file, row and column, the value and what is allowed."""

    def __init__(self, path: Path | str, where: str, value: Any, allowed: str) -> None:
        self.path, self.where = str(path), where
        self.key, self.value, self.allowed = f"{path}: {where}", value, allowed
        ValueError.__init__(self, f"{path}, {where}: {value!r} is not allowed; allowed: {allowed}")


@dataclass
class Person:
    name: str
    role: str  # manager | nonpeer | peer_worker
    profession: str  # one of PROFESSIONS
    fte: float
    days: list[int]  # [] = flexible
    attends_team_meeting: bool
    supervises_pws: bool


@dataclass
class Team:
    """A planner's team: the people and the facts, as read from a team file."""

    people: list[Person]
    caseload: int
    meeting_days: list[int]
    sector: str
    recruitment: str
    training: str = "conventional"
    training_sessions: int = 8
    whole_team_training: bool = False
    coproduced_role_definition: bool = False
    peer_network: bool = False
    pws_paid: bool = True
    supervision_every_weeks: int = 4
    pw_supervisor_outside_team: str = ""
    manager_championing: float | None = None
    source: str = ""

    @property
    def peer_workers(self) -> list[Person]:
        return [p for p in self.people if p.role == "peer_worker"]

    def supervisor(self) -> str:
        """The supervision arrangement the PWs' supervisor(s) make (SUPERVISION_BY_PROFESSION)."""
        kinds = {SUPERVISION_BY_PROFESSION[p.profession] for p in self.people if p.supervises_pws}
        if self.pw_supervisor_outside_team:
            kinds.add(self.pw_supervisor_outside_team)
        return "mixed" if len(kinds) > 1 else next(iter(kinds))


# --- reading -------------------------------------------------------------------------------

def norm(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value if value is not None else "").strip().replace("_", " "
                                                                                       )).lower()


def parse_days(text: str) -> list[int] | None:
    """'Mon Tue Thu', 'Mon-Fri', 'mon, wed' -> weekday indices; None if not days."""
    days: list[int] = []
    for part in re.split(r"[\s,;/]+", text.strip()):
        if not part:
            continue
        ends = part.split("-")
        try:
            idx = [DAY_NAMES.index(e[:3].title()) for e in ends]
        except ValueError:
            return None
        if len(idx) == 2 and idx[0] <= idx[1]:
            days += range(idx[0], idx[1] + 1)
        elif len(idx) == 1:
            days.append(idx[0])
        else:
            return None
    return sorted(set(days)) if days else None


def day_text(days: list[int]) -> str:
    return " ".join(DAY_NAMES[d] for d in days) if days else "flexible"


def yes_no(value: str) -> bool | None:
    return {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}.get(
        norm(value))


def number(value: Any) -> float | None:
    try:
        result = float(str(value).strip())
    except ValueError:
        return None
    return result if result == result else None


def read_team_file(path: Path | str) -> Team:
    """Read and check a team file (``.xlsx`` or ``.csv``)."""
    path = Path(path)
    if not path.is_file():
        raise TeamFileError(path, "file", str(path), "an existing .xlsx or .csv team file "
                            "(write one with: python -m sim.compare template my_team.xlsx)")
    if path.suffix.lower() == ".xlsx":
        roster, facts = read_xlsx(path)
    elif path.suffix.lower() == ".csv":
        roster, facts = read_csv(path)
    else:
        raise TeamFileError(path, "file", path.suffix, ".xlsx or .csv")
    return parse_team(path, roster, facts)


Rows = list[tuple[int, list[Any]]]  # (row number as the spreadsheet shows it, cells)


def read_xlsx(path: Path) -> tuple[Rows, Rows]:
    import openpyxl  # imported here: only team files need it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a file that is not a workbook
        raise TeamFileError(path, "file", path.name, f"an Excel workbook ({err})") from None
    sheets = {norm(name): book[name] for name in book.sheetnames}
    for needed in ("roster", "team facts"):
        if needed not in sheets:
            raise TeamFileError(path, "sheets", book.sheetnames, "sheets 'roster' and "
                                "'team facts' (as in the template)")

    def rows(sheet: Any) -> Rows:
        return [(i, ["" if c is None else c for c in row])
                for i, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    return rows(sheets["roster"]), rows(sheets["team facts"])


def read_csv(path: Path) -> tuple[Rows, Rows]:
    roster: Rows = []
    facts: Rows = []
    target = roster
    for i, row in enumerate(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))),
                            start=1):
        if row and norm(row[0]) == "fact":
            target = facts
        target.append((i, row))
    return roster, facts


def meaningful(rows: Rows) -> Rows:
    """Rows without comment lines (first cell starting with #) and blank rows."""
    return [(i, r) for i, r in rows
            if any(str(c).strip() for c in r) and not str(r[0]).strip().startswith("#")]


def parse_team(path: Path, roster_rows: Rows, fact_rows: Rows) -> Team:
    roster_rows = meaningful(roster_rows)
    if not roster_rows:
        raise TeamFileError(path, "roster", "(empty)", "a header row: " + ", ".join(
            ROSTER_COLUMNS))
    header_row, header = roster_rows[0]
    columns = {norm(c).replace(" ", "_"): j for j, c in enumerate(header) if str(c).strip()}
    for name in ROSTER_COLUMNS:
        if name not in columns:
            raise TeamFileError(path, f"roster row {header_row}", list(map(str, header)),
                                f"a header with the columns {', '.join(ROSTER_COLUMNS)} "
                                f"(missing: {name})")
    people = [parse_person(path, i, {k: (r[j] if j < len(r) else "") for k, j in
                                     columns.items()}) for i, r in roster_rows[1:]]
    facts = parse_facts(path, meaningful(fact_rows))
    team = Team(people=people, source=str(path), **facts)
    check_team(path, team, roster_rows)
    return team


def parse_person(path: Path, row: int, cells: dict[str, Any]) -> Person:
    def bad(column: str, allowed: str) -> TeamFileError:
        return TeamFileError(path, f"roster row {row}, column {column}", cells[column], allowed)

    role = ROLES.get(norm(cells["role"]))
    if role is None:
        raise bad("role", "manager, staff or peer worker")
    profession = norm(cells["profession"])
    if role == "nonpeer":
        if profession not in STAFF_PROFESSIONS:
            raise bad("profession", ", ".join(STAFF_PROFESSIONS))
        profession = profession.replace(" ", "_")
    elif profession and profession != norm(role):
        raise bad("profession", f"empty for a {norm(role)} (the role is the profession)")
    else:
        profession = role
    hours, fte = (str(cells[c]).strip() for c in ("hours_per_week", "fte"))
    if bool(hours) == bool(fte):
        raise bad("hours_per_week", "hours a week or an fte, one of the two")
    low = 0.05 * FULL_TIME_HOURS
    if hours:
        value = number(hours)
        if value is None or not low <= value <= FULL_TIME_HOURS:
            raise bad("hours_per_week", f"a number of hours from {low:g} to {FULL_TIME_HOURS:g}")
        fte_value = value / FULL_TIME_HOURS
    else:
        value = number(fte)
        if value is None or not 0.05 <= value <= 1.0:
            raise bad("fte", "a number from 0.05 to 1 (1 = full time)")
        fte_value = value
    text = str(cells["working_days"])
    days = [] if norm(text) == "flexible" else parse_days(text)
    if days is None or (not days and role != "peer_worker"):
        raise bad("working_days", "days such as Mon Tue Thu or Mon-Fri"
                  + (", or flexible" if role == "peer_worker" else ""))
    attends, supervises = (yes_no(cells[c]) for c in ("attends_team_meeting", "supervises_pws"))
    if attends is None:
        raise bad("attends_team_meeting", "yes or no")
    if supervises is None:
        raise bad("supervises_pws", "yes or no")
    return Person(str(cells["name"]).strip(), role, profession, round(fte_value, 6), days,
                  attends, supervises)


def parse_facts(path: Path, rows: Rows) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for row, cells in rows:
        key = norm(cells[0]).replace(" ", "_")
        if key == "fact":
            continue
        raw = str(cells[1]).strip() if len(cells) > 1 else ""
        if key not in TEAM_FACTS:
            raise TeamFileError(path, f"team facts row {row}, column fact", cells[0],
                                ", ".join(TEAM_FACTS))
        fact = TEAM_FACTS[key]
        if not raw:
            continue

        def bad(allowed: str, fact_key: str = key, raw_value: str = raw, at: int = row
                ) -> TeamFileError:
            return TeamFileError(path, f"team facts row {at} ({fact_key}), column value",
                                 raw_value, allowed)
        if fact.kind == "int":
            value = number(raw)
            if value is None or value != int(value) or not fact.low <= value <= fact.high:
                raise bad(f"a whole number from {fact.low} to {fact.high}")
            values[key] = int(value)
        elif fact.kind == "days":
            days = parse_days(raw)
            if not days:
                raise bad("days such as Tue or Mon Thu")
            values[key] = days
        elif fact.kind == "yes_no":
            if yes_no(raw) is None:
                raise bad("yes or no")
            values[key] = yes_no(raw)
        elif norm(raw) not in fact.choices:
            raise bad(", ".join(fact.choices))
        else:
            values[key] = CHAMPIONING[norm(raw)] if fact.kind == "championing" else norm(raw)
    for key in REQUIRED_FACTS:
        if key not in values:
            raise TeamFileError(path, "team facts", f"(no {key})",
                                f"a row '{key}' with {TEAM_FACTS[key].comment}")
    return values


def check_team(path: Path, team: Team, rows: Rows) -> None:
    """Whole-team checks, each naming the row it is about."""
    row_of = {id(p): i for p, (i, _) in zip(team.people, rows[1:], strict=True)}
    managers = [p for p in team.people if p.role == "manager"]
    if len(managers) != 1:
        raise TeamFileError(path, "roster, column role", [p.role for p in managers] or
                            "(no manager)", "exactly one manager")
    n_staff = sum(p.role == "nonpeer" for p in team.people)
    if not 1 <= n_staff <= 40:
        raise TeamFileError(path, "roster, column role", f"{n_staff} staff", "1 to 40 staff")
    if not 1 <= len(team.peer_workers) <= 10:
        raise TeamFileError(path, "roster, column role", f"{len(team.peer_workers)} peer "
                            "workers", "1 to 10 peer workers")
    for p in team.people:
        works_meeting_day = not p.days or bool(set(p.days) & set(team.meeting_days))
        if p.attends_team_meeting and not works_meeting_day:
            raise TeamFileError(path, f"roster row {row_of[id(p)]}, column attends_team_meeting",
                                "yes", f"no, or working days that include a meeting day "
                                f"({day_text(team.meeting_days)})")
        if not p.attends_team_meeting and p.days and works_meeting_day:
            raise TeamFileError(path, f"roster row {row_of[id(p)]}, column attends_team_meeting",
                                "no", "yes when the working days include a meeting day (the "
                                "model has everyone at work on a meeting day attend)")
    supervisors = [p for p in team.people if p.supervises_pws]
    if not supervisors and not team.pw_supervisor_outside_team:
        raise TeamFileError(path, "roster, column supervises_pws", "no one",
                            "yes for the person who supervises the PWs, or the team fact "
                            "pw_supervisor_outside_team")


# --- designs: changes to the team ----------------------------------------------------------

@dataclass
class TeamChanges:
    """What a design changes about a planner's team (keys of a design file; None: as now)."""

    pw_posts: int | None = None  # new posts copy the last PW's hours and days
    pw_hours_per_week: float | None = None  # every PW
    pw_days: list[str] = field(default_factory=list)  # every PW: e.g. [Mon, Tue] or [flexible]
    pw_days_include: list[str] = field(default_factory=list)  # move PW days to include these


def fixed_days(fte: float, first: list[int]) -> list[int]:
    """Fixed weekdays for someone on flexible days: as many days as their hours fill (the
    model's own rule, at least the days in ``first``), the days in ``first`` then the earliest
    others."""
    n_days = int(days_per_week(np.array([fte]))[0])
    order = [*first, *(d for d in range(WEEKDAYS) if d not in first)]
    return sorted(order[:max(n_days, len(first))])


def change_days(days: list[int], include: list[int], fte: float) -> list[int]:
    """Move fixed days to include ``include``, keeping the number of days (latest dropped);
    flexible days (``[]``) become fixed ones, as many as the hours (``fte``) fill."""
    if not days:
        return fixed_days(fte, include)
    keep = [d for d in sorted(days, reverse=True) if d not in include]
    n_keep = max(len(days) - len(include), 0)
    return sorted(set(include) | set(keep[len(keep) - n_keep:] if n_keep else []))


def changed_people(team: Team, changes: TeamChanges, where: str) -> list[Person]:
    """The roster after a design's changes (a new list; the team is not modified)."""
    people = [dataclasses.replace(p, days=list(p.days)) for p in team.people]
    pws = [p for p in people if p.role == "peer_worker"]
    if changes.pw_posts is not None:
        if not 1 <= changes.pw_posts <= 10:
            raise ConfigError(f"{where}: pw_posts", changes.pw_posts, "an integer in [1, 10]")
        while len(pws) < changes.pw_posts:
            pws.append(dataclasses.replace(pws[-1], name=f"new PW post {len(pws) + 1}",
                                           days=list(pws[-1].days), supervises_pws=False))
        pws = pws[:changes.pw_posts]
    for p in pws:
        if changes.pw_hours_per_week is not None:
            p.fte = round(changes.pw_hours_per_week / FULL_TIME_HOURS, 6)
        if changes.pw_days:
            text = " ".join(changes.pw_days)
            days = [] if norm(text) == "flexible" else parse_days(text)
            if days is None:
                raise ConfigError(f"{where}: pw_days", list(changes.pw_days),
                                  "days such as [Mon, Tue] or [flexible]")
            p.days = days
        if changes.pw_days_include:
            include = parse_days(" ".join(changes.pw_days_include))
            if include is None:
                raise ConfigError(f"{where}: pw_days_include", list(changes.pw_days_include),
                                  "days such as [Tue]")
            p.days = change_days(p.days, include, p.fte)
        p.attends_team_meeting = not p.days or bool(set(p.days) & set(team.meeting_days))
    return [p for p in people if p.role != "peer_worker"] + pws


def roster_override(people: list[Person]) -> list[str]:
    """Model overrides for a roster: team size from it, and ``team.roster`` in slot order
    (manager, non-peer staff, PWs)."""
    order = {"manager": 0, "nonpeer": 1, "peer_worker": 2}
    ordered = sorted(people, key=lambda p: order[p.role])
    posts = ",".join(f"{{role:{p.role},profession:{p.profession},fte:{p.fte:.6g},"
                     f"days:[{','.join(map(str, p.days))}]}}" for p in ordered)
    return [f"team.n_nonpeer_staff={sum(p.role == 'nonpeer' for p in people)}",
            f"team.n_peer_workers={sum(p.role == 'peer_worker' for p in people)}",
            f"team.roster=[{posts}]"]


def mean_pw_hours(people: list[Person]) -> float:
    pws = [p for p in people if p.role == "peer_worker"]
    return sum(p.fte for p in pws) * FULL_TIME_HOURS / len(pws)


def fixed_paths(team: Team) -> set[str]:
    """Model parameters the team file fixes: compare no longer samples them."""
    paths = {"team.caseload"}
    if team.manager_championing is not None:
        paths.add("team.manager_champion_effort")
    return paths


# --- the template --------------------------------------------------------------------------

EXAMPLE_ROSTER = [
    ("Team manager", "manager", "", 37.5, "Mon-Fri", "yes", "no"),
    ("Psychologist", "staff", "psychologist", 30, "Mon Tue Wed Thu", "yes", "yes"),
    ("Nurse", "staff", "nurse", 37.5, "Mon-Fri", "yes", "no"),
    ("Social worker", "staff", "social worker", 22.5, "Tue Wed Thu", "yes", "no"),
    ("Peer worker 1", "peer worker", "", 15, "Tue Thu", "yes", "no"),
    ("Peer worker 2", "peer worker", "", 22.5, "flexible", "yes", "no"),
]
TEMPLATE_HELP = (
    "# Team file for python -m sim.compare team_file=<this file> (guide: docs/planning.md).",
    "# Roster: one row per person of the team, the manager and the peer workers included.",
    "# Rows starting with # are comments. Replace the example rows with your team.",
)


def template_rows() -> tuple[list[list[str]], list[list[str]]]:
    roster = [list(ROSTER_COLUMNS)]
    for name, role, prof, hours, days, attends, sup in EXAMPLE_ROSTER:
        roster.append([name, role, prof, f"{hours:g}", "", days, attends, sup])
    facts = [["fact", "value", "what it means"]]
    example = {"caseload": "45", "meeting_days": "Tue", "sector": "nhs",
               "recruitment": "informal", "training": "conventional", "training_sessions": "8",
               "whole_team_training": "no", "coproduced_role_definition": "no",
               "peer_network": "no", "pws_paid": "yes", "supervision_every_weeks": "4"}
    for key, fact in TEAM_FACTS.items():
        required = " (required)" if key in REQUIRED_FACTS else ""
        facts.append([key, example.get(key, ""), fact.comment + required])
    return roster, facts


def write_template(path: Path | str) -> Path:
    """A team-file template with comments: ``.xlsx`` (comments on the header cells and a
    help column) or ``.csv`` (comment lines starting with #)."""
    path = Path(path)
    roster, facts = template_rows()
    if path.suffix.lower() == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for line in TEMPLATE_HELP:
            writer.writerow([line])
        for name, comment in ROSTER_COLUMNS.items():
            writer.writerow([f"# {name}: {comment}"])
        writer.writerows(roster)
        writer.writerow([])
        writer.writerows(facts)
        path.write_text(buffer.getvalue(), encoding="utf-8")
        return path
    if path.suffix.lower() != ".xlsx":
        raise ConfigError("template", str(path), "a file name ending in .xlsx or .csv")
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "roster"
    for row in roster:
        sheet.append([number(v) if number(v) is not None else v for v in row])
    for j, (name, comment) in enumerate(ROSTER_COLUMNS.items(), start=1):
        cell = sheet.cell(row=1, column=j)
        cell.comment = Comment(comment, "sim.compare")
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = max(14, len(name) + 4)
    fact_sheet = book.create_sheet("team facts")
    for row in facts:
        fact_sheet.append([number(v) if number(v) is not None and i == 1 else v
                           for i, v in enumerate(row)])
    for j, width in enumerate((28, 14, 90), start=1):
        fact_sheet.cell(row=1, column=j).font = Font(bold=True)
        fact_sheet.column_dimensions["ABC"[j - 1]].width = width
    help_sheet = book.create_sheet("help")
    for line in TEMPLATE_HELP:
        help_sheet.append([line.lstrip("# ")])
    for name, comment in ROSTER_COLUMNS.items():
        help_sheet.append([f"{name}: {comment}"])
    book.save(path)
    return path

