"""``python -m benchmarks compare`` (benchmarks/compare.py): the results'
schema, the table's arithmetic and the conclusion on a fixed result set,
missing peers, plots written, and the subcommands' dispatch."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import _peers, compare
from benchmarks.__main__ import main as benchmarks_main

REPO = Path(__file__).resolve().parent.parent


def _fake_run(method, lr, curve, seconds, repeat=0, **extra):
    return {
        "dataset": "toy", "leaves": 2, "method": method, "learning_rate": lr,
        "status": "ok", "curve": np.array(curve, dtype=float),
        "seconds": np.array(seconds, dtype=float), "fit_s": seconds[-1],
        "n_restarts": 0, "repeat": repeat, **extra,
    }


@pytest.fixture
def fixed_report():
    """Hand-made curves whose summary is worked out below by hand."""
    runs = [
        # plain: best at lr 0.1, loss 1.5 first at stage 5
        _fake_run("zero", 0.1, [5, 4, 3, 2, 1.5, 1.5], [1, 2, 3, 4, 5, 6], 0),
        _fake_run("zero", 0.1, [5, 4, 3, 2, 1.5, 1.5], [3, 4, 5, 6, 7, 8], 1),
        _fake_run("zero", 0.3, [4, 3, 2.5, 2, 2, 2], [1, 2, 3, 4, 5, 6], 0),
        _fake_run("zero", 0.3, [4, 3, 2.5, 2, 2, 2], [1, 2, 3, 4, 5, 6], 1),
        # nesterov reaches 1.5 at stage 3; seconds medians of (1, 2) = 1.5
        _fake_run("stacking_nesterov", 0.1, [4, 2, 1.4, 1.2, 1.3, 1.3],
                  [0.5, 0.8, 1, 2, 3, 4], 0),
        _fake_run("stacking_nesterov", 0.1, [4, 2, 1.4, 1.2, 1.3, 1.3],
                  [0.5, 0.8, 2, 3, 4, 5], 1),
        # AGBM (two trees a stage) reaches 1.5 at stage 2: 4 trees
        _fake_run("agbm", 0.3, [3, 1.5, 1.6, 1.6, 1.6, 1.6], [1, 2, 3, 4, 5, 6]),
        # never reaches plain's best
        _fake_run("sklearn", 0.1, [5, 4, 3, 2, 1.8, 1.7], [1, 2, 3, 4, 5, 6]),
        {"dataset": "toy", "leaves": 2, "method": "lightgbm", "learning_rate": 0.1,
         "status": "error", "reason": "boom"},
    ]
    config = {
        "datasets": ["toy"], "leaves": [2], "max_trees": 6, "repeats": 2,
        "methods": ["zero", "stacking_nesterov", "agbm", "sklearn", "lightgbm"],
        "learning_rates": [0.1, 0.3], "n_threads": 2, "gb_max_rows": 10,
        "n_samples": 0, "seed": 0,
    }
    report = {
        "config": config, "runs": runs, "skipped": {"xgboost": "not installed"},
        "machine": {"cpu_count": 2}, "versions": {"accelboost": "x"},
        "datasets": {"toy": {"description": "toy", "n_train": 10, "n_test": 5,
                             "loss": "MSE"}},
    }
    report["summary"] = compare.summarize(report)
    return report


def test_summary_arithmetic_on_a_fixed_result_set(fixed_report):
    (entry,) = fixed_report["summary"]
    # plain: lr 0.1, loss 1.5 at stage 5, median of 5 s and 7 s
    assert entry["plain"] == {"learning_rate": 0.1, "loss": 1.5, "trees": 5,
                              "seconds": 6.0}
    rows = {row["method"]: row for row in entry["rows"]}
    assert rows["zero"]["trees_ratio"] == 1.0 and rows["zero"]["seconds_ratio"] == 1.0
    nesterov = rows["stacking_nesterov"]
    assert nesterov["trees_to_plain"] == 3 and nesterov["trees_ratio"] == 3 / 5
    assert nesterov["seconds_to_plain"] == 1.5 and nesterov["seconds_ratio"] == 0.25
    assert nesterov["best_loss"] == 1.2 and nesterov["best_trees"] == 4
    assert nesterov["fit_s"] == 4.5  # median of 4 and 5
    agbm = rows["agbm"]
    assert agbm["learning_rate"] == 0.3
    assert agbm["trees_to_plain"] == 4 and agbm["best_trees"] == 4
    assert agbm["trees_ratio"] == 4 / 5 and agbm["seconds_ratio"] == 2 / 6
    assert rows["sklearn"]["trees_to_plain"] is None
    assert rows["sklearn"]["seconds_ratio"] is None
    assert rows["lightgbm"]["status"] == "error"


def test_markdown_table_shows_the_ratios_and_the_gaps(fixed_report):
    text = compare.format_markdown(fixed_report)
    lines = {line.split(" | ")[0]: line for line in text.splitlines()
             if line.startswith("| ")}
    assert "| 0.60× |" in lines["| stacking nesterov"]
    assert "| 0.25× |" in lines["| stacking nesterov"]
    assert "| 0.80× |" in lines["| agbm"]
    assert lines["| sklearn HGB"].count("—") == 4
    assert "| error |" in lines["| LightGBM"]
    assert "XGBoost hist skipped: not installed." in text


def test_compare_writes_results_table_and_plots(tmp_path, monkeypatch, capsys):
    # A missing optional peer is reported and skipped, never a crash.
    monkeypatch.setattr(type(_peers.LIBRARIES["lightgbm"]), "available",
                        lambda self: (False, "lightgbm is not installed"))
    status = benchmarks_main([
        "--datasets", "breast_cancer", "--methods", "stacking_nesterov,lightgbm",
        "--leaves", "2", "--learning-rates", "0.3,1.0", "--max-trees", "6",
        "--repeats", "2", "--n-threads", "1", "--out", str(tmp_path),
    ])
    assert status == 0
    err = capsys.readouterr().err
    assert "LightGBM: lightgbm is not installed; skipped." in err
    assert "8/8" in err  # progress: 2 methods x 2 rates x 2 repeats
    report = json.loads((tmp_path / "results.json").read_text())
    assert report["schema_version"] == compare.SCHEMA_VERSION
    assert report["command"].startswith("python -m benchmarks compare --datasets")
    assert report["skipped"] == {"lightgbm": "lightgbm is not installed"}
    assert report["config"]["methods"] == ["zero", "stacking_nesterov"]
    assert report["machine"]["cpu_count"] >= 1
    assert report["versions"]["accelboost"] and report["versions"]["numpy"]
    assert report["datasets"]["breast_cancer"]["n_train"] == 455
    assert len(report["runs"]) == 8
    for run in report["runs"]:
        assert run["status"] == "ok"
        assert run["dataset"] == "breast_cancer" and run["n_train"] == 455
        assert run["n_features"] == 30 and run["n_threads"] == 1
        assert run["repeat"] in (0, 1) and run["leaves"] == 2
        assert run["params"]["learning_rate"] == run["learning_rate"]
        assert run["params"]["max_leaf_nodes"] == 2
        assert len(run["curve"]) == len(run["seconds"]) == 6
        assert np.all(np.diff(run["seconds"]) >= 0)
    # the two repeats fit the same model
    by_key = {}
    for run in report["runs"]:
        by_key.setdefault((run["method"], run["learning_rate"]), []).append(run)
    for pair in by_key.values():
        assert pair[0]["curve"] == pair[1]["curve"]
    table = (tmp_path / "report.md").read_text()
    assert "## breast_cancer, 2 leaves" in table and "| stacking nesterov |" in table
    for name in ("loss_vs_trees.png", "loss_vs_seconds.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gradient_boosting_is_fitted_on_a_subsample_and_says_so(tmp_path):
    report = compare.run(
        datasets=["breast_cancer"], methods=["sklearn_gb"], learning_rates=[0.3],
        leaves=[2], max_trees=4, repeats=1, gb_max_rows=100, n_threads=1,
    )
    gb = [r for r in report["runs"] if r["method"] == "sklearn_gb"]
    assert gb[0]["status"] == "ok" and gb[0]["n_train"] == 100 and gb[0]["subsampled"]
    assert "sklearn GB (exact) (*subsample*)" in compare.format_markdown(report)


def test_conclusion_says_where_acceleration_paid_and_where_not(fixed_report):
    text = compare.format_markdown(fixed_report)
    conclusion = text.split("## Conclusion")[1]
    assert ("**toy, 2 leaves**: acceleration paid: stacking nesterov reached plain "
            "boosting's best held-out loss in 3 trees against 5 (0.60×, 0.25× the "
            "seconds), and its own best is 20.0% below plain's (1.2 against 1.5)"
            in conclusion)
    assert ("Fastest to plain's best: stacking nesterov, 1.50 s against plain "
            "accelboost's 6.00 s (0.25×)" in conclusion)
    assert "Acceleration paid in 1 of 1 cases (toy, 2 leaves)." in conclusion
    # the same data with momentum that never gets there
    for run in fixed_report["runs"]:
        if run["method"] in ("stacking_nesterov", "agbm"):
            run["curve"] = np.array([5, 4, 3, 2.5, 2, 1.6], dtype=float)
    fixed_report["summary"] = compare.summarize(fixed_report)
    (line,) = [x for x in compare.conclusion(fixed_report["summary"])
               if x.startswith("- ")]
    assert "acceleration did not pay" in line and "never reached it" in line
    assert "6.7% above plain's (1.6 against 1.5)" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], ("usage: python -m benchmarks [-h]", "compare", "speed",
                      "evidence")),
        (["compare", "--help"], ("--datasets", "--gb-max-rows", "--quick")),
        (["speed", "engine", "--help"], ("--numba-cache", "--n-samples",
                                         "--from-json")),
        (["speed", "contention", "--help"], ("--loads", "--busy-core")),
        (["speed", "stages", "--help"], ("--n-stages", "--hgb-stages")),
        (["evidence", "--help"], ("--dataset",)),
    ],
)
def test_subcommands_dispatch(args, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        benchmarks_main(args)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for text in expected:
        assert text in out


def test_bare_command_is_compare():
    # what the README's first command runs: no subcommand means compare
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--max-trees", "0"], cwd=REPO,
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert "python -m benchmarks compare: error: argument --max-trees" in proc.stderr


def test_committed_quick_results_render_again(tmp_path, capsys):
    saved = REPO / "benchmarks" / "results" / "quick" / "results.json"
    (tmp_path / "results.json").write_bytes(saved.read_bytes())
    assert benchmarks_main(["compare", "--from-json", str(tmp_path / "results.json"),
                            "--no-plots"]) == 0
    text = (tmp_path / "report.md").read_text()
    assert text in capsys.readouterr().out
    assert "## diamonds, 2 leaves" in text and "## Conclusion" in text
    assert "- **diamonds, 2 leaves**: acceleration " in text
