"""``python -m benchmarks distributed`` (benchmarks/distributed.py): the data
blocks, the verdicts and the cost model on made-up numbers, the walk that
finds a shard's per-row arrays, and one tiny real run on a local cluster
(LightGBM-Dask included: lightgbm and dask are test dependencies)."""

import json
import time

import numpy as np
import psutil
import pytest

from benchmarks import distributed
from benchmarks.__main__ import main as benchmarks_main

MB = 2.0**20


# -- data -------------------------------------------------------------------------
def test_blocks_cover_the_rows_at_least_one_per_worker():
    assert distributed.block_sizes(2_000_000) == [250_000] * 8
    assert distributed.block_sizes(200_000) == [100_000, 100_000]
    assert distributed.block_sizes(20_001, 250_000, 3) == [6_667, 6_667, 6_667]
    sizes = distributed.block_sizes(1_000_003, 250_000, 2)
    assert sum(sizes) == 1_000_003 and max(sizes) - min(sizes) <= 1
    assert max(sizes) <= 250_000
    assert distributed.block_owners(8, 2) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert distributed.block_owners(3, 2) == [0, 0, 1]


def test_materialized_rows_are_the_blocks_in_order():
    sizes = [300, 200]
    X, y = distributed.materialize("binary", sizes, 28, seed=3)
    X0, y0 = distributed.make_block("binary", 300, 28, 3, distributed.FIRST_STREAM)
    X1, y1 = distributed.make_block("binary", 200, 28, 3,
                                    distributed.FIRST_STREAM + 1)
    np.testing.assert_array_equal(X, np.vstack([X0, X1]))
    np.testing.assert_array_equal(y, np.concatenate([y0, y1]))
    assert not np.array_equal(X0[:200], X1)  # each block its own stream


# -- verdicts ---------------------------------------------------------------------
def test_time_targets_on_made_up_numbers():
    vs_memory, vs_lightgbm = distributed.time_targets("t", 10.0, 4.0, 12.0)
    assert vs_memory["value"] == pytest.approx(2.5) and vs_memory["met"] is False
    assert vs_memory["limit"] == 2.0
    assert vs_lightgbm["value"] == pytest.approx(10 / 12) and vs_lightgbm["met"]
    at_limit, _ = distributed.time_targets("t", 8.0, 4.0, 12.0)
    assert at_limit["met"] is True  # <= is met
    missing = distributed.time_targets("t", 10.0, None, 0.0)
    assert [t["met"] for t in missing] == [None, None]


def test_memory_target_on_made_up_numbers():
    rows = [1_000_000, 1_000_000]
    budget = distributed.memory_budget_bytes(1_000_000, 28, 72.0)
    assert budget == 100_000_000
    within = distributed.memory_target("m", [140.0, 100.0], rows, 28, 72.0)
    assert within["value"] == pytest.approx(140 * MB / 1e8) and within["met"] is True
    over = distributed.memory_target("m", [100.0, 150.0], rows, 28, 72.0)
    assert over["value"] == pytest.approx(150 * MB / 1e8) and over["met"] is False
    assert distributed.memory_target("m", [100.0, None], rows, 28, 72.0)["met"] is None
    assert distributed.memory_target("m", [100.0, 90.0], rows, 28, None)["met"] is None


def test_tree_time_model_on_made_up_numbers():
    model = distributed.tree_time_model(
        c_ns=100.0, n_rows=1e6, n_workers=2, round_trips=10, latency_s=1e-3,
        round_bytes=1e6, bandwidth=1e9, sum_s=1e-4)
    assert model["compute_s"] == pytest.approx(0.05)
    assert model["latency_s"] == pytest.approx(0.01)
    assert model["transfer_s"] == pytest.approx(0.01)  # 10 x 1 x 1 MB / 1 GB/s
    assert model["sum_s"] == pytest.approx(0.002)  # 10 x 2 x 0.1 ms
    assert model["total_s"] == pytest.approx(0.072)
    assert model["dominant"] == "compute_s"
    wide = distributed.tree_time_model(100.0, 1e6, 1000, 10, 1e-3, 1e6, 1e9, 1e-4)
    assert wide["dominant"] == "transfer_s"
    tree = distributed.tree_reduction_model(100.0, 1e6, 8, 10, 1e-3, 1e6, 1e9, 1e-4)
    assert tree["latency_s"] == pytest.approx(0.03)  # 3 steps a round
    assert tree["transfer_s"] == pytest.approx(0.03)
    assert tree["sum_s"] == pytest.approx(0.003)


def test_best_workers_is_the_models_minimum():
    args = dict(c_ns=150.0, n_rows=1e8, round_trips=10, latency_s=3e-3,
                round_bytes=6e5, bandwidth=1e9, sum_s=2e-5)
    best, seconds = distributed.best_workers(**args, limit=2_000)

    def at(w):
        return distributed.tree_time_model(n_workers=w, **args)["total_s"]

    brute = min(range(1, 2_001), key=at)
    assert best == brute and seconds == pytest.approx(at(brute))


# -- the per-row walk -------------------------------------------------------------
class _Node:
    pass


def test_per_row_arrays_counts_each_block_once_by_its_shortest_path():
    n = 1_000
    root, child = _Node(), _Node()
    root.y = np.zeros(n)
    root.y_view = root.y[::2]  # a view: counted as its base, once
    root.binned = np.zeros((n, 28), dtype=np.uint8, order="F")
    root.small = np.zeros(64)  # not per row
    root.child = child
    root.loop = root  # cycles end
    child.gradients = np.zeros((1, n), dtype=np.float32)  # n in a later axis
    child.parts = [(np.zeros((n, 2)), 3), {"indices": np.arange(n, dtype=np.uint32)}]
    child.binned_again = root.binned[:, :5]  # a view of the excluded block
    found = distributed.per_row_arrays(root, n, exclude=[root.binned],
                                       package=__name__.split(".")[0])
    assert found == {"y": 8 * n, "child.gradients": 4 * n,
                     "child.parts[0][0]": 16 * n, "child.parts[1].indices": 4 * n}


# -- a tiny real run --------------------------------------------------------------
def _cluster_processes():
    me = psutil.Process()
    return [p for p in me.children(recursive=True)
            if "spawn_main" in " ".join(p.cmdline())]


def test_tiny_run_writes_the_results_and_leaves_no_process(tmp_path, capsys):
    status = benchmarks_main(["distributed", "--rows", "20000", "--trees", "3",
                              "--repeats", "1", "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert status == 0, out.err
    report = json.loads((tmp_path / "results.json").read_text())
    assert report["benchmark"] == "distributed"
    assert report["config"]["n_samples"] == 20_000
    assert all(r["status"] == "ok" for r in report["runs"]), [
        r.get("reason") for r in report["runs"]]
    kinds = {(r["kind"], r["task"], r.get("variant"), r.get("n_threads"))
             for r in report["runs"]}
    assert ("in_memory", "regression", "stacking", 2) in kinds
    assert ("in_memory", "binary", "zero", 1) in kinds
    assert {("dask", t, v, None) for t, v in [("regression", "zero"),
            ("regression", "stacking"), ("binary", "zero")]} <= kinds
    assert {("lightgbm", t, None, None) for t in ("regression", "binary")} <= kinds
    for run in report["runs"]:
        if run["kind"] == "dask":
            assert len(run["rounds"]) == len(run["bytes"]) == 3
            assert len(run["stage_s"]) == 3
            assert run["worker_rows"] == [10_000, 10_000]
            assert sorted(s["n_rows"] for s in run["shards"]) == [10_000, 10_000]
        if run["kind"] != "in_memory":
            assert len(run["workers"]) == 2
            assert all(w["peak_delta_mb"] >= 0 for w in run["workers"])
    assert len(report["summary"]) == 3 and len(report["targets"]) == 9
    for entry in report["summary"]:
        dask = entry["dask"]
        assert dask["rounds_per_tree"] > 1 and dask["bytes_per_tree"] > 0
        assert dask["numba_compiled_in_fit"] == 0  # warmed up
        assert len(dask["worker_peak_delta_mb"]) == 2
        state = entry["state"]
        assert state["binned_bytes_per_row"] == 28
        for array in ("y", "train.state[0]", "fitter.rows.sample_indices"):
            assert array in state["arrays"]
        assert state["bytes_per_row"] == pytest.approx(sum(state["arrays"].values()))
        if entry["variant"] == "zero":  # the same trees, up to rounding
            assert dask["heldout_loss"] == pytest.approx(
                entry["in_memory"]["heldout_loss"], rel=1e-6)
        assert entry["lightgbm"]["n_ok"] == 1
    assert all(t["met"] in (True, False) for t in report["targets"])
    cluster = report["cluster"]
    assert cluster["latency"]["noop_s"] > 0 and cluster["latency"]["payload_bytes"] > 0
    assert set(cluster["warmup_s"]) >= {"regression dask zero", "binary lightgbm"}
    for task in ("regression", "binary"):  # n <= 200,000: the sample is every row
        assert cluster["sample_probe"][task]["rows"] == 20_000
        assert len(cluster["sample_probe"][task]["worker_peak_delta_mb"]) == 2
    model = report["model"]
    assert model["inputs"]["c_ns"] > 0 and model["inputs"]["round_bytes"] > 0
    assert model["flat"]["total_s"] > 0 and model["best_workers"] >= 1
    text = (tmp_path / "report.md").read_text()
    for heading in ("## Targets", "## Memory per worker", "## Traffic",
                    "## Estimate: a tree over W workers"):
        assert heading in text
    assert "targets met" in text and text in out.out
    # the report renders again from the JSON alone
    assert benchmarks_main(["distributed", "--report-only", "--out",
                            str(tmp_path)]) == 0
    assert (tmp_path / "report.md").read_text() == text
    deadline = time.monotonic() + 20
    while _cluster_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _cluster_processes()


def test_others_cpu_share_on_made_up_numbers():
    # 10 s on 2 CPUs; the machine was busy 15 CPU-s, ours 10 of them
    assert distributed.others_cpu_share(100.0, 5.0, 115.0, 15.0, 10.0, 2) == 0.25
    assert distributed.others_cpu_share(100.0, 5.0, 104.0, 15.0, 10.0, 2) == 0.0
    assert distributed.others_cpu_share(None, 5.0, 104.0, 15.0, 10.0, 2) is None
