"""Training, validation or evaluation data: binned, with the model's state on it.

A fit keeps one per data set it follows: the policy's state (the raw
predictions, and momentum's parts) is advanced one stage at a time, so that
scoring a stage costs one pass over the stage's trees, not over the model.
"""

import numpy as np

#: Rows of the training set a non-loss scorer is evaluated on.
SCORER_SUBSAMPLE = 10_000


class Dataset:
    """Training or validation data, binned, with the policy's state on it.

    Parameters
    ----------
    X, y, sample_weight : ndarray
        The data (``y`` encoded as the loss expects). ``X`` is kept as it is
        (a reference, not a copy), for scorers other than the loss.
    bin_mapper : BinMapper
        The fitted bin mapper.
    ensemble : TreeEnsemble
        The model; the state starts at its baseline (see ``replay``).
    classes : ndarray or None
        Class labels, to give a scorer ``y`` as the user gave it.
    training : bool, default=False
        Whether the policy's training-only state (``aux``) is kept.
    X_binned : ndarray, default=None
        ``X`` already binned (a shard keeps no raw ``X``, which may then be
        None).
    rows : ndarray of int, default=None
        The rows of ``X``, ``y`` and ``sample_weight`` this data set holds
        (early stopping's training or held-out part); None: all of them.
        ``X`` is binned through them and not copied.
    """

    def __init__(self, X, y, sample_weight, bin_mapper, ensemble, classes=None,
                 training=False, X_binned=None, rows=None):
        self._X = X
        self._rows = rows
        self._X_rows = None
        self.y = y if rows is None else y[rows]
        self.sample_weight = (sample_weight if rows is None or sample_weight is None
                              else sample_weight[rows])
        if X_binned is None:
            X_binned = bin_mapper.transform(X, rows)
        self.X_binned = X_binned
        self.n = self.X_binned.shape[0]
        self.missing_bin = bin_mapper.missing_bin_
        self._classes = classes
        policy = ensemble.policy
        self.aux = policy.new_aux() if training else None
        self._loss_value = None
        self.state = policy.start(np.tile(ensemble.baseline, (self.n, 1)))

    def replay(self, ensemble, gradients_at=None):
        """Warm start: apply the fitted stages, momentum state included.

        With ``gradients_at`` (training data) the policy's ``aux`` is rebuilt
        along the way.
        """
        if not ensemble.n_stages:
            return
        policy = ensemble.policy
        before_step = None
        if gradients_at is not None:

            def before_step(state, stage, outputs):
                policy.replay_aux(gradients_at, state, stage, outputs, self.aux)

        for state in ensemble.replay(self.X_binned, True, self.missing_bin,
                                     before_step):
            self.state = state

    @property
    def X(self):
        """The raw rows. With ``rows``, a copy of those rows, made on first
        use (only a scorer other than the loss reads them)."""
        if self._rows is None:
            return self._X
        if self._X_rows is None:
            self._X_rows = self._X[self._rows]
        return self._X_rows

    @property
    def raw(self):
        """The model's raw predictions on this data."""
        return self.state[0]

    def loss(self, loss):
        """The model's loss on this data (cached until the next stage)."""
        if self._loss_value is None:
            self._loss_value = loss(self.y, self.raw, self.sample_weight)
        return self._loss_value

    def advance(self, new_state, loss_value=None):
        """Move to the next stage's state (and its loss, when known)."""
        self.state = new_state
        self._loss_value = loss_value

    def advance_with_last_stage(self, ensemble):
        """Apply the ensemble's last stage to this data."""
        stage = ensemble.n_stages - 1
        outputs = ensemble.stage_outputs(
            self.X_binned, stage, True, self.missing_bin
        )
        self.advance(ensemble.policy.step(self.state, outputs, ensemble.stages[-1]))

    @property
    def y_original(self):
        """Targets as the user gave them (class labels for classifiers)."""
        if self._classes is None:
            return self.y
        return self._classes[self.y.astype(np.intp)]

    def scoring_subsample(self, seed):
        """At most ``SCORER_SUBSAMPLE`` rows: ``X``, ``y`` as the user gave it,
        and the weights (a copy of only those rows of ``X``)."""
        if self.n <= SCORER_SUBSAMPLE:
            return self.X, self.y_original, self.sample_weight
        rows = np.random.RandomState(seed).choice(
            self.n, SCORER_SUBSAMPLE, replace=False
        )
        sw = None if self.sample_weight is None else self.sample_weight[rows]
        X_rows = rows if self._rows is None else self._rows[rows]
        return self._X[X_rows], self.y_original[rows], sw
