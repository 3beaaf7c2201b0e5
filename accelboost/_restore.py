"""A failed fit leaves the estimator as it was: a fitted model is never lost."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def restored_on_failure(estimator: Any) -> Iterator[None]:
    """Put ``estimator``'s attributes back as they were if the block raises.

    A fit that fails (bad input, a lost worker, an interrupt) sets some
    fitted attributes before it fails; restoring them all keeps the model
    fitted before (or the unfitted estimator) whole.

    Parameters
    ----------
    estimator : object
        The estimator being fitted.
    """
    previous_state = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(previous_state)
        raise
