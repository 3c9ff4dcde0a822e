"""Team files: template, parsing (bad cells named by file, row and column), the supervisor's
profession as a supervision arrangement, designs as changes to the team, and the model taking
people as they are (per-person profession, FTE and days)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.compare import (
    AS_IS,
    TeamDesign,
    load_compare_config,
    main,
    prepare,
    team_design_overrides,
    team_people,
)
from sim.config import load_config
from sim.model import PeerWorkModel
from sim.roster import (
    EXAMPLE_ROSTER,
    Team,
    TeamFileError,
    change_days,
    parse_days,
    read_team_file,
    write_template,
)

HEADER = ("name,role,profession,hours_per_week,fte,working_days,attends_team_meeting,"
          "supervises_pws")
ROWS = ["Boss,manager,,37.5,,Mon-Fri,yes,no",
        "Psy,staff,psychologist,30,,Mon Tue Wed Thu,yes,yes",
        "Nurse,staff,nurse,,1,Mon-Fri,yes,no",
        "PW A,peer worker,,15,,Mon Thu,no,no",
        "PW B,peer worker,,22.5,,flexible,yes,no"]
FACTS = ["fact,value", "caseload,45", "meeting_days,Tue", "sector,nhs", "recruitment,informal"]


def team_csv(tmp_path, rows=ROWS, facts=FACTS, name="team.csv"):
    path = tmp_path / name
    path.write_text("\n".join(["# my team", HEADER, *rows, "", *facts]) + "\n")
    return path


def test_team_file_reads_people_and_facts(tmp_path):
    team = read_team_file(team_csv(tmp_path))
    assert [p.role for p in team.people] == ["manager", "nonpeer", "nonpeer", "peer_worker",
                                             "peer_worker"]
    assert team.people[1].profession == "psychologist"
    assert team.people[1].fte == pytest.approx(0.8)
    assert team.people[2].fte == 1.0
    assert team.people[3].days == [0, 3] and team.people[4].days == []
    assert (team.caseload, team.meeting_days, team.sector, team.recruitment) == (
        45, [1], "nhs", "informal")
    assert team.training == "conventional"  # a fact left out: the model's default


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_template_is_a_valid_team_file_with_comments(tmp_path, suffix):
    path = write_template(tmp_path / f"my_team.{suffix}")
    team = read_team_file(path)
    assert len(team.people) == len(EXAMPLE_ROSTER)
    assert team.supervisor() == "clinical"  # the example's psychologist supervises
    if suffix == "xlsx":
        import openpyxl
        sheet = openpyxl.load_workbook(path)["roster"]
        assert "manager, staff or peer worker" in sheet["B1"].comment.text
    else:
        assert "# role: manager, staff or peer worker" in path.read_text()


def test_template_command_writes_and_refuses_to_overwrite(tmp_path, capsys):
    path = tmp_path / "mine.xlsx"
    assert main(["template", str(path)]) == 0
    assert path.is_file() and "team_file=" in capsys.readouterr().out
    assert main(["template", str(path)]) == 2
    assert "does not exist yet" in capsys.readouterr().err


@pytest.mark.parametrize("row, column, value, allowed", [
    ("Psy,staff,psychologst,30,,Mon,yes,yes", "profession", "psychologst", "psychologist"),
    ("Psy,staff,nurse,forty,,Mon Tue,yes,yes", "hours_per_week", "forty", "hours from"),
    ("Psy,staff,nurse,30,0.8,Mon Tue,yes,yes", "hours_per_week", "30", "one of the two"),
    ("Psy,staff,nurse,,1.5,Mon Tue,yes,yes", "fte", "1.5", "0.05 to 1"),
    ("Psy,staff,nurse,30,,Mon Funday,yes,yes", "working_days", "Mon Funday", "Mon Tue Thu"),
    ("Psy,staff,nurse,30,,flexible,yes,yes", "working_days", "flexible", "Mon-Fri"),
    ("Psy,doctor,,30,,Mon Tue,yes,yes", "role", "doctor", "manager, staff or peer worker"),
    ("Psy,staff,nurse,30,,Mon Tue,maybe,yes", "attends_team_meeting", "maybe", "yes or no"),
    ("Psy,staff,nurse,30,,Mon Wed,yes,yes", "attends_team_meeting", "yes", "meeting day"),
])
def test_a_bad_cell_is_named_by_file_row_and_column(tmp_path, row, column, value, allowed):
    rows = [ROWS[0], row, *ROWS[2:]]
    path = team_csv(tmp_path, rows)
    with pytest.raises(TeamFileError) as err:
        read_team_file(path)
    message = str(err.value)
    assert str(path) in message
    assert f"roster row 4, column {column}" in message  # line 1 comment, 2 header, 3 manager
    assert repr(value) in message and allowed in message


def test_bad_team_facts_are_named_and_missing_ones_asked_for(tmp_path):
    path = team_csv(tmp_path, facts=[*FACTS[:-1], "recruitment,by luck"])
    with pytest.raises(TeamFileError, match=r"team facts row 13 \(recruitment\), column value: "
                       r"'by luck' is not allowed; allowed: formal, informal"):
        read_team_file(path)
    with pytest.raises(TeamFileError, match="no caseload"):
        read_team_file(team_csv(tmp_path, facts=["fact,value", "meeting_days,Tue",
                                                 "sector,nhs", "recruitment,formal"]))
    with pytest.raises(TeamFileError, match="column fact: 'caseloads'"):
        read_team_file(team_csv(tmp_path, facts=[*FACTS, "caseloads,3"]))


def test_a_bad_xlsx_cell_names_sheet_row_and_column(tmp_path):
    import openpyxl
    path = write_template(tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    book["roster"]["D3"] = "lots"
    book.save(path)
    with pytest.raises(TeamFileError, match=r"roster row 3, column hours_per_week: 'lots'"):
        read_team_file(path)


def test_a_bad_team_file_exits_2_and_writes_nothing(tmp_path, capsys):
    path = team_csv(tmp_path, [ROWS[0], "Psy,staff,nurse,99,,Mon,yes,yes", *ROWS[2:]])
    out = tmp_path / "cmp"
    assert main([f"team_file={path}", "designs=[current]", f"output_dir={out}"]) == 2
    assert "roster row 4, column hours_per_week" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("supervisors, expected", [
    (["psychologist"], "clinical"), (["nurse"], "clinical"), (["manager"], "clinical"),
    (["peer_worker"], "peer"), (["psychologist", "peer_worker"], "mixed")])
def test_the_supervisors_profession_sets_the_supervision_arrangement(tmp_path, supervisors,
                                                                     expected):
    team = read_team_file(team_csv(tmp_path))
    for p in team.people:
        p.supervises_pws = p.profession in supervisors
    assert team.supervisor() == expected


def example_team(tmp_path) -> Team:
    return read_team_file(team_csv(tmp_path))


def test_days_parse_and_move():
    assert parse_days("Mon-Wed Fri") == [0, 1, 2, 4]
    assert parse_days("tue, thu") == [1, 3]
    assert parse_days("someday") is None
    assert change_days([0, 3], [1], 0.4) == [0, 1]  # two days kept, Tuesday in, the latest out
    assert change_days([1, 3], [1], 0.4) == [1, 3]  # already included: unchanged
    # flexible days become fixed ones, as many as the hours fill: 22.5 h = 3 days, Tuesday first
    assert change_days([], [1], 0.6) == [0, 1, 2]
    assert change_days([], [1, 3], 0.2) == [1, 3]  # one day's hours, but both days asked for


def test_designs_change_the_team(tmp_path):
    team = example_team(tmp_path)
    same = team_people(team, TeamDesign(), AS_IS)
    assert [(p.fte, p.days) for p in same] == [(p.fte, p.days) for p in team.people]
    third = [p for p in team_people(team, TeamDesign(pw_posts=3), "x")
             if p.role == "peer_worker"]
    assert len(third) == 3 and (third[2].fte, third[2].days) == (0.6, [])  # copies PW B
    moved = [p for p in team_people(team, TeamDesign(pw_days_include=["Tue"]), "x")
             if p.role == "peer_worker"]
    assert [p.days for p in moved] == [[0, 1], [0, 1, 2]]  # PW B keeps 3 days of 22.5 h
    assert all(p.attends_team_meeting for p in moved)
    fixed = [p for p in team_people(team, TeamDesign(days="fixed"), "x")
             if p.role == "peer_worker"]
    assert [p.days for p in fixed] == [[0, 3], [0, 1, 2]]  # the meeting day first, 3 days
    flexible = team_people(team, TeamDesign(days="flexible"), "x")
    assert all(p.days == [] for p in flexible if p.role == "peer_worker")
    assert team.people[3].days == [0, 3]  # the team itself is not modified


def test_team_and_design_become_model_settings(tmp_path):
    team = example_team(tmp_path)
    params = load_config(team_design_overrides(team, TeamDesign(), AS_IS))
    assert (params.team.n_nonpeer_staff, params.team.n_peer_workers) == (2, 2)
    assert params.team.caseload == 45 and params.meetings.meeting_days == [1]
    assert params.supervision.supervisor == "clinical"  # the psychologist supervises
    assert params.recruitment.process == "informal"
    assert [p.profession for p in params.team.roster] == [
        "manager", "psychologist", "nurse", "peer_worker", "peer_worker"]
    peer = load_config(team_design_overrides(team, TeamDesign(supervisor="peer", pw_posts=3),
                                             "x"))
    assert peer.supervision.supervisor == "peer" and peer.team.n_peer_workers == 3
    assert peer.team.caseload == 45  # what the design leaves out stays as the team has it


def test_what_the_team_file_fixes_is_not_sampled(tmp_path):
    path = team_csv(tmp_path, facts=[*FACTS, "manager_championing,high"])
    config = load_compare_config([f"team_file={path}", "designs=[current]",
                                  f"output_dir={tmp_path / 'o'}"])
    prep = prepare(config)
    assert set(prep.unsampled) == {"caseload", "manager championing"}
    assert "team.caseload" not in prep.conditions.columns
    assert "team.manager_champion_effort=0.9" in prep.overrides[AS_IS]
    assert list(prep.designs) == [AS_IS, "current"]
    assert not (tmp_path / "o").exists()  # preparing writes nothing


def test_the_model_takes_people_as_they_are(tmp_path):
    team = example_team(tmp_path)
    params = load_config([*team_design_overrides(team, TeamDesign(), AS_IS),
                          "organisation.n_teams=3", "organisation.horizon_weeks=30"])
    model = PeerWorkModel(params, seed=4)
    wf = model.workforce
    assert (wf.profession == [0, 2, 3, 7, 7]).all()
    assert np.allclose(wf.fte, [1.0, 0.8, 1.0, 0.4, 0.6])
    assert (wf.fixed_days[:, 3] == [True, False, False, True, False]).all()  # PW A: Mon, Thu
    assert wf.flexible_days[:, 4].all() and not wf.flexible_days[:, :4].any()
    status = params.team.external_status
    assert wf.external_status[0, 1] == pytest.approx(status["psychologist"])
    attended = np.zeros(5)
    for _ in range(30):
        model.step()
        attended += model.workforce.attends_meeting.mean(axis=0)
    assert attended[3] == 0  # PW A never works on Tuesday, the meeting day
    assert attended[4] > 0  # PW B's flexible days sometimes fall on it


def test_roster_must_fill_the_slots_in_order():
    from sim.params import ConfigError
    with pytest.raises(ConfigError, match="team.roster"):
        load_config(["team.n_peer_workers=1",
                     "team.roster=[{role:peer_worker,profession:peer_worker,fte:0.4,days:[]}]"])
