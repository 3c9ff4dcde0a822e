"""The planner page (``/planner``): its time-left estimate, its inputs, and the page in a real
headless Chromium (Playwright driving Debian's ``chromium`` via ``sim.app_driver``, as the
workshop tests do): drop a team file, run a tiny comparison, read the verdict.

No test measures speed: waits are for a condition, with generous limits. Screenshots go to
``tests/artifacts/planner.png`` and ``planner_verdict.png`` (git-ignored).
"""

from __future__ import annotations

import pytest

from sim.app_driver import CHROMIUM, PATIENCE_MS, REPO, PageRecorder, app_server, chromium
from sim.app_planner import EXAMPLE, SIZES, Eta, compare_args, slug, write_inputs

ARTIFACTS = REPO / "tests" / "artifacts"
pytestmark = pytest.mark.filterwarnings("ignore:.*found despite early return:UserWarning")


def test_time_left_is_measured_not_guessed():
    eta = Eta(started=100.0, done_at_start=4)  # 4 runs were already saved (reused)
    assert eta.text(5, 20, now=130.0) == "time left: measuring..."  # one new run: no estimate
    # 6 new runs in 60 s -> 10 s a run; 10 runs left -> 100 s, shown in minutes
    assert eta.text(10, 20, now=160.0) == "time left: about 2 minutes"
    # faster measured throughput -> less time left
    assert eta.text(16, 20, now=160.0) == "time left: about 20 seconds"
    assert eta.text(20, 20, now=160.0) == "done"


def test_inputs_are_saved_per_team_and_sizes_become_settings(tmp_path, monkeypatch):
    monkeypatch.setattr("sim.app_planner.WORK_DIR", tmp_path)
    team = (EXAMPLE / "team.csv").read_bytes()
    team_path, designs, folder = write_inputs("my team.csv", team, [
        ("Third PW post", "pw_posts: 3\n"), ("empty", "  ")])
    assert team_path.read_bytes() == team and folder.parent == tmp_path
    assert team_path.name == "my_team.csv"  # the report names the team by its file name
    assert [d.name for d in designs] == ["third_pw_post.yaml"]  # the empty design is skipped
    again = write_inputs("my team.csv", team, [("Third PW post", "pw_posts: 3\n")])
    assert again[2] == folder  # same team, same folder: unchanged designs are reused
    samples, replications, teams = SIZES[next(iter(SIZES))]
    args = compare_args(team_path, designs, next(iter(SIZES)), folder)
    assert f"context_samples={samples}" in args and f"replications={replications}" in args
    assert f"n_teams={teams}" in args and slug(" A b! ") == "a_b"


@pytest.fixture(scope="module")
def planner_url(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    work = tmp_path_factory.mktemp("planner")
    with app_server(ARTIFACTS / "planner_server.log", env={"SIM_PLANNER_DIR": str(work)}) as url:
        yield url + "planner"


# A drop as the browser delivers it. Solara's FileDrop reads files through the entry API
# (webkitGetAsEntry), which a synthetic DataTransfer cannot provide, so the drop event carries
# one file entry the way a real drag from the desktop does.
DROP_FILE = (
    "([text, name]) => { const file = new File([text], name, {type: 'text/csv'});"
    " const drop = new Event('drop', {bubbles: true, cancelable: true});"
    " Object.defineProperty(drop, 'dataTransfer', {value: {items: [{webkitGetAsEntry:"
    " () => ({isFile: true, file: done => done(file)})}]}});"
    " document.querySelector('.solara-file-drop').dispatchEvent(drop); }")


def test_planner_page_in_a_real_browser(planner_url):
    """Drop a team file with a bad cell (the page names its row and column), then the example
    team file; run the smallest comparison, see the verdict and the traffic lights."""
    team_text = (EXAMPLE / "team.csv").read_text()
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(PATIENCE_MS)
        page = context.new_page()
        recorder = PageRecorder().attach(page)
        page.goto(planner_url, timeout=PATIENCE_MS)
        page.get_by_text("Drop your team file (.xlsx or .csv) here").wait_for()
        misspelt = team_text.replace("Social worker B,staff,social worker",
                                     "Social worker B,staff,social wrker")
        page.evaluate(DROP_FILE, [misspelt, "our_team.csv"])
        error = page.locator(".team-error")
        error.wait_for()
        assert ("our_team.csv, roster row 13, column profession: 'social wrker' is not "
                "allowed") in error.inner_text()
        assert page.get_by_role("button", name="Run the comparison").is_disabled()

        page.evaluate(DROP_FILE, [team_text, "our_team.csv"])
        ok = page.locator(".team-ok")
        ok.wait_for()
        assert "12 staff and 2 PWs" in ok.inner_text()
        assert "caseload 45" in ok.inner_text() and "clinical supervision" in ok.inner_text()
        assert not page.locator(".team-error").count()

        page.get_by_role("button", name="Run the comparison").click()  # smallest size: default
        page.locator(".planner-verdict").wait_for(timeout=PATIENCE_MS * 2)
        total = 3 * SIZES[next(iter(SIZES))][0] * SIZES[next(iter(SIZES))][1]
        assert page.locator(".run-status").inner_text() == f"{total} of {total} runs; done"
        verdict = page.locator(".planner-verdict").inner_text()
        assert verdict.startswith(("Recommended on these outcomes", "No design makes",
                                   "No design is clearly better"))
        lights = page.locator(".planner-lights tr")
        assert lights.count() == 1 + 2 * 7  # header + 2 designs x 7 outcomes
        assert page.locator(".planner-lights .verdict").first.inner_text() in (
            "better", "worse", "unclear", "no practical difference")
        assert page.locator(".planner-lights .design").first.inner_text() == "third PW post"
        assert page.locator(".planner-lights th").nth(4).inner_text() == (
            "difference (95% interval)")
        report = page.frame_locator("iframe[title=report]")
        report.get_by_text("Your team (our_team.csv), your team as it is").wait_for()
        page.screenshot(path=str(ARTIFACTS / "planner.png"))
        page.locator(".planner-verdict").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "planner_verdict.png"))  # the answer in view
        assert not page.locator(".run-error").count()
        assert not recorder.external(), recorder.external()
        assert not recorder.errors, recorder.errors
        context.close()
