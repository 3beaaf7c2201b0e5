"""Dtypes shared by the kernels: binned data, gradients, histograms, nodes.

Keeping them in one place means every kernel agrees on memory layout, and a
change of precision is a one-line change.
"""

import numpy as np

#: Binned feature values with up to 255 bins (the default). Bin
#: ``missing_bin`` of each feature is reserved for NaN; numeric values use
#: bins ``0 .. n_bins_non_missing - 1``. More bins take ``uint16``
#: (``binned_dtype``); the kernels compile once per type.
X_BINNED_DTYPE = np.uint8
#: Raw feature values: other dtypes are converted to this one.
X_DTYPE = np.float64
#: Raw feature dtypes the estimators, binning and predictor read as they are
#: (no copy of X): float32 is compared with the float64 thresholds exactly,
#: so it bins and predicts as its float64 copy would.
X_DTYPES = (np.float64, np.float32)
#: Raw predictions, gradients and hessians. float64 throughout: the histogram
#: sums are float64 anyway, and float32 gradients lose digits on large data.
Y_DTYPE = np.float64
G_H_DTYPE = np.float64

#: The largest number of non-missing bins a feature may have (EBM bins main
#: effects into up to 1,024; the missing bin makes this 1,024 in all).
MAX_BINS = 1023


def binned_dtype(max_bins: int) -> np.dtype:
    """The smallest unsigned type that holds ``max_bins`` bins plus the NaN bin.

    Parameters
    ----------
    max_bins : int
        Non-missing bins per feature, at most ``MAX_BINS``.

    Returns
    -------
    dtype : numpy dtype
        ``uint8`` up to 255 bins, ``uint16`` above.
    """
    return np.dtype(np.uint8 if max_bins <= 255 else np.uint16)

#: A categorical feature has at most this many categories (bins 0..255); a
#: split's left set is a bitset of CATEGORY_WORDS 64-bit words. Missing
#: values are not in the bitset: ``missing_go_left`` says where they go.
MAX_CATEGORIES = 256
CATEGORY_WORDS = MAX_CATEGORIES // 64

#: Histogram channels: hist[feature, bin, channel].
HIST_GRAD = 0
HIST_HESS = 1
HIST_COUNT = 2
N_HIST_CHANNELS = 3

#: One tree node. Trees are flat arrays of these; ``left``/``right`` index
#: into the same array (0 means "no child": the root is never a child).
NODE_DTYPE = np.dtype(
    [
        ("value", np.float64),  # Newton step (leaf) or node value (inner)
        ("count", np.uint32),  # training samples that reached the node
        ("feature_idx", np.uint32),
        ("num_threshold", np.float64),  # go left iff x <= num_threshold
        ("bin_threshold", np.uint16),  # go left iff bin <= bin_threshold
        ("missing_go_left", np.uint8),
        ("left", np.uint32),
        ("right", np.uint32),
        ("gain", np.float64),
        ("depth", np.uint32),
        ("is_leaf", np.uint8),
        # Categorical split: the bins that go left, as a bitset (bin b is
        # bit b & 63 of word b >> 6); bin_threshold and num_threshold unused.
        ("is_categorical", np.uint8),
        ("left_categories", np.uint64, (CATEGORY_WORDS,)),
    ]
)

#: The node record the predictor walks: 24 aligned bytes instead of the
#: training record's 80, so more of a large ensemble stays in cache.
#: ``left == 0`` marks a leaf (the root is never a child) and the right child
#: is always ``left + 1``; a leaf keeps its (folded) value in ``threshold``.
#: A categorical split keeps its left set in row ``bitset_row`` of the
#: packed ensemble's bitset table (shape (n, CATEGORY_WORDS), uint64).
PREDICTOR_NODE_DTYPE = np.dtype(
    [
        ("threshold", np.float64),  # num_threshold, or the value of a leaf
        ("feature_idx", np.uint32),
        ("left", np.uint32),
        ("bin_threshold", np.uint16),
        ("missing_go_left", np.uint8),
        ("is_categorical", np.uint8),
        ("bitset_row", np.uint32),
    ],
    align=True,
)
