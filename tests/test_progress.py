"""verbose: a tqdm bar over the stages, or one printed line per stage."""

import sys

import pytest
from sklearn.datasets import make_regression

from accelboost import AccelBoostRegressor


@pytest.fixture
def data():
    return make_regression(n_samples=300, n_features=4, random_state=0)


def test_verbose_2_prints_a_line_per_stage_with_scores(data, capsys):
    X, y = data
    model = AccelBoostRegressor(max_iter=12, verbose=2, early_stopping=True,
                                n_iter_no_change=50).fit(*data)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == model.n_iter_ == 12
    assert lines[0].startswith("[1/12]") and lines[-1].startswith("[12/12]")
    assert all("train score" in line and "validation score" in line
               for line in lines)
    assert f"{model.validation_score_[-1]:.5f}" in lines[-1]


def test_verbose_1_draws_a_tqdm_bar(data, capsys):
    model = AccelBoostRegressor(max_iter=9, verbose=1).fit(*data)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "AccelBoostRegressor" in captured.err
    assert f"{model.n_iter_}/9" in captured.err


def test_verbose_1_without_tqdm_prints_lines(data, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    AccelBoostRegressor(max_iter=5, verbose=1).fit(*data)
    assert len(capsys.readouterr().out.strip().splitlines()) == 5


def test_verbose_0_is_silent(data, capsys):
    AccelBoostRegressor(max_iter=5).fit(*data)
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""
