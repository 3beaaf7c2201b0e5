"""``verbose``: a tqdm progress bar over the stages, or one line per stage.

A callback on the fit's per-stage seam. With tqdm installed the bar shows
the stages done out of ``max_iter`` and the latest scores; without it (or
with ``verbose >= 2``) each stage prints one line, as HistGradientBoosting's
``verbose`` does.
"""

from __future__ import annotations

import time

from .callbacks import Callback, StageInfo


def _scores(info: StageInfo) -> dict[str, str]:
    scores = {}
    if info.train_score is not None:
        scores["train"] = f"{info.train_score:.5f}"
    if info.validation_score is not None:
        scores["validation"] = f"{info.validation_score:.5f}"
    return scores


class ProgressReport(Callback):
    """Report each stage of a fit.

    Parameters
    ----------
    max_iter : int
        Stages the fit may run (the bar's total).
    lines : bool
        Print one line per stage instead of drawing a bar.
    """

    def __init__(self, max_iter: int, lines: bool):
        self.max_iter = max_iter
        self.lines = lines
        self._bar = None

    def before_fit(self, estimator) -> None:
        self._tic = time.perf_counter()
        if not self.lines:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.max_iter, unit="stage",
                             desc=type(estimator).__name__)

    def after_stage(self, info: StageInfo) -> None:
        toc = time.perf_counter()
        seconds, self._tic = toc - self._tic, toc
        if self._bar is None:
            message = f"[{info.stage + 1}/{self.max_iter}] {seconds:.3f}s"
            message += "".join(f", {name} score: {value}"
                               for name, value in _scores(info).items())
            print(message)
            return
        if self._bar.n == 0 and info.stage > 0:  # a warm start's earlier stages
            self._bar.update(info.stage)
        self._bar.set_postfix(_scores(info), refresh=False)
        self._bar.update(1)

    def after_fit(self, estimator) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def make_progress(verbose: int, max_iter: int) -> list[Callback]:
    """The progress callback for ``verbose`` (none when it is 0).

    Parameters
    ----------
    verbose : int
        0: silent; 1: a tqdm bar if tqdm is installed, else lines; 2 or
        more: one line per stage.
    max_iter : int
        Stages the fit may run.

    Returns
    -------
    callbacks : list of Callback
    """
    if not verbose:
        return []
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return [ProgressReport(max_iter, lines=True)]
    return [ProgressReport(max_iter, lines=verbose >= 2)]
