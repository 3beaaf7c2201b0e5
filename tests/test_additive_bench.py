"""Tests of ``python -m benchmarks additive`` (benchmarks/additive.py) and
of the peers it adds to benchmarks/_peers.py (EBM, the early-stopped
LightGBM)."""

import json
import math

import numpy as np
import pytest

from benchmarks import _data, additive
from benchmarks.__main__ import main

PEERS = ("ebm", "ebm_mains", "hgb_1f", "lgbm_1f")
TINY = ["--datasets", "nlswork,tv16", "--max-train-rows", "1000", "--repeats", "1",
        "--ebm-outer-bags", "1", "--methods", ",".join(PEERS)]


# -- trees to plain's best ---------------------------------------------------------
def test_trees_to_best_on_hand_made_curves():
    # Scores are minus the validation loss; index 0 is the baseline.
    plain = [-1.0, -0.8, -0.5, -0.4, -0.45, -0.4]
    # Best at stage 3 (the first of the tied -0.4); reached at stage 2: 2/3.
    assert additive.trees_to_best(plain, [-1.0, -0.6, -0.4, -0.3]) == (3, 2, 2 / 3)
    # Above it at stage 1.
    assert additive.trees_to_best(plain, [-1.0, -0.39]) == (3, 1, 1 / 3)
    # Never reached, or only by a missing value: None.
    assert additive.trees_to_best(plain, [-1.0, -0.41, None, math.nan]) == (
        3, None, None)
    # The same curve reaches at plain's own stage: ratio 1.
    assert additive.trees_to_best(plain, plain) == (3, 3, 1.0)
    # Plain best at its baseline: no ratio.
    assert additive.trees_to_best([-1.0, -1.2], [-1.0, -0.5]) == (0, 0, None)
    assert additive.trees_to_best([], [-1.0]) == (None, None, None)


# -- the grid ----------------------------------------------------------------------
def test_plan_fits_every_method_once_before_the_repeats():
    jobs = additive.plan(["ebm", "additive_plain"], [0.1, 0.5], repeats=2)
    assert jobs == [("ebm", None, 0), ("additive_plain", 0.1, 0),
                    ("additive_plain", 0.5, 0), ("ebm", None, 1),
                    ("additive_plain", 0.1, 1), ("additive_plain", 0.5, 1)]
    assert len(set(jobs)) == len(jobs)


def test_a_stored_fit_is_pending_when_its_parameters_or_commit_changed():
    params = {"learning_rate": 0.5, "interactions": 0}
    ok = {"method": "additive_default", "status": "ok", "params": params,
          "commit": "a"}
    assert additive.is_pending(None, params, "a")
    assert not additive.is_pending(ok, params, "a")
    assert not additive.is_pending(ok, params, "b")  # only --refit reruns these
    assert additive.is_pending(ok, params, "b", refit=["additive_default"])
    assert additive.is_pending(ok, {**params, "interactions": 10}, "a")
    failed = {**ok, "status": "error"}
    assert not additive.is_pending(failed, params, "a")
    assert additive.is_pending(failed, params, "a", retry_errors=True)
    assert additive.is_pending(failed, params, "b")


def test_interaction_setting_pairs_each_method_with_its_ebm():
    assert additive.interaction_setting("interpret", {"interactions": "5x"}) == "pairs"
    assert additive.interaction_setting("interpret", {"interactions": 0}) == "mains"
    assert additive.interaction_setting("accelboost", {"interactions": 10}) == "pairs"
    assert additive.interaction_setting("accelboost", {"interactions": []}) == "mains"
    assert additive.interaction_setting("accelboost", {"interactions": [(0, 1)]}) \
        == "pairs"
    assert additive.interaction_setting("lightgbm", {}) == "mains"
    assert set(additive.PAIRED_EBM.values()) <= set(additive.METHODS)


# -- summary and targets on hand-made records --------------------------------------
def _record(method, loss, fit_s, lr=None, repeat=0, interactions="mains", **more):
    library = additive.METHODS[method].library
    return {"dataset": "t", "method": method, "learning_rate": lr, "repeat": repeat,
            "library": library, "status": "ok", "loss": loss, "fit_s": fit_s,
            "interactions": interactions, "n_iter": [10], "commit": "c", **more}


def _results(name, runs):
    return {"benchmark": "additive", "dataset": {"name": name, "task": "regression"},
            "runs": [{**r, "dataset": name} for r in runs]}


def test_summary_pairs_ratios_and_trees_to_plains_best():
    plain_curve = [-1.0, -0.7, -0.5, -0.45, -0.42, -0.4]  # best at stage 5
    runs = [
        _record("ebm", 1.0, 100.0, interactions="pairs",
                params={"outer_bags": 14, "interactions": "5x"}),
        _record("ebm_mains", 2.0, 40.0, params={"outer_bags": 14, "interactions": 0}),
        _record("ebm_mains", 2.0, 60.0, repeat=1),
        _record("additive_default", 1.005, 10.0, interactions="pairs"),
        _record("additive_plain", 2.01, 5.0, lr=0.1, val_scores=plain_curve),
        _record("additive_plain", 2.05, 4.0, lr=0.5, val_scores=[-1.0, -0.6, -0.41]),
        _record("additive_accel", 2.02, 3.0, lr=0.1,
                val_scores=[-1.0, -0.5, -0.4, -0.3]),
        _record("additive_accel", 2.5, 3.0, lr=0.5, val_scores=[-1.0, -0.9]),
        {"method": "hgb_1f", "learning_rate": None, "repeat": 0, "status": "error",
         "reason": "boom"},
    ]
    summary = additive.summarize(_results("t", runs))
    best = summary["best"]
    assert best["ebm_mains"]["fit_s"] == 50.0 and best["ebm_mains"]["repeats"] == 2
    assert best["additive_plain"]["lr"] == 0.1 and best["additive_accel"]["lr"] == 0.1
    assert best["additive_default"]["pair"] == "ebm"
    assert best["additive_default"]["vs_ebm"] == pytest.approx(0.5)
    assert best["additive_default"]["x_ebm_default"] == pytest.approx(0.1)
    assert best["additive_plain"]["vs_ebm"] == pytest.approx(0.5)  # vs ebm_mains
    assert best["additive_plain"]["x_pair"] == pytest.approx(0.1)
    # Accelerated reaches plain's best (-0.4, stage 5) at stage 2: 0.4.
    accel = best["additive_accel"]
    assert (accel["plain_stage"], accel["stage"], accel["trees_ratio"]) == (5, 2, 0.4)
    slow = next(r for r in summary["rows"]
                if r["method"] == "additive_accel" and r["lr"] == 0.5)
    assert slow["trees_ratio"] is None and not slow["best"]
    assert [e["method"] for e in summary["errors"]] == ["hgb_1f"]

    checks = additive.targets([summary])
    loss, time, worse, trees = [c for c in checks if c["primary"]]
    assert loss["name"].startswith("additive_default: held-out loss within 1%")
    assert loss["holds"] is True  # +0.50% <= 1%
    assert "wall time" in time["name"] and time["holds"] is True  # 0.1x <= 0.2x
    assert "0.5% worse" in worse["name"] and "the trees to" in trees["name"]
    assert worse["holds"] is True  # 2.02 vs 2.01: +0.50% (just) within 0.5%
    assert "+0.50%" in worse["figures"]
    assert trees["holds"] is True  # 0.4x on 1 of 1 table


def test_targets_fail_when_a_table_misses_and_wait_for_missing_tables():
    good = [_record("ebm_mains", 1.0, 10.0, params={"outer_bags": 14}),
            _record("additive_plain", 1.0, 1.0, lr=0.5, val_scores=[-1.0, -0.5]),
            _record("additive_accel", 1.02, 1.0, lr=0.5, val_scores=[-1.0, -0.5])]
    bad = [_record("ebm_mains", 1.0, 10.0, params={"outer_bags": 14}),
           _record("additive_plain", 1.0, 1.0, lr=0.5, val_scores=[-1.0, -0.5]),
           _record("additive_accel", 1.001, 1.0, lr=0.5,
                   val_scores=[-1.0, -0.6, -0.5])]
    tables = [additive.summarize(_results("a", good)),
              additive.summarize(_results("b", bad))]
    by_name = {c["name"]: c for c in additive.targets(tables)}
    worse = next(c for n, c in by_name.items() if "% worse than" in n)
    assert worse["holds"] is False  # a: +2% > 0.5%
    trees = next(c for n, c in by_name.items() if "the trees to" in n)
    assert trees["holds"] is False  # a 1.0x, b 2.0x: none at most 0.5x
    # A table without the pair: the loss target is not measured yet.
    only_plain = additive.summarize(_results("c", good[1:]))
    check = next(c for c in additive.targets([tables[0], only_plain])
                 if c["name"].startswith("additive_plain"))
    assert check["holds"] is None


def test_time_target_is_not_measured_without_ebms_default_bags():
    runs = [_record("ebm", 1.0, 100.0, interactions="pairs",
                    params={"outer_bags": 2}),
            _record("additive_default", 1.0, 1.0, interactions="pairs")]
    check = next(c for c in additive.targets([additive.summarize(_results("t", runs))])
                 if "wall time" in c["name"])
    assert check["holds"] is None and "outer_bags=[2]" in check["note"]


# -- data --------------------------------------------------------------------------
def test_feature_stats_find_diamonds_tails_and_codes():
    stats = additive.feature_stats(_data.load_dataset("diamonds"))
    assert stats["coded"] == ["cut", "color", "clarity"]
    top = stats["max_kurtosis"]
    assert top["feature"] in ("y", "z") and top["value"] > additive.HEAVY_KURTOSIS
    assert stats["kurtosis"]["carat"] < additive.HEAVY_KURTOSIS
    assert additive.coded_columns("nlswork") == []
    # flights: weekday is made by the loader's preparation, carrier etc. coded.
    assert additive.coded_columns("flights") == ["carrier", "tailnum", "origin",
                                                 "dest"]


def test_lightgbm_peer_grows_one_feature_per_tree_and_stops_early():
    data = _data.load_dataset("tv16", max_train_rows=1000)
    model = additive.build("lgbm_1f", data, None)
    model.fit(data.X_train, data.y_train)
    trees = model.model_.booster_.trees_to_dataframe()
    per_tree = trees.dropna(subset=["split_feature"]).groupby("tree_index")
    assert per_tree["split_feature"].nunique().max() == 1
    assert 0 < model.n_iter_ < additive.PEER_MAX_ITER
    assert model.predict_proba(data.X_test).shape == (len(data.y_test), 2)


# -- end to end --------------------------------------------------------------------
def _runs(out, name):
    return json.loads((out / f"{name}.json").read_text())["runs"]


def test_subcommand_end_to_end_and_resumes(tmp_path, capsys):
    assert main(["additive", *TINY, "--out", str(tmp_path)]) == 0
    first = {}
    for name, task in (("nlswork", "regression"), ("tv16", "binary")):
        results = json.loads((tmp_path / f"{name}.json").read_text())
        assert results["benchmark"] == "additive"
        assert results["dataset"]["task"] == task
        assert results["dataset"]["n_train"] == 1000
        assert results["config"] == {"max_train_rows": 1000, "seed": 0}
        assert results["versions"]["interpret-core"]
        assert len(results["warmup_s"]) == 1
        runs = results["runs"]
        assert sorted(r["method"] for r in runs) == sorted(PEERS)
        for r in runs:
            assert r["status"] == "ok", r.get("reason")
            assert math.isfinite(r["loss"]) and r["loss"] > 0
            assert r["fit_s"] > 0 and r["n_iter"][0] > 0
        by = {r["method"]: r for r in runs}
        assert by["ebm"]["interactions"] == "pairs"
        assert by["ebm"]["params"]["outer_bags"] == 1
        assert by["ebm"]["params"]["n_jobs"] == 2
        assert by["ebm_mains"]["params"]["interactions"] == 0
        assert {by[m]["interactions"] for m in PEERS[1:]} == {"mains"}
        first[name] = {additive.run_key(r): r["fit_s"] for r in runs}
    report = (tmp_path / "report.md").read_text()
    for text in ("## nlswork (regression, MSE)", "## tv16 (binary, log loss)",
                 "## Targets", "EBM (binary) as run:", "interactions='3x'",
                 "state, racef", *PEERS):
        assert text in report
    capsys.readouterr()

    # A rerun finds everything stored and fits nothing.
    assert main(["additive", *TINY, "--out", str(tmp_path)]) == 0
    assert "8 stored, 0 to run" in capsys.readouterr().err
    for name in first:
        assert {additive.run_key(r): r["fit_s"] for r in _runs(tmp_path, name)} \
            == first[name]

    # A lost record is the only one refitted; another repeat adds only repeats.
    path = tmp_path / "tv16.json"
    results = json.loads(path.read_text())
    results["runs"] = [r for r in results["runs"] if r["method"] != "lgbm_1f"]
    path.write_text(json.dumps(results))
    assert main(["additive", *TINY, "--out", str(tmp_path), "--methods",
                 "lgbm_1f,hgb_1f", "--repeats", "2"]) == 0
    err = capsys.readouterr().err
    assert "8 fits in the grid, 3 stored, 5 to run" in err
    runs = _runs(tmp_path, "tv16")
    assert sorted((r["method"], r["repeat"]) for r in runs
                  if r["method"] in ("lgbm_1f", "hgb_1f")) == [
        ("hgb_1f", 0), ("hgb_1f", 1), ("lgbm_1f", 0), ("lgbm_1f", 1)]
    kept = {additive.run_key(r): r["fit_s"] for r in runs}
    assert kept[("hgb_1f", None, 0)] == first["tv16"][("hgb_1f", None, 0)]
    assert kept[("ebm", None, 0)] == first["tv16"][("ebm", None, 0)]

    # Another row cap is another experiment: refused in the same directory.
    with pytest.raises(SystemExit):
        main(["additive", *TINY, "--out", str(tmp_path), "--max-train-rows", "900"])
    assert main(["additive", "--out", str(tmp_path), "--report-only"]) == 0
    assert np.all([r["status"] == "ok" for r in _runs(tmp_path, "nlswork")])


def test_additive_methods_end_to_end(tmp_path):
    methods = ("additive_plain", "additive_accel", "additive_default",
               "additive_default_mains")
    assert main(["additive", "--datasets", "nlswork,tv16", "--max-train-rows",
                 "1000", "--repeats", "1", "--learning-rates", "0.3,0.5",
                 "--methods", ",".join(methods), "--out", str(tmp_path)]) == 0
    for name in ("nlswork", "tv16"):
        results = json.loads((tmp_path / f"{name}.json").read_text())
        runs = {(r["method"], r["learning_rate"]): r for r in results["runs"]}
        assert len(runs) == 2 + 2 + 1 + 1
        for r in runs.values():
            assert r["status"] == "ok", r.get("reason")
            assert math.isfinite(r["loss"]) and r["fit_s"] > 0
            assert r["params"]["n_threads"] == 2 and r["params"]["random_state"] == 0
            if r["interactions"] == "mains":  # one phase: baseline, then stages
                assert len(r["val_scores"]) == r["n_iter"][0] + 1
        for lr in (0.3, 0.5):
            plain, accel = runs[("additive_plain", lr)], runs[("additive_accel", lr)]
            assert plain["params"]["stage_init"] == "zero"
            assert accel["params"]["stage_init"] == "stacking"
            assert plain["interactions"] == accel["interactions"] == "mains"
            # Same random_state: the same validation rows, the same baseline.
            assert plain["val_scores"][0] == accel["val_scores"][0]
        default = runs[("additive_default", None)]
        assert default["interactions"] == ("mains" if default["params"][
            "interactions"] == 0 else "pairs")
        assert runs[("additive_default_mains", None)]["interactions"] == "mains"

        summary = additive.summarize(results)
        plain = summary["best"]["additive_plain"]
        assert plain["trees_ratio"] == 1.0
        assert plain["stage"] == plain["plain_stage"] == int(np.argmax(
            plain["val_scores"]))
        for row in summary["rows"]:
            if row["interactions"] == "mains" and row["method"] != "additive_plain":
                assert row["plain_stage"] == plain["plain_stage"]
    report = (tmp_path / "report.md").read_text()
    assert "additive_accel at most 0.5% worse than additive_plain" in report
