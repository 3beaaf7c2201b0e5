"""``python -m benchmarks speed`` (benchmarks/speed.py, _busy.py, _child.py):
the summaries' arithmetic on hand-made results, the busy loop's lifetime,
the committed results still render, and tiny real runs."""

import importlib
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks import _busy, _peers, speed
from benchmarks.__main__ import main as benchmarks_main

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "speed"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- the busy loop -------------------------------------------------------------
@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_busy_loop_spins_on_its_core_and_dies_with_the_block(error):
    with pytest.raises(error), _busy.busy_core(_busy.pick_core()) as load:
        pid = load.pid
        assert _alive(pid)
        if hasattr(os, "sched_getaffinity"):
            assert os.sched_getaffinity(pid) == {load.core}
        time.sleep(0.3)
        cpu = load.summary()["cpu_s"]
        if cpu is not None:
            assert cpu > 0.1  # it spins
        raise error
    assert not _alive(pid)


# -- contention: arithmetic on a hand-made result set ------------------------
def _run(library, size, threads, load, per_tree_ms, status="ok"):
    n_trees = 10
    per_tree = None if per_tree_ms is None else [t * 1e-3 for t in per_tree_ms]
    if status != "ok":
        return {"library": library, "n_samples": size, "leaves": 2,
                "threads": threads, "load": load, "n_trees": n_trees,
                "status": status, "reason": "boom", "busy": None}
    return {
        "library": library, "n_samples": size, "dataset": "toy", "leaves": 2,
        "threads": threads, "load": load, "n_trees": n_trees, "status": "ok",
        "fit_s": [t * n_trees for t in per_tree], "fit_per_tree_s": per_tree,
        "n_trees_fitted": [n_trees] * len(per_tree),
        "fit_cpu_s": [t * n_trees for t in per_tree],
        "others_cpu_share": [0.0] * len(per_tree), "compile_s": 0.5,
        "busy": {"cpu_share": 1.0} if load == "busy" else None,
    }


@pytest.fixture
def contention_report():
    runs = [
        # 100 rows: medians 2, 1 (idle 1, default), 2.2, 3.3 (busy 1, default)
        _run("accelboost", 100, 1, "idle", [3.0, 1.0, 2.0]),
        _run("accelboost", 100, "default", "idle", [1.0, 1.5, 0.5]),
        _run("accelboost", 100, 1, "busy", [2.0, 2.2, 2.4]),
        _run("accelboost", 100, "default", "busy", [3.3, 1.0, 5.0]),
        # 200 rows: busy default 1.1 against busy 1 at 1.0: within 1.3x
        _run("accelboost", 200, 1, "idle", [4.0]),
        _run("accelboost", 200, "default", "idle", [1.0]),
        _run("accelboost", 200, 1, "busy", [1.0]),
        _run("accelboost", 200, "default", "busy", [1.1]),
        # a peer whose busy default run failed
        _run("lightgbm", 100, 1, "idle", [1.0]),
        _run("lightgbm", 100, "default", "idle", [0.25]),
        _run("lightgbm", 100, 1, "busy", [1.0]),
        _run("lightgbm", 100, "default", "busy", None, status="error"),
    ]
    summary = speed.summarize_contention(runs)
    ratios, targets = speed.contention_ratios(summary)
    config = {"sizes": [100, 200], "leaves": [2], "threads": [1, "default"],
              "loads": ["idle", "busy"], "libraries": ["accelboost", "lightgbm"],
              "n_trees": {100: 10, 200: 10}, "repeats": 3, "busy_core": 1,
              "learning_rate": 0.1}
    return {"config": config, "runs": runs, "summary": summary, "ratios": ratios,
            "targets": targets, "machine": {"cpu_count": 2}, "versions": {},
            "skipped": {"xgboost": "xgboost is not installed"}}


def test_contention_medians_ratios_and_targets(contention_report):
    summary = {(e["library"], e["n_samples"], str(e["threads"]), e["load"]): e
               for e in contention_report["summary"]}
    assert summary["accelboost", 100, "1", "idle"]["fit_per_tree_s"] == 2e-3
    assert summary["accelboost", 100, "default", "busy"]["fit_per_tree_s"] == 3.3e-3
    assert summary["accelboost", 100, "default", "busy"]["fit_s"] == (
        pytest.approx(0.033))
    assert summary["accelboost", 100, "1", "busy"]["n_repeats"] == 3
    assert summary["lightgbm", 100, "default", "busy"]["status"] == "error"

    ratios = {(r["library"], r["n_samples"]): r for r in contention_report["ratios"]}
    assert set(ratios) == {("accelboost", 100), ("accelboost", 200),
                           ("lightgbm", 100)}
    assert all(r["threads"] == "default" for r in ratios.values())
    assert ratios["accelboost", 100]["idle_speedup"] == pytest.approx(2.0)
    assert ratios["accelboost", 100]["busy_over_1thread"] == pytest.approx(1.5)
    assert ratios["accelboost", 100]["busy_over_idle"] == pytest.approx(3.3)
    assert ratios["accelboost", 200]["idle_speedup"] == pytest.approx(4.0)
    assert ratios["accelboost", 200]["busy_over_1thread"] == pytest.approx(1.1)
    assert ratios["lightgbm", 100]["idle_speedup"] == pytest.approx(4.0)
    assert ratios["lightgbm", 100]["busy_over_1thread"] is None

    targets = {t["n_samples"]: t for t in contention_report["targets"]}
    assert set(targets) == {100, 200}  # accelboost only
    assert targets[100]["met"] is False and targets[200]["met"] is True
    assert targets[100]["limit"] == 1.3


def test_contention_markdown_table(contention_report):
    contention_report.update(estimated_s=60.0, elapsed_s=30.0)
    text = speed.contention_markdown(contention_report)
    rows = {tuple(cell.strip() for cell in line.split("|")[1:5]): line
            for line in text.splitlines() if line.startswith("| 1")}
    line = rows["100", "diamonds", "2", "accelboost"]
    assert "| 2 | 1 | 2.2 | 3.3 | 2.00× | 1.50× |" in line
    assert "| error |" in rows["100", "diamonds", "2", "LightGBM"]
    assert "1.50x, NOT met" in text and "1.10x, met" in text
    assert "xgboost skipped: xgboost is not installed" in text
    assert "- error: lightgbm 100 2 default busy: boom" in text


def test_thread_settings():
    # None is the library's all-cores setting
    libs = _peers.LIBRARIES
    assert libs["accelboost"].params("regression", 5, n_threads=None)[
        "n_threads"] is None
    assert libs["accelboost"].params("regression", 5, n_threads=1)["n_threads"] == 1
    assert libs["xgboost"].params("regression", 5, n_threads=None)["n_jobs"] == (
        _peers.usable_cpus())
    assert "n_jobs" not in libs["sklearn"].params("regression", 5, n_threads=2)


def test_contention_data_sizes():
    X, y, name = speed.contention_data(500, seed=1)
    assert name == "diamonds" and X.shape == (500, 9) and y.shape == (500,)
    # rows of the table, drawn without replacement
    assert len({tuple(row) + (t,) for row, t in zip(X, y, strict=True)}) > 490
    assert speed.default_n_trees(1_000_000) == 100
    assert speed.default_n_trees(43_000) == 300


# -- contention: a tiny real run ---------------------------------------------
def test_tiny_contention_run(tmp_path, monkeypatch):
    monkeypatch.setattr(type(_peers.LIBRARIES["lightgbm"]), "available",
                        lambda self: (False, "not here"))
    report = speed.run_contention(
        sizes=[2_000], leaves=[2], threads=[1, "default"], loads=["idle", "busy"],
        libraries=["accelboost", "lightgbm"], n_trees=5, repeats=2, log=None,
    )
    assert report["benchmark"] == "contention"
    assert report["schema_version"] == speed.SCHEMA_VERSION
    assert report["skipped"] == {"lightgbm": "not here"}
    assert report["config"]["libraries"] == ["accelboost"]
    assert report["elapsed_s"] > 0
    assert report["machine"]["cpu_count"] >= 1 and report["versions"]["numba"]
    runs = {(str(r["threads"]), r["load"]): r for r in report["runs"]}
    assert set(runs) == {(t, load) for t in ("1", "default")
                         for load in ("idle", "busy")}
    summary = {(str(e["threads"]), e["load"]): e for e in report["summary"]}
    for (threads, load), run in runs.items():
        assert run["status"] == "ok", run.get("reason")
        assert run["dataset"] == "diamonds" and run["n_features"] == 9
        assert run["params"]["n_threads"] == (None if threads == "default" else 1)
        assert run["params"]["max_leaf_nodes"] == 2
        assert run["n_trees_fitted"] == [5, 5]
        assert run["compile_s"] > 0
        for fit_s, per_tree in zip(run["fit_s"], run["fit_per_tree_s"], strict=True):
            assert per_tree == pytest.approx(fit_s / 5)
        assert summary[threads, load]["fit_per_tree_s"] == pytest.approx(
            statistics.median(run["fit_per_tree_s"]))
    for load in ("idle", "busy"):
        one, default = runs["1", load], runs["default", load]
        # both thread settings in one process, their fits alternating
        assert one["pid"] == default["pid"] != os.getpid()
        assert one["interleaved_with"] == default["interleaved_with"] == [
            1, "default"]
        assert one["sequence"] == [0, 2] and default["sequence"] == [1, 3]
        assert one["busy"] == default["busy"]
    assert runs["1", "idle"]["pid"] != runs["1", "busy"]["pid"]
    assert runs["1", "idle"]["busy"] is None
    busy = runs["1", "busy"]["busy"]
    assert busy["wall_s"] > 0 and not _alive(busy["pid"])

    def median(threads, load):
        return statistics.median(runs[threads, load]["fit_per_tree_s"])

    (ratio,) = report["ratios"]
    assert ratio["threads"] == "default"
    assert ratio["busy_over_1thread"] == pytest.approx(
        median("default", "busy") / median("1", "busy"))
    assert ratio["idle_speedup"] == pytest.approx(
        median("1", "idle") / median("default", "idle"))
    assert ratio["busy_over_idle"] == pytest.approx(
        median("default", "busy") / median("default", "idle"))
    (target,) = report["targets"]
    assert target["ratio"] == ratio["busy_over_1thread"]
    path = tmp_path / "contention.json"
    speed._report.save_json(report, path)
    saved = json.loads(path.read_text())["runs"]
    assert [(r["threads"], r["load"]) for r in saved] == [
        (1, "idle"), ("default", "idle"), (1, "busy"), ("default", "busy")]
    assert "| 2,000 | diamonds | 2 | accelboost |" in (
        speed.contention_markdown(report))


# -- stages: arithmetic ----------------------------------------------------------
def test_window_stats():
    per_stage = np.array([1.0, 3.0, 2.0, 9.0, 9.0, 4.0, 6.0, 5.0])
    stats = speed.window_stats(per_stage, 3)
    assert stats["first_s"] == 2.0 and stats["last_s"] == 5.0
    assert stats["ratio"] == 2.5
    assert stats["tenths_s"] == list(per_stage)  # fewer than 10 stages


def test_stages_summary_on_hand_made_runs():
    def long(first, last, ratio):
        return {"part": "long", "library": "accelboost", "status": "ok",
                "n_iter": 100, "wall": {"first_s": first, "last_s": last,
                                        "ratio": ratio, "tenths_s": [first, last]}}

    def hgb(library, fit_s, loss):
        return {"part": "hgb", "library": library, "status": "ok", "n_iter": 30,
                "fit_s": fit_s, "fit_per_stage_s": fit_s / 30, "heldout_loss": loss,
                "validation_loss": loss, "compile_s": 0.1}

    runs = [long(1.0, 1.1, 1.1), long(2.0, 3.0, 1.5), long(1.0, 1.3, 1.3),
            hgb("accelboost", 2.0, 0.5), hgb("accelboost", 4.0, 0.5),
            hgb("accelboost", 9.0, 0.5), hgb("sklearn", 3.0, 0.6),
            hgb("sklearn", 5.0, 0.6),
            {"part": "hgb", "library": "sklearn", "status": "error"}]
    summary, targets = speed.summarize_stages(runs)
    wall = summary["long"]
    assert (wall["first_s"], wall["last_s"], wall["ratio"]) == (1.0, 1.3, 1.3)
    assert wall["tenths_s"] == [1.0, 1.3]
    assert summary["hgb"]["accelboost"]["fit_s"] == 4.0
    assert summary["hgb"]["sklearn"]["fit_s"] == 4.0  # median of 3 and 5
    assert summary["hgb"]["sklearn"]["n_runs"] == 2
    assert summary["hgb_ratio_fit_s"] == 1.0
    late, versus = targets
    assert late["value"] == 1.3 and late["met"] is False
    assert versus["value"] == 1.0 and versus["met"] is True


# -- stages: a tiny run (children in this process) ---------------------------
def test_tiny_stages_run(tmp_path, monkeypatch, capsys):
    def in_process(target, spec, *, n_threads, timeout=None):
        module, function = target.split(":")
        return getattr(importlib.import_module(module), function)(**spec)

    monkeypatch.setattr(speed, "run_child", in_process)
    path = tmp_path / "stages.json"
    status = benchmarks_main([
        "speed", "stages", "--n-stages", "40", "--window", "10", "--hgb-stages", "15",
        "--repeats", "1", "--n-threads", "1", "--json", str(path),
    ])
    out = capsys.readouterr().out
    assert status == 0, out
    report = json.loads(path.read_text())
    assert report["benchmark"] == "stages"
    assert report["config"]["n_stages"] == 40 and report["config"]["window"] == 10
    long = next(r for r in report["runs"] if r["part"] == "long")
    assert long["n_iter"] == 40 and long["params"]["early_stopping"] is True
    assert len(long["stage_wall_s"]) == 40
    # timed through the callbacks: the stages add up to the fit (binning is
    # in the first), less what fit does after the last stage
    assert sum(long["stage_wall_s"]) <= long["fit_s"]
    assert sum(long["stage_wall_s"]) > 0.5 * long["fit_s"]
    assert report["summary"]["long"]["ratio"] == pytest.approx(
        long["wall"]["last_s"] / long["wall"]["first_s"])
    hgb = {r["library"]: r for r in report["runs"] if r["part"] == "hgb"}
    assert set(hgb) == {"accelboost", "sklearn"}
    for run in hgb.values():
        assert run["n_iter"] == 15 and run["n_train"] == 43_152
        assert run["n_test"] == 10_788
        assert run["heldout_loss"] < run["baseline_loss"]
    assert report["summary"]["hgb_ratio_fit_s"] == pytest.approx(
        hgb["accelboost"]["fit_s"] / hgb["sklearn"]["fit_s"])
    assert "## 40 stumps" in out and "| accelboost |" in out
    assert path.with_suffix(".md").read_text() in out
    assert "target: long fit" in out


def test_a_dead_child_is_an_error_not_a_crash(monkeypatch, capsys):
    from benchmarks import _child

    result = _child.run_child("benchmarks._child:no_such_function", {"a": 1},
                              n_threads=1, timeout=60)
    assert result["status"] == "error" and result["a"] == 1
    assert "no_such_function" in result["stderr_tail"]

    def dead(target, spec, *, n_threads, timeout=None):
        return {**spec, "status": "error", "reason": "killed"}

    monkeypatch.setattr(speed, "run_child", dead)
    assert benchmarks_main(["speed", "stages", "--parts", "long", "--n-stages",
                            "10", "--repeats", "1"]) == 1
    captured = capsys.readouterr()
    assert "- error: long accelboost 0: killed" in captured.out
    assert "error in part=long / library=accelboost: killed" in captured.err
    calls = []

    def dead_contention(target, spec, *, n_threads, timeout=None):
        calls.append((spec, n_threads))
        return {**spec, "status": "error", "reason": "killed"}

    monkeypatch.setattr(speed, "run_child", dead_contention)
    assert benchmarks_main(["speed", "contention", "--sizes", "2000", "--leaves",
                            "2", "--threads", "1,default", "--loads", "busy",
                            "--libraries", "accelboost"]) == 1
    # one process for both thread settings, its pools capped per fit inside
    ((spec, cap),) = calls
    assert spec["threads"] == [1, "default"] and cap is None
    captured = capsys.readouterr()
    assert "| 2,000 | diamonds | 2 | accelboost | error | error |" in captured.out
    assert captured.err.count("library=accelboost / n_samples=2000 / leaves=2 / "
                              "threads=") == 2


# -- engine, and the committed results ---------------------------------------------
def test_engine_summary_ratios_and_report():
    def run(library, task, fit, predict, status="ok"):
        if status != "ok":
            return {"library": library, "task": task, "status": status,
                    "reason": "boom"}
        return {"library": library, "task": task, "status": "ok",
                "fit_per_iter_s": fit, "predict_s": predict, "fit_s": fit * 10,
                "n_iter_fitted": 10, "baseline_loss": 2.0, "heldout_loss": 1.0,
                "compile_s": 0.1, "fit_cpu_per_wall": 1.9, "fit_peak_delta_mb": 5.0,
                "others_cpu_share": 0.0}

    runs = [run("accelboost", "regression", 3.0, 1.0),
            run("accelboost", "regression", 1.0, 3.0),  # medians 2 and 2
            run("lightgbm", "regression", 1.0, 4.0),
            run("sklearn", "regression", 1.0, 1.0, status="skipped")]
    summary = speed.summarize_engine(runs, ["regression"],
                                     ["accelboost", "lightgbm", "sklearn"])
    mine, lgbm, hgb = summary
    assert mine["fit_per_iter_s"] == 2.0 and mine["n_repeats_ok"] == 2
    assert lgbm["ratio_fit_per_iter"] == 2.0 and lgbm["ratio_predict"] == 0.5
    assert hgb["status"] == "skipped"
    report = {"config": {"tasks": ["regression"], "n_samples": 10, "n_test": 5,
                         "n_features": 10, "n_iter": 10, "n_threads": 1,
                         "repeats": 2},
              "runs": runs, "summary": summary}
    text = speed.engine_markdown(report)
    assert "| LightGBM | 1.0000 | 4.000 | 5 | 0.10 | 1.00000 | 1.90 | 2.00× | " \
        "0.50× |" in text
    assert "target: accelboost fit/iter / LightGBM <= 1.5x: 2.00x, NOT met" in text
    assert "- skipped: sklearn: boom" in text


@pytest.mark.parametrize("part", ["engine", "contention"])
def test_committed_speed_results_still_render(part, capsys):
    assert benchmarks_main(["speed", part, "--from-json",
                            str(RESULTS / f"{part}.json")]) == 0
    out = capsys.readouterr().out
    if part == "engine":
        assert "| accelboost | 0.0751 | 6.701 | 87 | 0.21 | 0.27299 |" in out
    else:
        assert "| 1,000,000 | synthetic_regression | 31 | accelboost | 145 | 89.2 " \
            "| 141 | 129 | 1.62× | 0.91× |" in out


# -- scale ---------------------------------------------------------------------------
def test_large_synthetic_data_is_made_chunk_by_chunk():
    from benchmarks._data import make_synthetic_large

    X, y = make_synthetic_large("regression", 2_500, 12, seed=3, chunk_rows=1_000)
    assert X.dtype == np.float32 and X.flags.c_contiguous and X.shape == (2_500, 12)
    assert y.dtype == np.float64 and np.isfinite(X).all() and np.isfinite(y).all()
    F, y_F = make_synthetic_large("regression", 2_500, 12, seed=3, chunk_rows=1_000,
                                  dtype="float64", order="F")
    assert F.dtype == np.float64 and F.flags.f_contiguous
    # The same draws, whatever the dtype and layout; a chunk's rows come from
    # its own stream, whatever follows them.
    np.testing.assert_array_equal(F.astype(np.float32), X)
    np.testing.assert_array_equal(y_F, y)
    first, y_first = make_synthetic_large("regression", 1_000, 12, seed=3)
    np.testing.assert_array_equal(first, X[:1_000])
    np.testing.assert_array_equal(y_first, y[:1_000])


def test_scale_summary_ratios_targets_and_report():
    def run(library, fit_s, peak, delta, status="ok"):
        if status != "ok":
            return {"library": library, "status": status, "reason": "boom"}
        return {"library": library, "status": "ok", "fit_s": fit_s,
                "fit_per_iter_s": fit_s / 10, "fit_cpu_per_wall": 1.9,
                "prefit_rss_mb": peak - delta, "fit_peak_rss_mb": peak,
                "fit_peak_delta_mb": delta, "x_mb": 100.0,
                "peak_delta_over_x": delta / 100.0, "heldout_loss": 0.3,
                "baseline_loss": 2.0, "n_iter_fitted": 10, "data_s": 1.0,
                "compile_s": 0.1, "others_cpu_share": 0.0}

    runs = [run("accelboost", 30.0, 400.0, 60.0), run("accelboost", 10.0, 300.0, 80.0),
            run("lightgbm", 10.0, 350.0, 140.0),
            run("xgboost", 0, 0, 0, status="error")]
    summary, targets = speed.summarize_scale(runs, ["accelboost", "lightgbm",
                                                    "xgboost"])
    mine, lgbm, xgb = summary
    assert mine["fit_s"] == 20.0 and mine["n_repeats_ok"] == 2
    assert mine["fit_peak_delta_mb"] == 70.0 and mine["peak_delta_over_x"] == 0.7
    assert lgbm["ratio_fit_s"] == 2.0 and lgbm["ratio_peak_delta"] == 0.5
    assert lgbm["ratio_peak_rss"] == 1.0
    assert xgb["status"] == "error" and "ratio_fit_s" not in xgb
    peak, copy = targets
    assert peak["value"] == 350.0 and peak["met"] is True
    assert copy["value"] == 0.7 and copy["limit"] == 1.0 and copy["met"] is True
    report = {"config": {**speed.SCALE, "dtype": "float32", "order": "C",
                         "repeats": 2, "n_samples": 1_000},
              "runs": runs, "summary": summary, "targets": targets}
    text = speed.scale_markdown(report)
    assert "1,000 rows x 28 features of float32 (C-ordered; X is 100 MB)" in text
    assert "| LightGBM | 10.0 | 1.000 | 350 | 210 | 140 | 1.40 | 0.30000 | 1.90 " \
        "| 2.00× | 0.50× | 1.00× |" in text
    assert "target: accelboost fit peak increase / X's size (no copy of X) < 1: " \
        "0.70, met" in text
    assert "- error: xgboost: boom" in text
    summary, targets = speed.summarize_scale(
        [run("accelboost", 1.0, 30_000.0, 150.0)], ["accelboost"])
    assert [t["met"] for t in targets] == [False, False]


def test_tiny_scale_run(tmp_path, capsys):
    # Real child processes: the data made there, the fit's memory measured.
    path = tmp_path / "scale.json"
    status = benchmarks_main([
        "speed", "scale", "--n-samples", "30000", "--n-test", "2000",
        "--n-iter", "3", "--n-threads", "1", "--libraries", "accelboost,lightgbm",
        "--order", "F", "--json", str(path)])
    out = capsys.readouterr().out
    assert status == 0, out
    report = json.loads(path.read_text())
    assert report["benchmark"] == "scale"
    assert report["config"]["n_samples"] == 30_000
    assert report["config"]["dtype"] == "float32"
    runs = {r["library"]: r for r in report["runs"]}
    for run in runs.values():
        assert run["status"] == "ok", run.get("reason")
        assert run["order"] == "F" and run["n_iter_fitted"] == 3
        assert run["x_mb"] == pytest.approx(30_000 * 28 * 4 / 2**20)
        assert run["fit_peak_rss_mb"] >= run["prefit_rss_mb"] > run["x_mb"]
        assert run["peak_delta_over_x"] == pytest.approx(
            run["fit_peak_delta_mb"] / run["x_mb"])
        assert run["heldout_loss"] < run["baseline_loss"]
    assert runs["accelboost"]["params"]["early_stopping"] is False
    assert runs["accelboost"]["numba_compiled_in_fit"] == 0
    (mine, lgbm) = report["summary"]
    assert lgbm["ratio_fit_s"] == pytest.approx(mine["fit_s"] / lgbm["fit_s"])
    assert [t["what"] for t in report["targets"]] == [
        "accelboost fit peak resident memory, MB",
        "accelboost fit peak increase / X's size (no copy of X)"]
    assert "| accelboost |" in out and "| LightGBM |" in out
    assert path.with_suffix(".md").read_text() in out
    assert benchmarks_main(["speed", "scale", "--from-json", str(path)]) == 0
