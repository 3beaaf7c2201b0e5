"""``python -m benchmarks fuzz``: a crash or a hang is recorded, not fatal; a
campaign resumes where it stopped; failures print their reproduction."""

import json
import textwrap

import pytest

from benchmarks import __main__ as bench
from benchmarks import fuzz


@pytest.fixture
def faulty_check(tmp_path, monkeypatch):
    """A check module whose cases 0, 1, 2 crash the process, hang, and fail;
    the others pass. Workers are spawned, and inherit this ``sys.path``."""
    behaviour = {fuzz.draw_case(7, i).data_seed: kind
                 for i, kind in enumerate(["crash", "hang", "fail"])}
    (tmp_path / "faulty_check.py").write_text(textwrap.dedent(f"""
        import os, time
        from accelboost._fuzz.properties import Outcome

        BEHAVIOUR = {behaviour!r}

        def check(case):
            kind = BEHAVIOUR.get(case.data_seed)
            if kind == "crash":
                os.abort()  # as a segfault would, the process dies
            if kind == "hang":
                time.sleep(600)
            if kind == "fail":
                return Outcome("failed", violations=["finite_model: made up"])
            return Outcome("ok")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "faulty_check:check"


def test_crashes_and_hangs_are_recorded_and_the_campaign_goes_on(faulty_check):
    results = fuzz.run_cases(range(5), seed=7, jobs=2, timeout=5.0,
                             check=faulty_check, log=None)
    by_index = {r["index"]: r for r in results}
    assert sorted(by_index) == [0, 1, 2, 3, 4]
    assert [by_index[i]["status"] for i in range(5)] == [
        "crashed", "hung", "failed", "ok", "ok"]
    for i in range(3):  # each bad case carries what replays it
        assert json.loads(by_index[i]["case"]) == json.loads(
            fuzz.draw_case(7, i).to_json())
    summary = fuzz.summarize(results)
    assert summary["statuses"] == {"crashed": 1, "hung": 1, "failed": 1, "ok": 2}
    assert summary["silent_nan"] == 1
    assert summary["properties"] == {"crash": 1, "hang": 1, "finite_model": 1}


def test_a_campaign_resumes_and_reports_its_failures(tmp_path, capsys):
    out = tmp_path / "fuzz"
    assert bench.main(["fuzz", "--cases", "4", "--seed", "3", "--out",
                       str(out)]) == 0
    path = fuzz.results_path(out, 3)
    assert len(fuzz.read_results(path)) == 4
    # Resumed: the 4 recorded cases are not run again, 2 more are.
    assert bench.main(["fuzz", "--cases", "6", "--seed", "3", "--out",
                       str(out)]) == 0
    results = fuzz.read_results(path)
    assert sorted(r["index"] for r in results) == list(range(6))
    # A recorded failure turns the exit status and prints its reproduction.
    failure = {"index": 99, "status": "failed", "seconds": 0.1,
               "violations": ["finite_model: non-finite predict"],
               "case": fuzz.draw_case(3, 99).to_json()}
    with path.open("a") as file:
        file.write(json.dumps(failure) + "\n")
    capsys.readouterr()
    assert bench.main(["fuzz", "--report-only", "--seed", "3", "--out",
                       str(out)]) == 1
    report = capsys.readouterr().out
    assert "### case 99: failed" in report
    assert "case.make_estimator()" in report
    assert "python -m benchmarks fuzz --replay" in report
    assert (out / "report.md").read_text() == report.rstrip("\n") + "\n"


def test_replay_runs_one_case_and_prints_how_to_reproduce_it(capsys):
    case = fuzz.draw_case(0, 0)
    assert bench.main(["fuzz", "--replay", case.to_json()]) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed[:printed.index("}\n") + 1])["status"] in (
        "ok", "rejected")
    assert "Case.from_json" in printed


def test_rejections_are_grouped_by_the_kind_of_message():
    results = [
        {"status": "rejected", "error": "ValueError: loss='poisson' requires y"},
        {"status": "rejected", "error": "ValueError: loss='gamma' requires y"},
        {"status": "rejected", "error": "ValueError: n_samples=3 is too few"},
        {"status": "rejected", "error": "ValueError: n_samples=12 is too few"},
        {"status": "ok"},
    ]
    summary = fuzz.summarize(results)
    assert summary["rejections"] == {"ValueError: loss='…' requires y": 2,
                                     "ValueError: n_samples=N is too few": 2}
    assert summary["statuses"] == {"rejected": 4, "ok": 1}
