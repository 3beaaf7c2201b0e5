"""Tests of ``python -m benchmarks parametric`` (benchmarks/parametric.py): the
four experiments end to end on tiny settings, what the notebook reads, and
the numbers' sanity."""

import json
import math

import numpy as np
import pytest

from benchmarks import parametric
from benchmarks.__main__ import main

SEEDS = 2
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """Every experiment once in quick mode (a few seconds in all)."""
    out = tmp_path_factory.mktemp("parametric")
    assert main(["parametric", "all", "--quick", "--out", str(out),
                 "--seeds", str(SEEDS)]) == 0
    results = {name: json.loads((out / f"{name}.json").read_text())
               for name in parametric.EXPERIMENTS}
    return out, results


# -- what every experiment writes ----------------------------------------------------
@pytest.mark.parametrize("name", parametric.EXPERIMENTS)
def test_each_experiment_writes_json_png_and_its_report_section(quick_run, name):
    out, results = quick_run
    result = results[name]
    assert result["benchmark"] == f"parametric/{name}"
    assert result["experiment"] == name
    assert result["command"].startswith("python -m benchmarks parametric all")
    assert result["config"]["quick"] is True
    assert result["seeds"] == list(range(SEEDS))
    assert result["elapsed_s"] > 0
    assert result["commit"] is None or len(result["commit"]["head"]) == 40
    assert result["verdict"] in (parametric.REPRODUCED, parametric.NOT_REPRODUCED)
    assert result["verdicts"]
    for verdict in result["verdicts"]:
        assert set(verdict) >= {"claim", "verdict", "evidence", "numbers"}
        assert verdict["verdict"] in (parametric.REPRODUCED,
                                      parametric.NOT_REPRODUCED)
    # The overall verdict is "reproduced" exactly when every primary one is.
    primary = [v["verdict"] for v in result["verdicts"] if not v.get("extension")]
    assert (result["verdict"] == parametric.REPRODUCED) == all(
        v == parametric.REPRODUCED for v in primary)
    assert result["runs"] and result["summary"]
    assert {r["seed"] for r in result["runs"]} == set(range(SEEDS))
    assert (out / f"{name}.png").read_bytes()[:8] == PNG_MAGIC
    report = (out / parametric.REPORT_NAME).read_text()
    assert f"## {name}: {result['verdict']}" in report
    assert f"![{name}]({name}.png)" in report


def test_strict_json_has_no_nan(quick_run):
    out, _ = quick_run
    def refuse(constant):
        raise AssertionError(f"non-strict JSON constant {constant}")

    for name in parametric.EXPERIMENTS:
        # json.loads accepts NaN by default; strict parsing rejects it.
        json.loads((out / f"{name}.json").read_text(), parse_constant=refuse)


def test_report_regenerates_from_the_json_files_alone(quick_run, tmp_path):
    out, results = quick_run
    (tmp_path / "width.json").write_text((out / "width.json").read_text())
    (tmp_path / "other.json").write_text(json.dumps({"benchmark": "additive"}))
    report = parametric.write_report(tmp_path).read_text()
    assert "## width:" in report and "## boosting:" not in report
    assert results["width"]["claim"] in report


# -- the numbers -----------------------------------------------------------------------
def test_deep_linear_zero_init_curves_only_go_down(quick_run):
    # With a zero new layer the function carries over between stages, and each
    # stage is gradient descent at step 1 / L on a convex quadratic: the
    # training loss can never rise.
    _, results = quick_run
    result = results["deep-linear"]
    for run in result["runs"]:
        curve = np.array(run["curve"], dtype=float)
        assert curve[0] == 1.0
        assert len(curve) == result["config"]["total_steps"] + 1
        if run["init"] == "zero":
            assert np.all(np.diff(curve) <= 1e-12 * curve[:-1])
            assert curve[-1] < 0.1
    for row in result["summary"]["rows"]:
        assert set(row["steps_to"]) == {f"{t:g}" for t in
                                        result["config"]["thresholds"]}


def test_deep_linear_scaled_copy_with_momentum_zero_is_zero_init():
    settings = parametric.DEEP_LINEAR_QUICK
    X, Y = parametric.deep_linear_problem(settings, seed=3)
    rng = np.random.default_rng(0)
    zero = parametric.grow_deep_linear(X, Y, "zero", 3, 30, rng)
    half = parametric.grow_deep_linear(X, Y, "stacking_half", 3, 30, rng,
                                       half_momentum=0.0)
    assert zero["curve"] == half["curve"]
    assert zero["depth"] == 10


def test_deep_linear_inputs_are_as_ill_conditioned_as_asked():
    settings = {**parametric.DEEP_LINEAR_QUICK, "n_samples": 20_000}
    X, Y = parametric.deep_linear_problem(settings, seed=0)
    eigenvalues = np.linalg.eigvalsh(X.T @ X / len(X))
    assert eigenvalues[-1] / eigenvalues[0] == pytest.approx(
        settings["condition_number"], rel=0.1)
    assert Y.shape == X.shape


def test_boosting_best_rate_per_init_and_curves_per_stage(quick_run):
    _, results = quick_run
    result = results["boosting"]
    settings = result["config"]
    for entry in result["summary"]:
        assert [r["init"] for r in entry["rows"]] == list(settings["inits"])
        for row in entry["rows"]:
            assert row["best_lr"] in settings["learning_rates"]
            assert len(row["test_curve"]) == settings["max_iter"]
            # The stored curve keeps 6 significant digits.
            assert row["test_final"] == pytest.approx(row["test_curve"][-1], rel=1e-5)
            assert row["test_min"] <= row["test_final"]
    for run in result["runs"]:
        assert len(run["val_curve"]) == len(run["test_curve"]) == settings["max_iter"]


def test_width_records_one_best_rate_per_width_with_worse_neighbours(quick_run):
    _, results = quick_run
    result = results["width"]
    settings = result["config"]
    curves = result["summary"]["curves"]
    for optimizer in settings["optimizers"]:
        low, high = settings["exponents"][optimizer]
        for parameterization in settings["parameterizations"]:
            chosen = [c for c in curves if c["optimizer"] == optimizer
                      and c["parameterization"] == parameterization]
            widths = [w for w in settings["widths"]
                      if w <= settings["max_width"][optimizer]]
            assert [c["width"] for c in chosen] == widths
            for c in chosen:
                losses = {int(k): math.inf if v is None else v
                          for k, v in c["losses"].items()}
                best = c["best_exponent"]
                assert best is not None and losses[best] == min(losses.values())
                assert c["best_lr"] == 2.0**-best
                for k in (best - 1, best + 1):
                    assert k in losses or not low <= k <= high
    spreads = result["summary"]["spreads"]
    assert len(spreads) == len(settings["optimizers"]) * 2
    for s in spreads:
        assert s["spread"] == max(s["best_exponents"]) - min(s["best_exponents"])


def test_catapult_runs_record_their_measures(quick_run):
    _, results = quick_run
    result = results["catapults"]
    settings = result["config"]
    for seed in range(SEEDS):
        runs = [r for r in result["runs"] if r["seed"] == seed]
        assert sorted(r["batch_size"] for r in runs if r["kind"] == "sgd") == sorted(
            settings["batch_sizes"])
        assert sum(r["kind"] == "reference" for r in runs) == 1
        for run in runs:
            assert run["critical_lr"] == pytest.approx(2 / run["sharpness"])
            assert run["learning_rate"] == pytest.approx(
                run["lr_multiple"] * run["critical_lr"])
            if not run["diverged"]:
                assert 0.0 <= run["alignment"] <= 1.0
                assert run["catapults"] >= 0 and run["test_loss"] > 0
                assert len(run["curve"]) == settings["steps"] + 1
    assert set(result["summary"]["correlations"]) == {"catapults", "alignment",
                                                      "test_loss"}


# -- helpers ---------------------------------------------------------------------
def test_bracket_best_finds_the_minimum_and_stops_at_its_neighbours():
    calls = []

    def evaluate(k):
        calls.append(k)
        return (k - 7) ** 2 + 1.0

    found = parametric.bracket_best(evaluate, start=3, low=0, high=20)
    assert min(found, key=found.get) == 7
    assert {6, 7, 8} <= set(found)
    assert calls == [3, 2, 4, 5, 6, 7, 8]  # each once, walking downhill
    # Clipped to the grid, and a minimum on its edge needs one neighbour.
    found = parametric.bracket_best(lambda k: float(k), start=-5, low=0, high=9)
    assert set(found) == {0, 1}


def test_bracket_best_walks_past_diverged_rates_to_smaller_ones():
    found = parametric.bracket_best(
        lambda k: math.inf if k < 5 else (k - 6) ** 2, start=1, low=0, high=12)
    assert min(found, key=found.get) == 6
    assert found[1] == math.inf and {5, 7} <= set(found)
    everything_diverges = parametric.bracket_best(lambda k: math.inf, 0, 0, 3)
    assert set(everything_diverges) == {0, 1, 2, 3}


def test_steps_to_and_median_count_unreached_as_infinite():
    assert parametric.steps_to([1.0, 0.5, 0.1, 0.2], 0.1) == 2
    assert parametric.steps_to([1.0, None, 0.05], 0.1) == 2
    assert parametric.steps_to([1.0, 0.5], 0.1) is None
    assert parametric._median([1, 3, None]) == 3
    assert parametric._median([1, None, None]) is None
    assert parametric._median([]) is None
