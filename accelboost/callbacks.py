"""Callbacks: code of yours that runs during ``fit``, once per stage.

Pass them as ``fit(X, y, callbacks=[...])``, as LightGBM's scikit-learn API
does. A callback is either

- a plain callable ``callback(info) -> bool | None``, called after every
  stage with a :class:`StageInfo`; a truthy return stops the fit; or
- a :class:`Callback` subclass, which can also act before the fit starts
  and after it ends.

The fit stops after the first stage at which any callback asks it to; the
model then has that many stages (``n_iter_``), and everything a fit records
(scores, ``best_iteration_``) is consistent with it.

Examples
--------
>>> import time
>>> from sklearn.datasets import make_regression
>>> from accelboost import AccelBoostRegressor
>>> from accelboost.callbacks import Callback
>>> class StageTimer(Callback):
...     def before_fit(self, estimator):
...         self.times = [time.perf_counter()]
...     def after_stage(self, info):
...         self.times.append(time.perf_counter())
>>> X, y = make_regression(n_samples=200, random_state=0)
>>> timer = StageTimer()
>>> model = AccelBoostRegressor(max_iter=5).fit(X, y, callbacks=[timer])
>>> len(timer.times)
6
>>> stop_at_3 = lambda info: info.stage == 2
>>> AccelBoostRegressor(max_iter=50).fit(X, y, callbacks=[stop_at_3]).n_iter_
3
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Callback", "StageInfo"]


@dataclass(frozen=True)
class StageInfo:
    """What a callback sees after a stage.

    Attributes
    ----------
    estimator : estimator
        The estimator being fitted. Its ``n_iter_`` counts the stages so far,
        so ``predict`` and ``staged_predict`` work on the model as it stands.
    stage : int
        Index (0-based) of the stage just added.
    train_score : float or None
        The training score after this stage (see the estimator's
        ``train_score_``), or None when the fit does not score stages.
    validation_score : float or None
        The validation score after this stage, or None when there is none.
    """

    estimator: Any
    stage: int
    train_score: float | None
    validation_score: float | None


class Callback:
    """Base class for callbacks that act at more than one point of a fit.

    Override any of the three methods; the defaults do nothing.
    """

    def before_fit(self, estimator: Any) -> None:
        """Called when ``fit`` starts, before the data are binned.

        Parameters
        ----------
        estimator : estimator
            The estimator about to be fitted.
        """

    def after_stage(self, info: StageInfo) -> bool | None:
        """Called after every stage; return True to stop the fit.

        Parameters
        ----------
        info : StageInfo
            The estimator, the stage index and the scores.

        Returns
        -------
        stop : bool or None
            A truthy value stops the fit after this stage.
        """
        return None

    def after_fit(self, estimator: Any) -> None:
        """Called when the fit ends, normally or by a callback's request.

        Parameters
        ----------
        estimator : estimator
            The fitted estimator.
        """


class _CallbackList:
    """The callbacks of one fit, each seen as a :class:`Callback`."""

    def __init__(self, callbacks: Iterable[Callback | Callable] | None):
        self._callbacks = []
        for callback in callbacks or ():
            if isinstance(callback, Callback):
                self._callbacks.append(callback)
            elif callable(callback):
                self._callbacks.append(_FunctionCallback(callback))
            else:
                raise TypeError(
                    "callbacks must be callables or accelboost.callbacks.Callback "
                    f"instances; got {type(callback).__name__}."
                )

    def before_fit(self, estimator) -> None:
        for callback in self._callbacks:
            callback.before_fit(estimator)

    def after_stage(self, info: StageInfo) -> bool:
        # Every callback sees every stage, even after one asked to stop.
        stops = [bool(callback.after_stage(info)) for callback in self._callbacks]
        return any(stops)

    def after_fit(self, estimator) -> None:
        for callback in self._callbacks:
            callback.after_fit(estimator)


class _FunctionCallback(Callback):
    """A plain callable, called after every stage."""

    def __init__(self, function: Callable[[StageInfo], bool | None]):
        self.function = function

    def after_stage(self, info: StageInfo) -> bool | None:
        return self.function(info)
