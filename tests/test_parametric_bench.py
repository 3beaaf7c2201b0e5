"""Tests of ``python -m benchmarks parametric`` (benchmarks/parametric.py): the
four experiments end to end on tiny settings, what the notebook reads, and
the summarizers' rules on made-up runs whose right answer is known."""

import json
import math

import numpy as np
import pytest

from benchmarks import parametric
from benchmarks.__main__ import main

SEEDS = 2
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
R, NR = parametric.REPRODUCED, parametric.NOT_REPRODUCED


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """Every experiment once in quick mode (a few seconds in all)."""
    out = tmp_path_factory.mktemp("parametric")
    assert main(["parametric", "all", "--quick", "--out", str(out),
                 "--seeds", str(SEEDS)]) == 0
    results = {name: json.loads((out / f"{name}.json").read_text())
               for name in parametric.EXPERIMENTS}
    return out, results


# -- what every experiment writes --------------------------------------------------
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
    assert result["verdict"] in (R, NR)
    assert result["verdicts"]
    for verdict in result["verdicts"]:
        assert set(verdict) >= {"claim", "verdict", "evidence", "numbers"}
        assert verdict["verdict"] in (R, NR)
    assert result["runs"] and result["summary"]
    assert {r["seed"] for r in result["runs"]} == set(range(SEEDS))
    assert (out / f"{name}.png").read_bytes()[:8] == PNG_MAGIC
    report = (out / parametric.REPORT_NAME).read_text()
    assert f"## {name}: {result['verdict']}" in report
    assert f"![{name}]({name}.png)" in report
    # The README's numbers are the report's own strings.
    readme_part = report.split("## Numbers for the README", 1)[1]
    assert f"**{name}: {result['verdict']}**" in readme_part
    for line in parametric.REGISTRY[name].numbers(result):
        assert f"- {line}" in readme_part


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


def test_overall_verdict_leaves_out_extensions_and_unpredicted_parts():
    def v(verdict, **flags):
        return {"verdict": verdict, **flags}

    assert parametric._overall([v(R), v(NR, extension=True)]) == R
    assert parametric._overall([v(R), v(NR, predicted=False)]) == R
    assert parametric._overall([v(R), v(NR)]) == NR
    assert parametric._overall([v(R, extension=True)]) == NR  # nothing counts


# -- deep linear -------------------------------------------------------------------
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


def _deep_runs(steps):
    """Made-up growth runs: ``steps[init]`` = steps to both thresholds."""
    return [{"seed": seed, "steps_per_stage": 1, "init": init,
             "steps_to": {"0.01": s, "0.001": None if s is None else 10 * s},
             "final": 0.01, "sigma_min_ratio": 1.0}
            for init, s in steps.items() for seed in range(3)]


@pytest.mark.parametrize(("random_steps", "expected"), [(30, R), (5, NR)])
def test_deep_linear_stacking_must_beat_zero_and_random(random_steps, expected):
    settings = {**parametric.DEEP_LINEAR_QUICK, "steps_per_stage": (1,),
                "inits": ("stacking", "zero", "random"), "thresholds": (1e-2, 1e-3)}
    found = parametric._summarize_deep_linear(
        _deep_runs({"stacking": 10, "zero": 20, "random": random_steps}), settings)
    (verdict,) = found["verdicts"]
    assert verdict["verdict"] == expected
    assert "zero init and than random init" in verdict["claim"]


# -- boosting ----------------------------------------------------------------------
BOOST = {**parametric.BOOSTING_QUICK, "tables": ("t",), "learning_rates": (0.01, 0.1),
         "max_iter": 4, "steps_per_stage": 10, "fractions": (0.5, 1.0)}


def _boost_runs(curves, stopped=()):
    """Made-up fits: ``curves[(init, lr)] = (val_curve, test_curve)`` for every
    seed; ``(init, lr, seed)`` in ``stopped`` diverged after stage 2."""
    runs = []
    for (init, lr), (val, test) in curves.items():
        for seed in range(3):
            stop = (init, lr, seed) in stopped
            runs.append({
                "table": "t", "task": "regression", "init": init,
                "learning_rate": lr, "seed": seed, "stopped_early": stop,
                "n_stages": 2 if stop else 4,
                "val_curve": val[:2] + [None, None] if stop else val,
                "test_curve": test[:2] + [None, None] if stop else test})
    return runs


FLAT = ([1.0, 0.8, 0.7, 0.6], [1.0, 0.8, 0.7, 0.6])


def test_boosting_best_rate_is_validations_choice_not_tests():
    # Stacking: validation prefers 0.01, test would prefer 0.1.
    curves = {("stacking", 0.01): ([0.5, 0.3, 0.2, 0.1], [0.5, 0.4, 0.35, 0.3]),
              ("stacking", 0.1): ([0.5, 0.3, 0.25, 0.2], [0.2, 0.1, 0.07, 0.05]),
              **{(init, lr): FLAT for init in ("zero", "random")
                 for lr in (0.01, 0.1)}}
    found = parametric._summarize_boosting(_boost_runs(curves), BOOST)
    stack = found["summary"][0]["rows"][0]
    assert stack["init"] == "stacking"
    assert stack["best_lr"] == 0.01
    assert stack["test_final"] == 0.3
    assert stack["lr_final_test"]["0.1"] == 0.05  # reported, not chosen
    # The stage of lowest validation loss is chosen on validation too.
    assert stack["val_best_step"] == 40 and stack["test_at_val_best"] == 0.3


def test_boosting_counts_fits_stopped_early_per_rate():
    curves = {(init, lr): FLAT for init in ("stacking", "zero", "random")
              for lr in (0.01, 0.1)}
    runs = _boost_runs(curves, stopped={("zero", 0.1, 0), ("zero", 0.1, 2),
                                        ("random", 0.01, 1)})
    rows = {r["init"]: r for r in
            parametric._summarize_boosting(runs, BOOST)["summary"][0]["rows"]}
    assert rows["zero"]["lr_stopped_early"] == {"0.01": 0, "0.1": 2}
    assert rows["random"]["lr_stopped_early"] == {"0.01": 1, "0.1": 0}
    # Two stopped seeds of three make the median infinite at that rate, so
    # validation picks the other one; one stopped seed is visible in the count.
    assert rows["zero"]["best_lr"] == 0.01 and rows["zero"]["stopped_early"] == 0
    assert rows["random"]["best_lr"] == 0.01
    assert parametric._stopped_text(rows["random"]) == "1/3"
    assert math.isinf(rows["zero"]["lr_final_test"]["0.1"])


@pytest.mark.parametrize(("random_curve", "expected"), [
    ([0.9, 0.8, 0.7, 0.6], R),   # stacking beats both
    ([0.3, 0.2, 0.1, 0.05], NR),  # random ends lower than stacking
])
def test_boosting_verdict_needs_stacking_ahead_of_zero_and_random(random_curve,
                                                                  expected):
    stack = [0.5, 0.3, 0.2, 0.1]
    curves = {**{("stacking", lr): (stack, stack) for lr in (0.01, 0.1)},
              **{("zero", lr): FLAT for lr in (0.01, 0.1)},
              **{("random", lr): (random_curve, random_curve) for lr in (0.01, 0.1)}}
    found = parametric._summarize_boosting(_boost_runs(curves), BOOST)
    (verdict,) = found["verdicts"]
    assert verdict["verdict"] == expected
    checks = found["summary"][0]["checks"]
    assert checks["zero"] == {"lower": True, "faster": True, "steps_ratio": 0.25,
                              "below_from_step": 10}
    assert checks["random"]["lower"] is (expected == R)
    assert checks["random"]["below_from_step"] == (10 if expected == R else None)


def test_boosting_below_from_step_is_where_stacking_stays_ahead():
    ours = np.array([0.5, 0.2, 0.3, 0.1, 0.05])
    assert parametric._below_from(ours, np.array([0.4, 0.3, 0.2, 0.2, 0.1]), 10) == 40
    assert parametric._below_from(ours, np.full(5, 0.6), 10) == 10
    assert parametric._below_from(ours, np.full(5, 0.01), 10) is None


def test_boosting_runs_record_stops_and_curves(quick_run):
    _, results = quick_run
    result = results["boosting"]
    settings = result["config"]
    for run in result["runs"]:
        assert len(run["val_curve"]) == len(run["test_curve"]) == settings["max_iter"]
        assert run["stopped_early"] == (run["n_stages"] < settings["max_iter"])
        assert bool(run["stop_messages"]) == run["stopped_early"]
        # Exactly the stages after a stop are missing.
        assert sum(v is None for v in run["val_curve"]) >= (
            settings["max_iter"] - run["n_stages"])
    for entry in result["summary"]:
        for row in entry["rows"]:
            runs = [r for r in result["runs"] if r["table"] == entry["table"]
                    and r["init"] == row["init"]]
            for lr in settings["learning_rates"]:
                assert row["lr_stopped_early"][f"{lr:g}"] == sum(
                    r["stopped_early"] for r in runs if r["learning_rate"] == lr)


# -- width -------------------------------------------------------------------------
WIDTH = {**parametric.WIDTH_QUICK, "optimizers": ("sgd", "kfac"),
         "max_width": {"sgd": 64, "kfac": 64}}


def _width_made_up(bests, low=0, high=18):
    """Made-up searches and runs: ``bests[(optimizer, parameterization)]`` =
    best exponent per width (None: every rate diverged). Each seed's losses
    are ``(k - best)^2`` plus a seed offset, at best - 2 .. best + 2."""
    curves, runs = [], []
    for (optimizer, parameterization), per_width in bests.items():
        for width, best in zip(WIDTH["widths"], per_width, strict=True):
            ks = range(max(low, (best or 5) - 2), min(high, (best or 5) + 2) + 1)
            curves.append({"optimizer": optimizer,
                           "parameterization": parameterization, "width": width,
                           "best_exponent": best,
                           "losses": {str(k): None if best is None else
                                      (k - best) ** 2 + 1.0 for k in ks}})
            runs += [{"optimizer": optimizer, "parameterization": parameterization,
                      "width": width, "exponent": k, "seed": seed,
                      "final_loss": None if best is None
                      else (k - best) ** 2 + 0.1 * seed} for k in ks
                     for seed in range(3)]
    return runs, curves


def _width_verdicts(bests):
    runs, curves = _width_made_up(bests)
    found = parametric._summarize_width(runs, curves, WIDTH)
    verdicts = {(v["numbers"]["optimizer"], v["numbers"]["parameterization"]): v
                for v in found["verdicts"]}
    spreads = {(s["optimizer"], s["parameterization"]): s
               for s in found["summary"]["spreads"]}
    return verdicts, spreads, parametric._overall(found["verdicts"])


def test_width_spread_one_stays_put_and_two_moves():
    verdicts, spreads, overall = _width_verdicts({
        ("sgd", "mup"): [3, 4, 3], ("sgd", "standard"): [3, 4, 5],
        ("kfac", "mup"): [4, 4, 4], ("kfac", "standard"): [4, 4, 4]})
    assert spreads[("sgd", "mup")]["spread"] == 1
    assert spreads[("sgd", "standard")]["spread"] == 2
    assert verdicts[("sgd", "mup")]["verdict"] == R
    assert verdicts[("sgd", "standard")]["verdict"] == R
    # Every seed's own best is the median's here.
    assert spreads[("sgd", "standard")]["seed_spreads"] == {"0": 2, "1": 2, "2": 2}
    # K-FAC's standard half did not move, as the theory predicts: reported,
    # not counted; its muP half holds. So the experiment is reproduced.
    assert verdicts[("kfac", "mup")]["verdict"] == R
    assert verdicts[("kfac", "standard")]["verdict"] == NR
    assert verdicts[("kfac", "standard")]["predicted"] is False
    assert verdicts[("sgd", "standard")]["predicted"] is True
    assert overall == R


def test_width_spread_two_under_mup_and_one_under_standard_fail():
    verdicts, _, overall = _width_verdicts({
        ("sgd", "mup"): [3, 5, 4], ("sgd", "standard"): [3, 3, 4],
        ("kfac", "mup"): [4, 4, 4], ("kfac", "standard"): [4, 4, 4]})
    assert verdicts[("sgd", "mup")]["verdict"] == NR
    assert verdicts[("sgd", "standard")]["verdict"] == NR
    assert overall == NR


def test_width_with_a_width_where_everything_diverged_is_not_reproduced():
    verdicts, spreads, overall = _width_verdicts({
        ("sgd", "mup"): [3, 3, None], ("sgd", "standard"): [3, 4, 5],
        ("kfac", "mup"): [4, 4, 4], ("kfac", "standard"): [4, 4, 4]})
    entry = spreads[("sgd", "mup")]
    assert entry["widths"] == [16, 32, 64] and entry["missing_widths"] == [64]
    assert entry["spread"] is None and entry["slope"] is None
    assert verdicts[("sgd", "mup")]["verdict"] == NR
    assert "width 64: every learning rate diverged" in (
        verdicts[("sgd", "mup")]["evidence"])
    assert overall == NR


def test_width_without_any_search_still_gives_a_verdict():
    runs, curves = _width_made_up({("sgd", "mup"): [3, 3, 3],
                                   ("sgd", "standard"): [3, 4, 5]})
    found = parametric._summarize_width(runs, curves, WIDTH)
    kfac = [v for v in found["verdicts"] if v["numbers"]["optimizer"] == "kfac"]
    assert [v["verdict"] for v in kfac] == [NR, NR]
    assert all("width 16: not measured" in v["evidence"] for v in kfac)


def test_width_best_on_the_grid_edge_is_flagged_and_fails():
    verdicts, spreads, _ = _width_verdicts({
        ("sgd", "mup"): [0, 0, 1], ("sgd", "standard"): [3, 4, 5],
        ("kfac", "mup"): [4, 4, 4], ("kfac", "standard"): [4, 4, 4]})
    assert spreads[("sgd", "mup")]["edge_widths"] == [16, 32]
    assert spreads[("sgd", "mup")]["spread"] == 1
    assert verdicts[("sgd", "mup")]["verdict"] == NR
    assert "grid's edge" in verdicts[("sgd", "mup")]["evidence"]
    assert "16: 2^-0 (grid edge)" in parametric._best_text(spreads[("sgd", "mup")])


def test_width_each_seed_has_its_own_best():
    runs, curves = _width_made_up({("sgd", "mup"): [3, 3, 3]})
    # Seed 1 prefers 2^-5 at width 64: its own spread is 2, the median's 0.
    for r in runs:
        if r["seed"] == 1 and r["width"] == 64:
            r["final_loss"] = -1.0 if r["exponent"] == 5 else r["final_loss"]
    entry = parametric._width_entry(runs, curves, WIDTH, "sgd", "mup")
    assert entry["spread"] == 0
    assert entry["seed_best_exponents"]["1"] == [3, 3, 5]
    assert entry["seed_spreads"] == {"0": 0, "1": 2, "2": 0}


def test_width_quick_run_searches_two_steps_around_every_best(quick_run):
    _, results = quick_run
    result = results["width"]
    settings = result["config"]
    for c in result["summary"]["curves"]:
        low, high = settings["exponents"][c["optimizer"]]
        losses = {int(k): math.inf if v is None else v for k, v in c["losses"].items()}
        best = c["best_exponent"]
        assert best is not None and losses[best] == min(losses.values())
        for k in range(best - settings["margin"], best + settings["margin"] + 1):
            assert k in losses or not low <= k <= high
        # The median of the stored per-seed runs is the search's loss.
        for k, loss in losses.items():
            finals = [math.inf if r["final_loss"] is None else r["final_loss"]
                      for r in result["runs"] if r["exponent"] == k
                      and r["width"] == c["width"]
                      and r["optimizer"] == c["optimizer"]
                      and r["parameterization"] == c["parameterization"]]
            assert len(finals) == SEEDS
            assert np.median(finals) == pytest.approx(loss)


# -- catapults ---------------------------------------------------------------------
CATAPULT_SETTINGS = {**parametric.CATAPULTS_QUICK, "batch_sizes": (64, 16, 4)}


def _catapult_runs(direction, n_seeds=6, diverged=()):
    """Made-up runs whose measures follow the claim (direction +1) or go the
    other way (-1), with seed-specific levels and a little noise."""
    rng = np.random.default_rng(0)
    runs = []
    for seed in range(n_seeds):
        level = rng.normal()
        for b in CATAPULT_SETTINGS["batch_sizes"]:
            t = direction * -np.log2(b)  # grows as batches shrink, if claimed
            runs.append({
                "seed": seed, "kind": "sgd", "batch_size": b, "lr_multiple": 1.3,
                "diverged": (seed, b) in diverged, "catapults": int(10 + t + seed),
                "alignment": 0.5 + 0.05 * t + 0.01 * level,
                "test_loss": 1.0 - 0.05 * t + 0.1 * level,
                "train_loss": 0.01})
        runs.append({"seed": seed, "kind": "reference", "batch_size": 64,
                     "lr_multiple": 0.5, "diverged": False, "catapults": 0,
                     "alignment": 0.4, "test_loss": 1.2, "train_loss": 0.02})
    return runs


@pytest.mark.parametrize(("direction", "expected"), [(+1, R), (-1, NR)])
def test_catapult_verdicts_follow_the_per_seed_trends(direction, expected):
    found = parametric._summarize_catapults(_catapult_runs(direction),
                                            CATAPULT_SETTINGS)
    assert [v["verdict"] for v in found["verdicts"]] == [expected] * 3
    for key, trend in found["summary"]["trends"].items():
        assert len(trend["rho_by_seed"]) == 6
        assert (trend["claimed"], trend["opposite"]) == (
            (6, 0) if direction > 0 else (0, 6)), key
        # Six seeds of six: 1 / 64 under no trend.
        assert trend["p" if direction > 0 else "p_opposite"] == pytest.approx(1 / 64)


def test_catapults_are_tested_over_seeds_not_pooled_runs():
    # Five seeds all in the claimed direction reach p = 1/32 < 0.05; four
    # cannot (1/16), however many runs each has.
    assert parametric.sign_test([-0.9] * 5, -1)["p"] == pytest.approx(1 / 32)
    assert parametric.sign_test([-0.9] * 4, -1)["p"] == pytest.approx(1 / 16)
    found = parametric._summarize_catapults(_catapult_runs(+1, n_seeds=4),
                                            CATAPULT_SETTINGS)
    assert [v["verdict"] for v in found["verdicts"]] == [NR] * 3
    test = parametric.sign_test([-0.5, 0.5, None, 0.0, -1.0], -1)
    assert (test["claimed"], test["opposite"], test["ties"]) == (2, 1, 2)


def test_a_diverged_catapult_run_is_dropped_alone_and_counted():
    found = parametric._summarize_catapults(
        _catapult_runs(+1, diverged={(0, 4), (3, 4)}), CATAPULT_SETTINGS)
    summary = found["summary"]
    assert summary["diverged_runs"] == [{"seed": 0, "batch_size": 4},
                                        {"seed": 3, "batch_size": 4}]
    assert summary["n_runs"] == 18
    row = next(r for r in summary["rows"] if r["batch_size"] == 4
               and r["kind"] == "sgd")
    assert row["diverged"] == 2 and row["catapults"] is not None  # 4 seeds left
    # Seed 0 keeps its trend over batch sizes 64 and 16.
    assert summary["trends"]["alignment"]["rho_by_seed"]["0"] == pytest.approx(-1)
    assert all(v["verdict"] == R for v in found["verdicts"])
    assert "2 of 18 runs dropped as diverged" in found["verdicts"][0]["evidence"]


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
    assert set(result["summary"]["trends"]) == {"catapults", "alignment",
                                                "test_loss"}


# -- helpers ---------------------------------------------------------------------
def test_bracket_best_evaluates_two_steps_around_the_best():
    calls = []

    def evaluate(k):
        calls.append(k)
        return (k - 7) ** 2 + 1.0

    found = parametric.bracket_best(evaluate, start=3, low=0, high=20)
    assert min(found, key=found.get) == 7
    assert set(range(5, 10)) <= set(found)
    assert calls == [3, 1, 2, 4, 5, 6, 7, 8, 9]  # each once, walking downhill
    # Clipped to the grid; a minimum on its edge gets the two inside.
    found = parametric.bracket_best(lambda k: float(k), start=-5, low=0, high=9)
    assert set(found) == {0, 1, 2}


def test_bracket_best_is_not_stopped_by_a_local_minimum_next_to_the_start():
    # A dip at 3 with worse neighbours 2 and 4, and the true minimum at 5: a
    # search that stops at the first local minimum would keep 3.
    losses = {1: 2.0, 2: 1.2, 3: 1.0, 4: 1.1, 5: 0.5, 6: 0.9, 7: 1.5}
    found = parametric.bracket_best(lambda k: losses.get(k, 3.0), 3, 0, 20)
    assert min(found, key=found.get) == 5
    assert set(range(3, 8)) <= set(found)
    found = parametric.bracket_best(lambda k: losses.get(k, 3.0), 3, 0, 20, margin=1)
    assert min(found, key=found.get) == 3  # what the old one-step search saw


def test_bracket_best_walks_past_diverged_rates_to_smaller_ones():
    found = parametric.bracket_best(
        lambda k: math.inf if k < 5 else (k - 6) ** 2, start=1, low=0, high=12)
    assert min(found, key=found.get) == 6
    assert found[1] == math.inf and set(range(4, 9)) <= set(found)
    everything_diverges = parametric.bracket_best(lambda k: math.inf, 0, 0, 3)
    assert set(everything_diverges) == {0, 1, 2, 3}


def test_steps_to_and_median_count_unreached_as_infinite():
    assert parametric.steps_to([1.0, 0.5, 0.1, 0.2], 0.1) == 2
    assert parametric.steps_to([1.0, None, 0.05], 0.1) == 2
    assert parametric.steps_to([1.0, 0.5], 0.1) is None
    assert parametric.steps_to([1.0, 0.5], math.inf) is None
    assert parametric._median([1, 3, None]) == 3
    assert parametric._median([1, None, None]) is None
    assert parametric._median([]) is None
