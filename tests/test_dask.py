"""accelboost.dask on a LocalCluster: the model a cluster fits is the one
memory fits (same bins), whatever the partitions; faults give a clear error;
nothing is left running."""

import os
import pickle
import signal
import subprocess
import sys
import time

import dask.array as da  # the "dask" extra, in the test extra too
import dask.dataframe as dd
import distributed
import numba
import numpy as np
import pandas as pd
import psutil
import pytest
from sklearn.datasets import make_classification, make_regression

from accelboost import AccelBoostClassifier, AccelBoostRegressor
from accelboost.dask import (
    DaskAccelBoostClassifier,
    DaskAccelBoostRegressor,
    WorkerLostError,
)


def _cluster():
    return distributed.LocalCluster(
        # The scheduler's HTTP server (metrics) binds 8787 even without a
        # dashboard; any free port lets a second cluster start without a
        # warning.
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
        silence_logs=50,
    )


@pytest.fixture(scope="module")
def client():
    with _cluster() as cluster, distributed.Client(cluster) as client:
        yield client


def _regression(n=3000, seed=0):
    X, y = make_regression(n, 6, noise=5.0, random_state=seed)
    return X, y


def _classification(n=3000, n_classes=2, seed=0):
    return make_classification(n, 6, n_informative=4, n_classes=n_classes,
                               random_state=seed)


def _dask(X, y, chunks, w=None):
    dX = da.from_array(X, chunks=(chunks, X.shape[1]))
    dy = da.from_array(y, chunks=(chunks,))
    dw = None if w is None else da.from_array(w, chunks=(chunks,))
    return dX, dy, dw


PARAMS = dict(max_iter=15, learning_rate=0.3, random_state=3, early_stopping=False)


@pytest.mark.parametrize("stage_init", ["zero", "stacking", "agbm"])
@pytest.mark.parametrize("weighted", [False, True])
def test_regressor_equals_the_in_memory_fit(client, stage_init, weighted):
    X, y = _regression()
    w = np.random.RandomState(0).uniform(0.5, 2.0, len(y)) if weighted else None
    params = dict(PARAMS, stage_init=stage_init)
    dX, dy, dw = _dask(X[:2500], y[:2500], (700, 1800), None if w is None
                       else w[:2500])
    model = DaskAccelBoostRegressor(**params).fit(dX, dy, dw)
    expected = AccelBoostRegressor(**params).fit(X[:2500], y[:2500],
                                                 None if w is None else w[:2500])
    np.testing.assert_array_equal(model._bin_mapper.thresholds_,
                                  expected._bin_mapper.thresholds_)
    predicted = model.predict(da.from_array(X[2500:], chunks=200))
    assert isinstance(predicted, da.Array)
    np.testing.assert_allclose(predicted.compute(), expected.predict(X[2500:]),
                               rtol=0, atol=1e-10)
    np.testing.assert_array_equal(model.restart_stages_, expected.restart_stages_)
    assert len(model.fit_stats_.rounds) == 15 * (2 if stage_init == "agbm" else 1)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("stage_init", ["zero", "stacking"])
def test_classifier_equals_the_in_memory_fit(client, n_classes, stage_init):
    X, y = _classification(n_classes=n_classes)
    labels = np.array(["a", "b", "c"])[y]
    params = dict(PARAMS, stage_init=stage_init)
    dX, dy, _ = _dask(X[:2500], labels[:2500], 1250)
    model = DaskAccelBoostClassifier(**params).fit(dX, dy)
    expected = AccelBoostClassifier(**params).fit(X[:2500], labels[:2500])
    np.testing.assert_array_equal(model.classes_, expected.classes_)
    held_out = da.from_array(X[2500:], chunks=300)
    np.testing.assert_allclose(model.predict_proba(held_out).compute(),
                               expected.predict_proba(X[2500:]), rtol=0, atol=1e-10)
    np.testing.assert_array_equal(model.predict(held_out).compute(),
                                  expected.predict(X[2500:]))


def test_early_stopping_on_a_validation_set_equals_the_in_memory_fit(client):
    X, y = _regression(4000)
    params = dict(max_iter=200, learning_rate=0.5, random_state=0,
                  n_iter_no_change=5, stage_init="stacking")
    dX, dy, _ = _dask(X[:3000], y[:3000], 1000)
    vX, vy, _ = _dask(X[3000:], y[3000:], 400)
    model = DaskAccelBoostRegressor(**params).fit(dX, dy, X_val=vX, y_val=vy)
    expected = AccelBoostRegressor(**params).fit(X[:3000], y[:3000],
                                                 X_val=X[3000:], y_val=y[3000:])
    assert model.n_iter_ == expected.n_iter_ < 200
    assert model.best_iteration_ == expected.best_iteration_
    np.testing.assert_allclose(model.validation_score_, expected.validation_score_,
                               rtol=1e-12)
    np.testing.assert_allclose(model.train_score_, expected.train_score_, rtol=1e-12)


@pytest.mark.parametrize("chunks", [(10, 1000, 1990), (0, 1500, 0, 1500)])
def test_unequal_and_empty_partitions(client, chunks):
    X, y = _regression(3000)
    dX = da.from_array(X, chunks=(chunks, 6))
    dy = da.from_array(y, chunks=(chunks,))
    params = dict(PARAMS, stage_init="stacking")
    model = DaskAccelBoostRegressor(**params).fit(dX, dy)
    expected = AccelBoostRegressor(**params).fit(X, y)
    np.testing.assert_allclose(model.predict(X), expected.predict(X), rtol=0,
                               atol=1e-10)


def test_all_rows_on_one_worker(client):
    """A worker with no data holds no shard; the fit is the same."""
    X, y = _regression(2000)
    worker = sorted(client.scheduler_info()["workers"])[0]
    dX = client.persist(da.from_array(X, chunks=(500, 6)), workers=[worker])
    dy = client.persist(da.from_array(y, chunks=500), workers=[worker])
    model = DaskAccelBoostRegressor(**PARAMS).fit(dX, dy)
    expected = AccelBoostRegressor(**PARAMS).fit(X, y)
    np.testing.assert_allclose(model.predict(X), expected.predict(X), atol=1e-10)


def _shard_threads(dask_worker):
    return [a.n_threads for a in dask_worker.state.actors.values()
            if hasattr(a, "n_threads")]


@pytest.mark.parametrize("n_threads, expected", [(None, 2), (1, 1)])
def test_shards_use_their_workers_threads_unless_told(n_threads, expected):
    """n_threads is per worker, None meaning the worker's own threads (as
    in LightGBM-Dask), never more than Numba's; the model does not depend
    on it."""
    expected = min(expected, numba.config.NUMBA_NUM_THREADS)
    X, y = _regression(30_000)  # 180,000 cells: enough for two threads
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2,
                                  dashboard_address=":0", silence_logs=50) \
            as cluster, distributed.Client(cluster) as client:
        dX, dy, _ = _dask(X, y, 10_000)
        seen = []
        params = dict(PARAMS, max_iter=3, n_threads=n_threads)
        model = DaskAccelBoostRegressor(**params).fit(
            dX, dy, callbacks=[lambda info: seen.extend(
                client.run(_shard_threads).values())])
        assert seen and all(threads == [expected] for threads in seen)
        local = AccelBoostRegressor(**params).fit(X, y)
        np.testing.assert_allclose(model.predict(X), local.predict(X), rtol=0,
                                   atol=1e-10)


def test_dataframes_keep_feature_names_and_predict_lazily(client):
    X, y = _regression(2000)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    dX = dd.from_pandas(frame, npartitions=3)
    dy = dd.from_pandas(pd.Series(y), npartitions=3)
    model = DaskAccelBoostRegressor(**PARAMS).fit(dX, dy)
    expected = AccelBoostRegressor(**PARAMS).fit(frame, y)
    np.testing.assert_array_equal(model.feature_names_in_, expected.feature_names_in_)
    predicted = model.predict(dX)
    np.testing.assert_allclose(np.asarray(predicted.compute()),
                               expected.predict(frame), atol=1e-10)


def test_to_local_and_pickle_give_the_in_memory_model(client):
    X, y = _regression(1500)
    dX, dy, _ = _dask(X, y, 500)
    model = DaskAccelBoostRegressor(client=client, **PARAMS).fit(dX, dy)
    local = model.to_local()
    assert type(local) is AccelBoostRegressor
    assert "client" not in local.get_params()
    np.testing.assert_array_equal(local.predict(X), model.predict(X))
    restored = pickle.loads(pickle.dumps(model))
    assert restored.client is None
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_bad_input_gets_a_clear_error(client):
    X, y = _regression(1000)
    y_nan = y.copy()
    y_nan[5] = np.nan
    dX, dy, _ = _dask(X, y_nan, 500)
    with pytest.raises(ValueError, match="NaN or infinity"):
        DaskAccelBoostRegressor(**PARAMS).fit(dX, dy)
    with pytest.raises(TypeError, match="dask"):
        DaskAccelBoostRegressor(**PARAMS).fit(X, y)
    with pytest.raises(ValueError, match="shape"):
        DaskAccelBoostRegressor(**PARAMS).fit(*_dask(X, y[:-1], 500)[:1],
                                              da.from_array(y[:-1], chunks=500))
    with pytest.raises(NotImplementedError, match="absolute_error"):
        DaskAccelBoostRegressor(loss="absolute_error", **PARAMS).fit(*_dask(X, y,
                                                                           500)[:2])


def test_importing_accelboost_does_not_import_dask():
    code = ("import sys, accelboost; "
            "print(any(m.split('.')[0] in ('dask', 'distributed') "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "False"


# -- faults and leaks: one cluster per test -----------------------------------
def _listening_ports():
    return {c.laddr.port for c in psutil.Process().net_connections("tcp")
            if c.status == psutil.CONN_LISTEN}


def _children():
    """Child processes, but multiprocessing's resource tracker: it is started
    once per interpreter (spawn) and lives until the interpreter exits."""
    return {p.pid for p in psutil.Process().children(recursive=True)
            if "resource_tracker" not in " ".join(p.cmdline())}


@pytest.mark.parametrize("victim", ["coordinator", "other"])
def test_a_worker_killed_mid_fit_gives_a_clear_error_and_keeps_the_old_model(victim):
    """One worker runs the driver (the coordinator actor) beside its shard:
    killing it, or the other worker, stops the fit with a clear error."""
    ports_before = _listening_ports()
    children_before = _children()
    X, y = _regression(4000)
    with _cluster() as cluster, distributed.Client(cluster) as client:
        dX, dy, _ = _dask(X, y, 1000)
        model = DaskAccelBoostRegressor(**PARAMS).fit(dX, dy)
        before = model.predict(X)
        pids = client.run(os.getpid)

        def kill_at_stage_3(info):
            if info.stage == 3:
                coordinator = {w for w, keys in client.has_what().items()
                               if any("_Coordinator" in str(k) for k in keys)}
                assert len(coordinator) == 1
                target = coordinator if victim == "coordinator" \
                    else set(pids) - coordinator
                os.kill(pids[target.pop()], signal.SIGKILL)

        start = time.monotonic()
        with pytest.raises(WorkerLostError, match="lost"):
            model.set_params(max_iter=50).fit(dX, dy, callbacks=[kill_at_stage_3])
        assert time.monotonic() - start < 30
        # The model fitted before is intact.
        assert model.n_iter_ == 15
        np.testing.assert_array_equal(model.predict(X), before)
    # Nothing left behind: no child process, no listening port.
    deadline = time.monotonic() + 10
    while _children() - children_before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _children() - children_before == set()
    assert _listening_ports() <= ports_before


def test_default_early_stopping_holds_out_the_same_rows_for_any_partitions(client):
    """validation_fraction holds out rows by a per-row draw from one stream:
    two partitionings of the data give the same model."""
    X, y = _regression(12_000, seed=1)
    params = dict(max_iter=40, learning_rate=0.3, random_state=0)
    models = [
        DaskAccelBoostRegressor(**params).fit(*_dask(X, y, chunks)[:2])
        for chunks in (3000, (5000, 7000))
    ]
    assert len(models[0].validation_score_) == models[0].n_iter_ + 1
    np.testing.assert_allclose(models[0].validation_score_,
                               models[1].validation_score_, rtol=1e-12)
    np.testing.assert_allclose(models[0].predict(X), models[1].predict(X),
                               atol=1e-10)
