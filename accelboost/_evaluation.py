"""``eval_set``: data sets scored after every stage into ``evals_result_``.

LightGBM's and XGBoost's training interface on accelboost's callback seam: a
callback that keeps, per evaluation set, the model's state on it and moves
it one stage at a time, so the loss of a stage costs a pass over that
stage's trees only. Scorer metrics call ``predict`` and cost a pass over the
whole model.
"""

from __future__ import annotations

from sklearn.metrics import check_scoring

from ._dataset import Dataset
from .callbacks import Callback, StageInfo


def eval_set_names(eval_set) -> list[str]:
    """XGBoost's names of the evaluation sets: validation_0, validation_1, ..."""
    return [f"validation_{i}" for i in range(len(eval_set))]


def check_eval_set(eval_set) -> list[tuple]:
    """``eval_set`` as a list of (X, y, sample_weight) triples.

    Parameters
    ----------
    eval_set : list of tuple or None
        Pairs ``(X, y)`` or triples ``(X, y, sample_weight)``.

    Returns
    -------
    eval_set : list of tuple
    """
    if eval_set is None:
        return []
    if isinstance(eval_set, tuple):
        raise TypeError(
            "eval_set must be a list of (X, y) pairs, got a tuple; wrap one pair "
            "in a list: eval_set=[(X_val, y_val)]."
        )
    checked = []
    for i, item in enumerate(eval_set):
        if not isinstance(item, tuple | list) or len(item) not in (2, 3):
            raise TypeError(
                f"eval_set[{i}] must be a pair (X, y) or a triple (X, y, "
                f"sample_weight), got {type(item).__name__}."
            )
        checked.append((item[0], item[1], item[2] if len(item) == 3 else None))
    return checked


def check_eval_metric(eval_metric, loss_name: str) -> list[tuple[str, object]]:
    """``(name, metric)`` pairs; the metric None stands for the loss.

    Parameters
    ----------
    eval_metric : str, callable, list of them, or None
        "loss" (the default) is the model's loss, lower is better. Another
        string is a scikit-learn scorer name and a callable a scorer
        ``scorer(estimator, X, y)``; both are higher-is-better scores.
    loss_name : str
        The estimator's loss, the name under which the loss is recorded.

    Returns
    -------
    metrics : list of (str, callable or None)
    """
    if eval_metric is None:
        eval_metric = ["loss"]
    elif isinstance(eval_metric, str) or callable(eval_metric):
        eval_metric = [eval_metric]
    metrics = []
    for metric in eval_metric:
        if isinstance(metric, str) and metric == "loss":
            metrics.append((loss_name, None))
        elif isinstance(metric, str):
            metrics.append((metric, check_scoring(None, scoring=metric)))
        elif callable(metric):
            metrics.append((getattr(metric, "__name__", repr(metric)), metric))
        else:
            raise TypeError(
                "eval_metric must be 'loss', a scorer name, a callable scorer or "
                f"a list of them; got {metric!r}."
            )
    return metrics


class EvalRecorder(Callback):
    """Record every metric on every evaluation set after each stage.

    Parameters
    ----------
    eval_sets : list of (X, y, sample_weight)
        Validated data (``y`` encoded as the loss expects).
    metrics : list of (str, callable or None)
        From ``check_eval_metric``.
    """

    def __init__(self, eval_sets, metrics):
        self.eval_sets = eval_sets
        self.metrics = metrics
        self._data = None

    def before_fit(self, estimator) -> None:
        estimator.evals_result_ = {
            name: {metric: [] for metric, _ in self.metrics}
            for name in eval_set_names(self.eval_sets)
        }

    def after_stage(self, info: StageInfo) -> None:
        estimator = info.estimator
        ensemble = estimator._ensemble
        if self._data is None:
            # Built at the first stage, when the bins exist; a warm start's
            # earlier stages are replayed.
            classes = getattr(estimator, "classes_", None)
            self._data = []
            for X, y, weight in self.eval_sets:
                data = Dataset(X, y, weight, estimator._bin_mapper, ensemble, classes)
                data.replay(ensemble)
                self._data.append(data)
        else:
            for data in self._data:
                data.advance_with_last_stage(ensemble)
        for name, data in zip(eval_set_names(self.eval_sets), self._data,
                              strict=True):
            record = estimator.evals_result_[name]
            for metric, scorer in self.metrics:
                if scorer is None:
                    value = estimator._loss(data.y, data.raw, data.sample_weight)
                else:
                    value = estimator._score_with(scorer, data.X, data.y_original,
                                                  data.sample_weight)
                record[metric].append(float(value))

    def after_fit(self, estimator) -> None:
        self._data = None  # the binned copies are not part of the model
