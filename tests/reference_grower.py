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
"""

import numpy as np

from accelboost._engine.common import NODE_DTYPE


def _score(sum_g, sum_h, l2):
    """``G^2 / (H + l2)``, 0 where the denominator is not positive."""
    denominator = sum_h + l2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, sum_g * sum_g / denominator, 0.0)


def _leaf_value(sum_g, sum_h, l2):
    denominator = sum_h + l2
    return -sum_g / denominator if denominator > 0 else 0.0


def _best_split(X_binned, rows, g, h, n_bins_non_missing, missing_bin, params,
                features=None):
    """``(gain, feature, bin, missing_go_left)`` of the node's best split.

    Only ``features`` (a set; None: all) are tried. ``None`` if no candidate
    satisfies the constraints.
    """
    l2 = params.l2_regularization
    count = len(rows)
    sum_g, sum_h = g[rows].sum(), h[rows].sum()
    parent = _score(sum_g, sum_h, l2)
    best = None
    for f in range(X_binned.shape[1]):
        if features is not None and f not in features:
            continue
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
        gains = _score(g_l, h_l, l2) + _score(g_r, h_r, l2) - parent
        ok = (
            (n_l >= params.min_samples_leaf)
            & (n_r >= params.min_samples_leaf)
            & (h_l >= params.min_hessian_to_split)
            & (h_r >= params.min_hessian_to_split)
        )
        gains = np.where(ok, gains, -np.inf)
        if not ok.any():
            continue
        i = int(np.argmax(gains))  # the first of equal maxima
        if best is None or gains[i] > best[0]:
            if not has_missing:
                # No missing value seen: at predict time NaN follows the
                # majority.
                missing_left[i] = bool(n_l[i] >= count - n_l[i])
            best = (float(gains[i]), f, int(bins[i]), missing_left[i])
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
):
    """Grow one tree; return its NODE_DTYPE array and the rows of each node.

    Arguments are those of ``TreeGrower`` (``params`` a ``TreeParams``);
    ``groups`` are interaction constraints as a list of feature sets (HGB's
    rule: a node may use the features of the groups that hold every feature
    split on above it). ``rows[i]`` are the training rows of node ``i``,
    sorted.
    """
    p = params
    nodes = []  # dicts, indexed by node id

    def make_node(rows, depth, open_groups):
        node = {"rows": rows, "depth": depth, "split": None, "children": None,
                "groups": open_groups}
        features = None
        if groups is not None:
            features = set().union(*(groups[k] for k in open_groups))
        splittable = (
            (p.max_depth is None or depth < p.max_depth)
            and len(rows) >= 2 * p.min_samples_leaf
            and hessians[rows].sum() >= 2 * p.min_hessian_to_split
        )
        if splittable:
            split = _best_split(
                X_binned, rows, gradients, hessians, n_bins_non_missing, missing_bin, p,
                features,
            )
            if split is not None and split[0] > p.min_gain_to_split:
                node["split"] = split
        nodes.append(node)
        return node

    make_node(np.arange(X_binned.shape[0]), 0, range(len(groups or ())))
    n_leaves = 1
    while p.max_leaf_nodes is None or n_leaves < p.max_leaf_nodes:
        ids = [i for i, n in enumerate(nodes) if n["children"] is None and n["split"]]
        if not ids:
            break
        i = max(ids, key=lambda i: (nodes[i]["split"][0], -i))
        node = nodes[i]
        _, feature, bin_, missing_left = node["split"]
        rows = node["rows"]
        column = X_binned[rows, feature]
        left = np.where(column == missing_bin, missing_left, column <= bin_)
        node["children"] = (len(nodes), len(nodes) + 1)
        still_open = [k for k in node["groups"] if feature in (groups or ())[k]]
        make_node(rows[left], node["depth"] + 1, still_open)
        make_node(rows[~left], node["depth"] + 1, still_open)
        n_leaves += 1

    out = np.zeros(len(nodes), dtype=NODE_DTYPE)
    for i, node in enumerate(nodes):
        rows = node["rows"]
        rec = out[i]
        rec["value"] = _leaf_value(
            gradients[rows].sum(), hessians[rows].sum(), p.l2_regularization
        )
        rec["count"] = len(rows)
        rec["depth"] = node["depth"]
        if node["children"] is None:
            rec["is_leaf"] = True
            continue
        gain, feature, bin_, missing_left = node["split"]
        rec["feature_idx"] = feature
        rec["bin_threshold"] = bin_
        rec["num_threshold"] = bin_thresholds[feature, bin_]
        rec["missing_go_left"] = missing_left
        rec["gain"] = gain
        rec["left"], rec["right"] = node["children"]
    return out, [node["rows"] for node in nodes]
