"""Plain-NumPy reference for ``accelboost._engine.grower.TreeGrower``.

It grows the same best-first tree the obvious, slow way, and shares no code
with the package's kernels. Each node keeps its rows as a sorted index array,
gets its histogram from ``np.bincount`` over those rows (siblings are not
built by subtraction), and computes its sums directly from its rows. It needs
no constant-hessian path: a constant ``hessians`` array gives the same tree.

The rules are the grower's:

* A node is splittable if ``depth < max_depth`` (``None`` = no limit),
  ``count >= 2 * min_samples_leaf`` and ``sum_h >= 2 * min_hessian_to_split``.
  It gets its best split, kept only if ``gain > min_gain_to_split``.
* Candidates are tried feature by feature. For each feature, first thresholds
  from left to right with missing values on the right (the last non-missing
  bin too if the node has missing values), then, only if the node has missing
  values, thresholds from right to left with missing values on the left. Only
  a strictly larger gain replaces the best, so ties go to the lowest feature
  and to the earlier candidate in this order.
* Either side of a split must keep ``min_samples_leaf`` rows and
  ``min_hessian_to_split`` hessian. If the node has no missing value, missing
  values go to the side with more rows (left when the sides are equal).
* The leaf with the largest gain is split first (ties go to the lower node
  id), its children get the next two ids (left, then right), until there are
  ``max_leaf_nodes`` leaves (``None`` = no limit) or no leaf can be split.

Options, each off by default:

* Categorical features (``is_categorical``): bin ``b`` is category ``b``. The
  categories with at least 10 rows in the node (the missing bin as one more)
  are sorted, stably, by ``G / (H + 10)``; the first ``k`` go left for
  ``k = 1 .. min(32, (n + 1) // 2)``, then the last ``k`` for
  ``k = 1 .. min(32, (n + 1) // 2 - 1)``, in that order. The left set is a
  bitset of non-missing bins; missing values go left iff the missing bin was
  in the left set. Thresholds are 0.
* Monotonic constraints (``monotonic_cst``): every node has bounds, the
  root (-inf, inf). A side's value is its Newton step clipped to the node's
  bounds; its score is ``G^2 / (H + l2)`` if nothing was clipped, else
  ``-(2 G v + (H + l2) v^2)``; the gain is the children's scores minus the
  node's. On a feature constrained +1 (-1), a split whose left value is
  above (below) the right one is not a candidate. Children get the node's
  bounds; on a constrained split the midpoint of their values becomes the
  upper bound of the child that must be smaller and the lower bound of the
  other. Values of all nodes are clipped to their bounds.
* ``max_features``: before each search (only of nodes that are searched,
  root first, then children left before right, in split order), if more
  than ``max_features`` features are allowed, draw that many from one
  xorshift64 stream per tree (state: splitmix64 of ``seed``) by a partial
  Fisher-Yates shuffle of the allowed features in increasing order.
* ``sample_indices``: the root holds those rows only.
"""

import numpy as np

from accelboost._engine.common import NODE_DTYPE

MIN_CAT_SUPPORT = 10
CAT_SMOOTH = 10.0
MAX_CAT_THRESHOLD = 32
_MASK = (1 << 64) - 1


def _score(sum_g, sum_h, l2):
    """``G^2 / (H + l2)``, 0 where the denominator is not positive."""
    denominator = sum_h + l2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, sum_g * sum_g / denominator, 0.0)


def _leaf_value(sum_g, sum_h, l2):
    denominator = sum_h + l2
    return -sum_g / denominator if denominator > 0 else 0.0


def _values(sum_g, sum_h, l2, lower, upper):
    """Newton steps (0 where the denominator is not positive), clipped."""
    sum_g, sum_h = np.asarray(sum_g, dtype=float), np.asarray(sum_h, dtype=float)
    denominator = sum_h + l2
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(denominator > 0, -sum_g / denominator, 0.0)
    return np.clip(v, lower, upper), v


def _gain(g_l, h_l, sum_g, sum_h, l2, bounds):
    """Gains of candidate splits (arrays of left sums; the node's sums).

    With no value clipped (the node's included): ``G_L^2 / (H_L + l2) +
    G_R^2 / (H_R + l2) - G^2 / (H + l2)``. Otherwise each side's change of
    ``-(2 G v + (H + l2) v^2)`` from the node's value ``v_p`` to its own
    value, minus ``l2 v_p^2``.
    """
    g_l, h_l = np.asarray(g_l, dtype=float), np.asarray(h_l, dtype=float)
    g_r, h_r = sum_g - g_l, sum_h - h_l
    v_l, u_l = _values(g_l, h_l, l2, *bounds)
    v_r, u_r = _values(g_r, h_r, l2, *bounds)
    v_p, u_p = _values(sum_g, sum_h, l2, *bounds)
    unclipped = (v_l == u_l) & (v_r == u_r) & (v_p == u_p)
    plain = _score(g_l, h_l, l2) + _score(g_r, h_r, l2) - _score(sum_g, sum_h, l2)
    change_l = -(v_l - v_p) * (2.0 * g_l + (h_l + l2) * (v_l + v_p))
    change_r = -(v_r - v_p) * (2.0 * g_r + (h_r + l2) * (v_r + v_p))
    return np.where(unclipped, plain, change_l + change_r - l2 * v_p * v_p)


def _splitmix64(seed):
    z = (int(seed) + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    z ^= z >> 31
    return z or 0x9E3779B97F4A7C15


class _Xorshift64:
    """Marsaglia's xorshift64 (13, 7, 17) on Python integers."""

    def __init__(self, seed):
        self.state = _splitmix64(seed)

    def below(self, n):
        """The next state modulo ``n``."""
        x = self.state
        x ^= (x << 13) & _MASK
        x ^= x >> 7
        x ^= (x << 17) & _MASK
        self.state = x
        return x % n


def _draw(features, max_features, rng):
    """``max_features`` of ``features`` (sorted), partial Fisher-Yates."""
    pool = sorted(features)
    if max_features is None or len(pool) <= max_features:
        return set(pool)
    for i in range(max_features):
        j = i + rng.below(len(pool) - i)
        pool[i], pool[j] = pool[j], pool[i]
    return set(pool[:max_features])


def _best_categorical(column, g, h, n_bins, missing_bin, params, node_sums, bounds):
    """``(gain, left set)`` of a categorical feature's best split, or None.

    ``column``, ``g``, ``h`` are the node's rows; the left set is a set of
    bins that may hold ``missing_bin``.
    """
    l2 = params.l2_regularization
    sum_g, sum_h, count = node_sums
    cats = [
        b for b in [*range(n_bins), missing_bin]
        if np.count_nonzero(column == b) >= MIN_CAT_SUPPORT
    ]
    if len(cats) <= 1:
        return None
    ratios = [g[column == b].sum() / (h[column == b].sum() + CAT_SMOOTH) for b in cats]
    ordered = [cats[i] for i in np.argsort(ratios, kind="stable")]
    n = len(ordered)
    n_first = min(MAX_CAT_THRESHOLD, (n + 1) // 2)
    n_last = min(MAX_CAT_THRESHOLD, (n + 1) // 2 - 1)
    candidates = [ordered[:k] for k in range(1, n_first + 1)]
    candidates += [ordered[n - k:] for k in range(1, n_last + 1)]
    best = None
    for left_set in candidates:
        left = np.isin(column, left_set)
        n_l = np.count_nonzero(left)
        g_l, h_l = g[left].sum(), h[left].sum()
        if (min(n_l, count - n_l) < params.min_samples_leaf
                or min(h_l, sum_h - h_l) < params.min_hessian_to_split):
            continue
        gain = float(_gain(g_l, h_l, sum_g, sum_h, l2, bounds))
        if best is None or gain > best[0]:
            best = (gain, set(left_set))
    return best


def _best_split(X_binned, rows, g, h, n_bins_non_missing, missing_bin, params,
                features=None, is_categorical=None, monotonic_cst=None,
                bounds=(-np.inf, np.inf)):
    """``(gain, feature, bin, missing_go_left, left_categories)`` of the node's
    best split (``left_categories``: a set of bins, None for a numeric split).

    Only ``features`` (a set; None: all) are tried. ``None`` if no candidate
    satisfies the constraints.
    """
    l2 = params.l2_regularization
    count = len(rows)
    sum_g, sum_h = g[rows].sum(), h[rows].sum()
    best = None
    for f in range(X_binned.shape[1]):
        if features is not None and f not in features:
            continue
        if is_categorical is not None and is_categorical[f]:
            found = _best_categorical(
                X_binned[rows, f], g[rows], h[rows], int(n_bins_non_missing[f]),
                missing_bin, params, (sum_g, sum_h, count), bounds)
            if found is not None and (best is None or found[0] > best[0]):
                gain, left_set = found
                best = (gain, f, 0, missing_bin in left_set, left_set - {missing_bin})
            continue
        monotonic = 0 if monotonic_cst is None else int(monotonic_cst[f])
        column = X_binned[rows, f]
        n_bins = int(n_bins_non_missing[f])
        # Per-bin sums of the node's rows, bin ``missing_bin`` last.
        hists = [
            np.bincount(column, weights=w, minlength=missing_bin + 1)
            for w in (g[rows], h[rows], None)
        ]
        has_missing = hists[2][missing_bin] > 0
        # Left-side sums of every candidate, in scan order. Left to right:
        # bins <= b go left, missing right.
        last = n_bins - 1 if has_missing else n_bins - 2
        bins = list(range(last + 1))
        missing_left = [False] * len(bins)
        left = [np.cumsum(hist[:n_bins])[: last + 1] for hist in hists]
        if has_missing:
            # Right to left: bins <= b and the missing bin go left.
            rtl = np.arange(n_bins - 2, -1, -1)
            bins += list(rtl)
            missing_left += [True] * len(rtl)
            left = [
                np.concatenate([lt, np.cumsum(hist[:n_bins])[rtl] + hist[missing_bin]])
                for lt, hist in zip(left, hists, strict=True)
            ]
        g_l, h_l, n_l = left
        g_r, h_r, n_r = sum_g - g_l, sum_h - h_l, count - n_l
        gains = _gain(g_l, h_l, sum_g, sum_h, l2, bounds)
        ok = (
            (n_l >= params.min_samples_leaf)
            & (n_r >= params.min_samples_leaf)
            & (h_l >= params.min_hessian_to_split)
            & (h_r >= params.min_hessian_to_split)
        )
        if monotonic:
            v_l, _ = _values(g_l, h_l, l2, *bounds)
            v_r, _ = _values(g_r, h_r, l2, *bounds)
            ok &= (v_l <= v_r) if monotonic > 0 else (v_l >= v_r)
        gains = np.where(ok, gains, -np.inf)
        if not ok.any():
            continue
        i = int(np.argmax(gains))  # the first of equal maxima
        if best is None or gains[i] > best[0]:
            if not has_missing:
                # No missing value seen: at predict time NaN follows the
                # majority.
                missing_left[i] = bool(n_l[i] >= count - n_l[i])
            best = (float(gains[i]), f, int(bins[i]), missing_left[i], None)
    return best


def grow_reference(
    X_binned,
    gradients,
    hessians,
    n_bins_non_missing,
    missing_bin,
    bin_thresholds,
    params,
    groups=None,
    *,
    is_categorical=None,
    monotonic_cst=None,
    max_features=None,
    seed=0,
    sample_indices=None,
    with_bounds=False,
):
    """Grow one tree; return its NODE_DTYPE array and the rows of each node.

    Arguments are those of ``TreeGrower`` (``params`` a ``TreeParams``);
    ``groups`` are interaction constraints as a list of feature sets (HGB's
    rule: a node may use the features of the groups that hold every feature
    split on above it). ``rows[i]`` are the training rows of node ``i``,
    sorted. With ``with_bounds``, also each node's lower and upper bounds.
    """
    p = params
    l2 = p.l2_regularization
    nodes = []  # dicts, indexed by node id
    rng = _Xorshift64(seed)
    n_features = X_binned.shape[1]

    def make_node(rows, depth, open_groups, bounds):
        node = {"rows": rows, "depth": depth, "split": None, "children": None,
                "groups": open_groups, "bounds": bounds}
        features = set(range(n_features))
        if groups is not None:
            features = set().union(*(groups[k] for k in open_groups))
        splittable = (
            (p.max_depth is None or depth < p.max_depth)
            and len(rows) >= 2 * p.min_samples_leaf
            and hessians[rows].sum() >= 2 * p.min_hessian_to_split
        )
        if splittable:
            features = _draw(features, max_features, rng)
            split = _best_split(
                X_binned, rows, gradients, hessians, n_bins_non_missing, missing_bin, p,
                features, is_categorical, monotonic_cst, bounds,
            )
            if split is not None and split[0] > p.min_gain_to_split:
                node["split"] = split
        nodes.append(node)
        return node

    root_rows = np.arange(X_binned.shape[0])
    if sample_indices is not None:
        root_rows = np.sort(np.asarray(sample_indices, dtype=np.int64))
    make_node(root_rows, 0, range(len(groups or ())), (-np.inf, np.inf))
    n_leaves = 1
    while p.max_leaf_nodes is None or n_leaves < p.max_leaf_nodes:
        ids = [i for i, n in enumerate(nodes) if n["children"] is None and n["split"]]
        if not ids:
            break
        i = max(ids, key=lambda i: (nodes[i]["split"][0], -i))
        node = nodes[i]
        _, feature, bin_, missing_left, left_set = node["split"]
        rows = node["rows"]
        column = X_binned[rows, feature]
        if left_set is None:
            goes_left = column <= bin_
        else:
            goes_left = np.isin(column, list(left_set))
        left = np.where(column == missing_bin, missing_left, goes_left)
        node["children"] = (len(nodes), len(nodes) + 1)
        still_open = [k for k in node["groups"] if feature in (groups or ())[k]]
        lower, upper = node["bounds"]
        bounds_left = bounds_right = (lower, upper)
        direction = 0 if monotonic_cst is None else monotonic_cst[feature]
        if direction:
            v_l = _values(gradients[rows[left]].sum(), hessians[rows[left]].sum(), l2,
                          lower, upper)[0]
            v_r = _values(gradients[rows[~left]].sum(), hessians[rows[~left]].sum(),
                          l2, lower, upper)[0]
            mid = float((v_l + v_r) / 2)
            if direction > 0:
                bounds_left, bounds_right = (lower, mid), (mid, upper)
            else:
                bounds_left, bounds_right = (mid, upper), (lower, mid)
        make_node(rows[left], node["depth"] + 1, still_open, bounds_left)
        make_node(rows[~left], node["depth"] + 1, still_open, bounds_right)
        n_leaves += 1

    out = np.zeros(len(nodes), dtype=NODE_DTYPE)
    for i, node in enumerate(nodes):
        rows = node["rows"]
        rec = out[i]
        rec["value"] = _values(gradients[rows].sum(), hessians[rows].sum(), l2,
                               *node["bounds"])[0]
        rec["count"] = len(rows)
        rec["depth"] = node["depth"]
        if node["children"] is None:
            rec["is_leaf"] = True
            continue
        gain, feature, bin_, missing_left, left_set = node["split"]
        rec["feature_idx"] = feature
        if left_set is None:
            rec["bin_threshold"] = bin_
            rec["num_threshold"] = bin_thresholds[feature, bin_]
        else:
            rec["is_categorical"] = 1
            for b in left_set:
                rec["left_categories"][b // 64] |= np.uint64(1) << np.uint64(b % 64)
        rec["missing_go_left"] = missing_left
        rec["gain"] = gain
        rec["left"], rec["right"] = node["children"]
    all_rows = [node["rows"] for node in nodes]
    if with_bounds:
        lower = np.array([node["bounds"][0] for node in nodes])
        upper = np.array([node["bounds"][1] for node in nodes])
        return out, all_rows, lower, upper
    return out, all_rows
