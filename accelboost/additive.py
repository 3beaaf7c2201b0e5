"""AdditiveBoostRegressor and AdditiveBoostClassifier: boosted additive models.

A generalized additive model, as the Explainable Boosting Machine (EBM) fits
them: an intercept, one curve per feature and one surface per selected pair
of features. The fit

1. bins ``X`` once, with up to ``max_bins`` bins per feature (EBM's
   resolution is 1,024);
2. in each bag, boosts trees of one feature each (an accelboost model with
   ``interaction_cst="no_interactions"``, accelerated by default) on the bin
   codes, with early stopping on the bag's own validation split, so bags
   differ by the rows they hold out;
3. ranks feature pairs by FAST (the best four-quadrant cut of a coarse
   two-feature histogram of the residuals' gradients) on the bags' average
   and keeps the best ``interactions`` ones, or takes the given pairs;
4. in each bag, boosts on from there with trees inside one selected pair;
5. turns every bag's trees into one table per term, on the cells delimited
   by the cuts its trees make, averages the bags' tables, and centres each
   term on the training data (its mean goes to the intercept).

Prediction reads the tables, so its cost does not depend on the number of
trees, and ``predict_terms`` is the model itself rather than an
approximation of it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._early_stopping import split_rows
from ._engine.binning import BinMapper
from ._engine.common import X_DTYPE, Y_DTYPE
from ._engine.interactions import coarse_codes, rank_pairs
from ._engine.loss import allocate_gradients
from ._labels import encode_labels
from ._pairs import PairParams, PairPart, boost_pairs
from ._restore import restored_on_failure
from ._terms import ShapeFunction, TermsMixin, TermTable, bin_grid, cut_cells
from ._threads import effective_n_threads, numba_threads
from .estimators import (
    AccelBoostClassifier,
    AccelBoostRegressor,
    BaseAccelBoost,
    _labels_from_raw,
)

#: From this many samples on, ``early_stopping="auto"`` stops each phase on a
#: held-out part: the default 10,000 stages need it. Below it a 15% hold-out
#: (under 30 rows) is too small to stop on.
_AUTO_EARLY_STOPPING_MIN_SAMPLES = 200
#: Coarse bins per feature of the pair terms (EBM's and FAST's 32).
_PAIR_BINS = 32


class BaseAdditiveBoost(TermsMixin, BaseEstimator, ABC):
    """Shared fit of the additive estimators (not for direct use)."""

    _parameter_constraints: dict = {
        # The parameters the bags' accelboost estimators take as they are.
        **{
            name: BaseAccelBoost._parameter_constraints[name]
            for name in (
                "learning_rate", "max_iter", "min_samples_leaf",
                "l2_regularization", "max_bins", "early_stopping",
                "n_iter_no_change", "tol", "momentum", "hybrid_patience",
                "verbose", "random_state", "n_threads",
            )
        },
        "max_leaf_nodes": [Interval(Integral, 2, None, closed="left")],
        "interactions": [Interval(Integral, 0, None, closed="left"), list, tuple],
        "n_bags": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(RealNotInt, 0, 1, closed="neither")],
        "stage_init": [StrOptions({"auto", "zero", "stacking"})],
    }

    @abstractmethod
    def __init__(
        self,
        loss,
        *,
        learning_rate,
        max_iter,
        max_leaf_nodes,
        min_samples_leaf,
        l2_regularization,
        max_bins,
        interactions,
        n_bags,
        early_stopping,
        validation_fraction,
        n_iter_no_change,
        tol,
        stage_init,
        momentum,
        hybrid_patience,
        verbose,
        random_state,
        n_threads,
    ):
        self.loss = loss
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_bins = max_bins
        self.interactions = interactions
        self.n_bags = n_bags
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.stage_init = stage_init
        self.momentum = momentum
        self.hybrid_patience = hybrid_patience
        self.verbose = verbose
        self.random_state = random_state
        self.n_threads = n_threads

    #: The accelboost estimator each bag fits.
    _bag_estimator: type

    @abstractmethod
    def _encode_y(self, y):
        """Validate ``y`` and return it as the bag estimators take it."""

    # -- fit -----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the additive model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; NaN marks a missing value.
        y : array-like of shape (n_samples,)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; ``None`` gives every sample weight 1.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with restored_on_failure(self):  # a failed refit keeps the model
            self._fit(X, y, sample_weight)
        return self

    def _fit(self, X, y, sample_weight):
        X, y = validate_data(
            self, X, y, dtype=[X_DTYPE], ensure_all_finite="allow-nan",
            y_numeric=isinstance(self, RegressorMixin),
        )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        y = self._encode_y(y)
        pairs = self._given_pairs(X.shape[1])
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.uint32).max, size=self.n_bags, dtype=np.int64
        )
        mapper = BinMapper(max_bins=self.max_bins, random_state=seeds[0])
        binned = mapper.fit_transform(X, sample_weight)
        codes = _as_codes(binned, mapper.missing_bin_)
        early_stopping = self._uses_early_stopping(len(y))
        splits = [self._split(y, sample_weight, seed, early_stopping)
                  for seed in seeds]
        bags = [
            self._bag_model(seed, early_stopping).fit(
                codes[train], y[train], _rows(sample_weight, train),
                **self._validation_kwargs(codes, y, sample_weight, val),
            )
            for seed, (train, val) in zip(seeds, splits, strict=True)
        ]
        if pairs is None:
            pairs = self._ranked_pairs(bags, binned, codes, y, sample_weight, mapper)
        self._bin_mapper = mapper
        self._loss = bags[0]._loss
        self._bags = bags
        self.pairs_ = pairs
        self.n_iter_ = np.array([bag.n_iter_ for bag in bags])
        self.validation_score_ = [bag.validation_score_ for bag in bags]
        tables, intercept = _main_effect_tables(bags, mapper, binned, sample_weight)
        if pairs:
            pair_tables, scores, kept = self._boost_pairs(
                bags, splits, pairs, mapper, binned, codes, y, sample_weight
            )
            self.n_iter_ += kept
            self.validation_score_ = [
                np.append(bag_scores, pair_scores)
                for bag_scores, pair_scores in zip(self.validation_score_, scores,
                                                   strict=True)
            ]
            for term, values in zip(pairs, pair_tables, strict=True):
                table, mean = _pair_table(term, values, mapper, binned, sample_weight)
                tables.append(table)
                intercept = intercept + mean
        self._tables, self.intercept_ = tables, intercept

    def _uses_early_stopping(self, n_samples):
        if self.early_stopping == "auto":
            return n_samples >= _AUTO_EARLY_STOPPING_MIN_SAMPLES
        return bool(self.early_stopping)

    def _split(self, y, sample_weight, seed, early_stopping):
        """A bag's training and validation rows (None without early stopping)."""
        rows = np.arange(len(y))
        if not early_stopping:
            return rows, None
        classes = self.classes_ if isinstance(self, ClassifierMixin) else None
        train, val = split_rows(y, sample_weight, self.validation_fraction,
                                classes=classes, seed=int(seed) % 2**32,
                                remedy="Set early_stopping=False.")
        return np.sort(train), np.sort(val)

    @staticmethod
    def _validation_kwargs(codes, y, sample_weight, val):
        if val is None:
            return {}
        return {"X_val": codes[val], "y_val": y[val],
                "sample_weight_val": _rows(sample_weight, val)}

    def _boost_pairs(self, bags, splits, pairs, mapper, binned, codes, y,
                     sample_weight):
        """The bags' pair tables averaged, and per bag the phase's validation
        scores and the stages it kept."""
        coarse = coarse_codes(binned, mapper.n_bins_non_missing_, mapper.missing_bin_,
                              _PAIR_BINS)
        params = PairParams(
            n_coarse=_PAIR_BINS,
            learning_rate=self.learning_rate,
            l2_regularization=self.l2_regularization,
            min_weight=float(self.min_samples_leaf),
            max_iter=self.max_iter,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
        )
        total, scores, kept = 0.0, [], []
        with numba_threads(effective_n_threads(self.n_threads)):
            for bag, rows in zip(bags, splits, strict=True):
                train, val = (
                    None if part is None else PairPart(
                        coarse[part], y[part], _rows(sample_weight, part),
                        bag._raw_predict(codes[part]),
                    )
                    for part in rows
                )
                tables, bag_scores, best = boost_pairs(pairs, bag._loss, train, val,
                                                       params)
                total = total + tables
                scores.append(bag_scores)
                kept.append(best)
        return total / len(bags), scores, kept

    def _bag_model(self, seed, early_stopping):
        """The accelboost model one bag fits on the bin codes."""
        return self._bag_estimator(
            loss=self.loss,
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            # The codes take at most max_bins distinct values: one bin each.
            max_bins=self.max_bins,
            early_stopping=early_stopping,
            # The bag's validation rows come as X_val; without them the
            # hybrid rule watches the training score.
            validation_fraction=None,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            verbose=self.verbose,
            random_state=int(seed),
            n_threads=self.n_threads,
            stage_init=self.stage_init,
            momentum=self.momentum,
            hybrid_patience=self.hybrid_patience,
            interaction_cst="no_interactions",
            # The defaults were measured uncapped (benchmarks/results/additive).
            max_delta_step=None,
        )

    def _given_pairs(self, n_features):
        """``interactions`` as a list of pairs, or None to rank them."""
        if isinstance(self.interactions, Integral):
            return [] if self.interactions == 0 or n_features < 2 else None
        pairs = []
        for pair in self.interactions:
            if not (
                isinstance(pair, (list, tuple))
                and len(pair) == 2
                and all(isinstance(f, Integral) and 0 <= f < n_features for f in pair)
                and pair[0] != pair[1]
            ):
                raise ValueError(
                    "interactions must be an int or a list of pairs of distinct "
                    f"feature indices in [0, {n_features - 1}], got invalid "
                    f"pair {pair!r}."
                )
            pairs.append(tuple(sorted(int(f) for f in pair)))
        return list(dict.fromkeys(pairs))

    def _ranked_pairs(self, bags, binned, codes, y, sample_weight, mapper):
        """The best ``interactions`` pairs by FAST on the bags' residuals."""
        raw = np.mean([bag._raw_predict(codes) for bag in bags], axis=0)
        loss = bags[0]._loss
        gradients, hessians = allocate_gradients(loss.n_outputs, len(y))
        weights = np.ones_like(y) if sample_weight is None else sample_weight
        with numba_threads(effective_n_threads(self.n_threads)):
            loss.gradient_hessian(y, raw, weights, gradients, hessians)
            pairs, gains = rank_pairs(
                binned, mapper.n_bins_non_missing_, mapper.missing_bin_,
                gradients, hessians, l2=self.l2_regularization,
            )
        pairs = pairs[np.isfinite(gains)][: self.interactions]
        return [(int(j), int(k)) for j, k in pairs]

    # -- the fitted terms ----------------------------------------------------
    @property
    def term_features_(self):
        """Feature indices of each term: ``(j,)`` main effects, ``(j, k)`` pairs."""
        check_is_fitted(self, "_tables")
        return [table.features for table in self._tables]

    def _term_bin_weights(self, index):
        return self._tables[index].weights

    def _binned(self, X):
        check_is_fitted(self, "_tables")
        X = validate_data(
            self, X, dtype=[X_DTYPE], ensure_all_finite="allow-nan", reset=False
        )
        return self._bin_mapper.transform(X)

    def predict_terms(self, X):
        """Each term's contribution to the raw prediction of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.

        Returns
        -------
        contributions : ndarray of shape (n_samples, n_terms)
            One column per term of ``term_features_``; ``(n_samples,
            n_terms, n_classes)`` for classifiers with more than two classes.
            ``intercept_`` plus their sum over terms is the raw prediction.
        """
        binned = self._binned(X)
        n_outputs = np.shape(self.intercept_)  # () or (n_classes,)
        out = np.zeros((binned.shape[0], len(self._tables), *n_outputs))
        for k, table in enumerate(self._tables):
            out[:, k] = table.lookup(binned)
        return out

    def _raw_predict(self, X):
        terms = self.predict_terms(X)
        raw = self.intercept_ + terms.sum(axis=1)
        return raw.reshape(raw.shape[0], -1)

    def shape_function(self, term):
        """A term's values on its cells.

        Parameters
        ----------
        term : int or str
            Index into ``term_features_``, or a name from ``term_names_``.

        Returns
        -------
        shape : ShapeFunction
            The term's features, name, cell edges and values (a 2-D grid for
            a pair; the last entry along each axis is the NaN cell). The
            cells are those the term's trees cut: the term is constant on
            each.
        """
        index = self._term_index(term)
        table = self._tables[index]
        return ShapeFunction(
            term=table.features,
            name=self.term_names_[index],
            thresholds=tuple(edges.copy() for edges in table.edges),
            values=table.values.copy(),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _as_codes(binned: np.ndarray, missing_bin: int) -> np.ndarray:
    """Bin codes as float features (NaN for the missing bin).

    A bag's accelboost model bins these again and, with at most ``max_bins``
    distinct values per feature, gives each code its own bin: its trees cut
    between the shared bins.
    """
    codes = np.ascontiguousarray(binned, dtype=X_DTYPE)
    codes[binned == missing_bin] = np.nan
    return codes


def _finite(values):
    return np.unique(values[np.isfinite(values)])


def _rows(sample_weight, rows):
    return None if sample_weight is None else sample_weight[rows]


def _main_effect_tables(bags, mapper, binned, sample_weight):
    """The bags' average as one centred table per term, and the intercept."""
    structures = [bag._term_structure() for bag in bags]
    terms = sorted(
        {term for s in structures for term in s.terms[1:]},
        key=lambda term: (len(term), term),
    )
    intercept = np.mean([bag.intercept_ for bag in bags], axis=0)
    tables = []
    for term in terms:
        # A code c is left of a cut at threshold t when c <= t: after bin
        # floor(t). A cut at +inf only parts NaN from the rest.
        cells = [
            cut_cells(
                np.floor(_finite(np.concatenate([
                    s.cuts[s.terms.index(term)][axis]
                    for s in structures if term in s.terms
                ]))).astype(np.intp),
                int(mapper.n_bins_non_missing_[f]),
                mapper.missing_bin_,
            )
            for axis, f in enumerate(term)
        ]
        values = _grid_average(bags, structures, term, [first for _, first in cells],
                               mapper, binned.shape[1])
        table, mean = _centred_table(term, cells, values, mapper, binned,
                                     sample_weight)
        tables.append(table)
        intercept = intercept + mean
    return tables, intercept


def _pair_table(pair, values, mapper, binned, sample_weight):
    """A pair's coarse-grid table as a centred term (empty coarse bins dropped)."""
    cells, rows = [], []
    for f in pair:
        n_bins = int(mapper.n_bins_non_missing_[f])
        coarse = np.arange(n_bins) * _PAIR_BINS // n_bins
        last_of_each = np.flatnonzero(np.diff(coarse)) # bins that end a coarse bin
        cell_of_bin, first = cut_cells(last_of_each, n_bins, mapper.missing_bin_)
        cells.append((cell_of_bin, first))
        rows.append(np.append(coarse[first[:-1]], _PAIR_BINS))
    values = values[np.ix_(*rows)]
    if values.shape[-1] == 1:
        values = values[..., 0]
    return _centred_table(pair, cells, values, mapper, binned, sample_weight)


def _centred_table(term, cells, values, mapper, binned, sample_weight):
    """The term's table, its values less their training mean, and that mean."""
    cell_of_bin = tuple(cell_of_bin for cell_of_bin, _ in cells)
    shape = tuple(len(first) for _, first in cells)
    rows = tuple(c[binned[:, f]] for f, c in zip(term, cell_of_bin, strict=True))
    weights = np.bincount(np.ravel_multi_index(rows, shape), weights=sample_weight,
                          minlength=int(np.prod(shape))).reshape(shape)
    mean = np.tensordot(weights, values, axes=len(term)) / weights.sum()
    table = TermTable(
        features=term,
        cell_of_bin=cell_of_bin,
        edges=tuple(
            np.append(mapper.thresholds_[f, first[1:-1] - 1], np.inf)
            for f, (_, first) in zip(term, cells, strict=True)
        ),
        values=values - mean,
        weights=weights,
    )
    return table, mean


def _grid_average(bags, structures, term, first_bins, mapper, n_features):
    """The bags' average of a term on its cells (one row per cell)."""
    grid = _as_codes(bin_grid(term, first_bins, n_features, np.intp),
                     mapper.missing_bin_)
    # Every term of the union is some bag's.
    values = sum(
        bag.predict_terms(grid)[:, structure.terms.index(term) - 1]
        for bag, structure in zip(bags, structures, strict=True)
        if term in structure.terms
    ) / len(bags)
    return values.reshape(tuple(map(len, first_bins)) + values.shape[1:])


_COMMON_DOC = """
    learning_rate : float, default=0.2
        Shrinkage of every tree's leaves (main effects and pairs).
    max_iter : int, default=10000
        Maximum stages of each phase (main effects, then pairs); early
        stopping ends each phase sooner.
    max_leaf_nodes : int, default=3
        Leaves per main-effect tree: 2 gives stumps. Pair trees have up to
        four leaves (a cut on one feature, then one on the other in each
        half).
    min_samples_leaf : int, default=20
        Minimum samples per leaf of a main-effect tree, minimum weight per
        leaf of a pair tree. (EBM's 4 was no better on the benchmark tables:
        1.6% lower loss on one, 0.4-0.5% higher on two.)
    l2_regularization : float, default=0.0
        L2 penalty on leaf values.
    max_bins : int, default=1023
        Bins per feature for non-missing values (at most 1,023), the
        resolution of the main effects; NaN gets a bin of its own. Pairs
        use 32 coarse bins per feature.
    interactions : int or list of pairs, default=45
        Pair terms: the best ``interactions`` pairs by FAST on the residuals
        of the main effects (all pairs when there are fewer), or a list of
        pairs ``(j, k)`` of feature indices. 0 fits main effects only.
    n_bags : int, default=4
        Bagged copies, each with its own validation split, averaged into one
        model (EBM's outer bags; EBM's default is 14). Without early
        stopping they are all the same model.
    early_stopping : "auto" or bool, default="auto"
        Stop each phase on the loss of a held-out part of each bag. "auto":
        from 200 samples on; below that every phase runs ``max_iter``
        stages.
    validation_fraction : float, default=0.15
        Share of each bag's rows held out for its early stopping.
    n_iter_no_change : int, default=100
        Each phase stops when the last ``n_iter_no_change`` validation scores
        did not improve on the one before them by more than ``tol``.
    tol : float, default=1e-7
        Minimum improvement that counts for early stopping.
    stage_init : {"auto", "zero", "stacking"}, default="auto"
        "zero": plain boosting. "stacking": each tree starts from
        ``momentum`` times the previous one (Nesterov's accelerated gradient
        descent in function space). "auto": "stacking" for trees of at most
        4 leaves, "zero" above.
    momentum : float in [0, 1) or "nesterov", default=0.5
        Momentum of "stacking" (see ``AccelBoostRegressor``).
    hybrid_patience : int or None, default=10
        The safeguard of momentum: plain steps for good once the validation
        score has not improved for this many stages. None keeps momentum.
    verbose : int, default=0
        Print each bag's progress when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds the bags' validation splits and the binning subsample.
    n_threads : int or None, default=None
        Threads for the Numba kernels; ``None`` uses all. The fitted model
        does not depend on it.

    Attributes
    ----------
    term_features_ : list of tuple of int
        Features of each term: main effects ``(j,)`` by feature, then pairs.
    term_names_ : list of str
        Name of each term.
    intercept_ : float or ndarray of shape (n_classes,)
        Raw prediction with every term at zero; each term has mean zero over
        the training data.
    pairs_ : list of tuple of int
        The pairs the pair phase could use (ranked or given).
    n_iter_ : ndarray of shape (n_bags,)
        Stages kept in each bag: every main-effect stage (as the accelboost
        estimators keep them, the last ``n_iter_no_change`` included), then
        the pair stages up to the best validation score.
    validation_score_ : list of ndarray
        Per bag, minus the validation loss before the first stage and after
        every stage fitted, both phases (the pair stages after the best one
        included); empty without early stopping.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen in ``fit`` (only when X has string column names).
"""


class AdditiveBoostRegressor(RegressorMixin, BaseAdditiveBoost):
    __doc__ = (
        """Boosted additive model for regression (an EBM-style GAM).

    Parameters
    ----------
    loss : {"squared_error", "absolute_error", "poisson"}, default="squared_error"
        Loss to minimise. "poisson" uses a log link and needs ``y >= 0``.
"""
        + _COMMON_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from accelboost import AdditiveBoostRegressor
    >>> X, y = make_regression(n_samples=300, n_features=4, random_state=0)
    >>> model = AdditiveBoostRegressor(interactions=1, random_state=0).fit(X, y)
    >>> model.term_names_[:2]
    ['x0', 'x1']
    """
    )

    _parameter_constraints: dict = {
        **BaseAdditiveBoost._parameter_constraints,
        "loss": [StrOptions({"squared_error", "absolute_error", "poisson"})],
    }
    _bag_estimator = AccelBoostRegressor

    def __init__(
        self,
        loss="squared_error",
        *,
        learning_rate=0.2,
        max_iter=10_000,
        max_leaf_nodes=3,
        min_samples_leaf=20,
        l2_regularization=0.0,
        max_bins=1023,
        interactions=45,
        n_bags=4,
        early_stopping="auto",
        validation_fraction=0.15,
        n_iter_no_change=100,
        tol=1e-7,
        stage_init="auto",
        momentum=0.5,
        hybrid_patience=10,
        verbose=0,
        random_state=None,
        n_threads=None,
    ):
        super().__init__(
            loss=loss,
            learning_rate=learning_rate,
            max_iter=max_iter,
            max_leaf_nodes=max_leaf_nodes,
            min_samples_leaf=min_samples_leaf,
            l2_regularization=l2_regularization,
            max_bins=max_bins,
            interactions=interactions,
            n_bags=n_bags,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            stage_init=stage_init,
            momentum=momentum,
            hybrid_patience=hybrid_patience,
            verbose=verbose,
            random_state=random_state,
            n_threads=n_threads,
        )

    def _encode_y(self, y):
        return np.asarray(y, dtype=Y_DTYPE)

    def predict(self, X):
        """Predict regression targets for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        raw = self._raw_predict(X)
        return self._loss.inverse_link(raw)[:, 0]


class AdditiveBoostClassifier(ClassifierMixin, BaseAdditiveBoost):
    __doc__ = (
        """Boosted additive model for classification (an EBM-style GAM).

    Binary problems have one curve per term, on the logit; K > 2 classes
    have one per class, on the softmax's raw scores.

    Parameters
    ----------
    loss : {"log_loss"}, default="log_loss"
        Loss to minimise.
"""
        + _COMMON_DOC
        + """    classes_ : ndarray of shape (n_classes,)
        Class labels.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from accelboost import AdditiveBoostClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = AdditiveBoostClassifier(interactions=0, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:1]).shape
    (1, 2)
    """
    )

    _parameter_constraints: dict = {
        **BaseAdditiveBoost._parameter_constraints,
        "loss": [StrOptions({"log_loss"})],
    }
    _bag_estimator = AccelBoostClassifier

    def __init__(
        self,
        loss="log_loss",
        *,
        learning_rate=0.2,
        max_iter=10_000,
        max_leaf_nodes=3,
        min_samples_leaf=20,
        l2_regularization=0.0,
        max_bins=1023,
        interactions=45,
        n_bags=4,
        early_stopping="auto",
        validation_fraction=0.15,
        n_iter_no_change=100,
        tol=1e-7,
        stage_init="auto",
        momentum=0.5,
        hybrid_patience=10,
        verbose=0,
        random_state=None,
        n_threads=None,
    ):
        super().__init__(
            loss=loss,
            learning_rate=learning_rate,
            max_iter=max_iter,
            max_leaf_nodes=max_leaf_nodes,
            min_samples_leaf=min_samples_leaf,
            l2_regularization=l2_regularization,
            max_bins=max_bins,
            interactions=interactions,
            n_bags=n_bags,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            stage_init=stage_init,
            momentum=momentum,
            hybrid_patience=hybrid_patience,
            verbose=verbose,
            random_state=random_state,
            n_threads=n_threads,
        )

    def _encode_y(self, y):
        # As the losses take them (the bags' labels are 0.0 .. K-1).
        self.classes_, encoded = encode_labels(y)
        return encoded

    def decision_function(self, X):
        """Raw scores: the logit (binary) or one score per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        raw = self._raw_predict(X)
        return raw[:, 0] if raw.shape[1] == 1 else raw

    def predict_proba(self, X):
        """Class probabilities for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        raw = self._raw_predict(X)
        return self._loss.inverse_link(raw)

    def predict(self, X):
        """Predict class labels for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input samples; NaN marks a missing value.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        raw = self._raw_predict(X)
        return _labels_from_raw(self.classes_, raw)
