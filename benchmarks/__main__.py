"""``python -m benchmarks SUBCOMMAND [options]``: the benchmarks, one tool.

* ``compare`` (also with no subcommand): accelboost, plain and accelerated,
  against plain gradient boosting and its peers: held-out loss per tree and
  wall time (:mod:`benchmarks.compare`);
* ``speed engine``, ``speed contention``, ``speed stages``: fit and predict
  speed, fit time with one core busy, per-stage time of long fits
  (:mod:`benchmarks.speed`);
* ``evidence``: the acceleration evidence grid (:mod:`benchmarks.evidence`);
* ``additive``: accelboost's additive models against EBM and one-feature
  HistGradientBoosting and LightGBM (:mod:`benchmarks.additive`);
* ``parametric EXPERIMENT``: the claims behind the parametric weak learners
  (deep-linear, boosting, width, catapults, or all), each reported as
  reproduced or not (:mod:`benchmarks.parametric`).

``python -m benchmarks SUBCOMMAND --help`` lists a subcommand's options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

SUBCOMMANDS = ("compare", "speed", "evidence", "additive", "parametric", "distributed",
               "fuzz")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``compare``, ``speed``, ``additive`` and ``parametric``
    (``evidence`` parses its own)."""
    from . import additive, compare, distributed, fuzz, parametric, speed

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="accelboost's benchmarks. Without a subcommand: compare.")
    sub = parser.add_subparsers(dest="subcommand", required=True)
    compare.add_arguments(sub.add_parser(
        "compare", help="held-out loss per tree and wall time against plain "
        "boosting and the peers", description="accelboost, plain and "
        "accelerated, against plain gradient boosting and its peers: held-out "
        "loss and wall time after every tree; writes results.json, report.md "
        "and two plots to --out."))
    speed.add_arguments(sub.add_parser(
        "speed", help="engine speed, one busy core, long fits",
        description=speed.__doc__.split("\n\n")[0]))
    additive.add_arguments(sub.add_parser(
        "additive", help="additive models against EBM",
        description=additive.__doc__.split("\n\n")[0].split(": ", 1)[1]))
    parametric.add_arguments(sub.add_parser(
        "parametric", help="the parametric learners' claims, reproduced or not",
        description=parametric.__doc__.split("\n\n")[0].split(": ", 1)[1]))
    distributed.add_arguments(sub.add_parser(
        "distributed", help="accelboost.dask on a local cluster against in-memory "
        "and LightGBM-Dask", description=distributed.__doc__.split("\n\n")[0]))
    fuzz.add_arguments(sub.add_parser(
        "fuzz", help="random fits against the properties every fit must have",
        description=fuzz.__doc__.split("\n\n")[0]))
    sub.add_parser("evidence", add_help=False,
                   help="the acceleration evidence grid (see evidence --help)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the subcommand; its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*SUBCOMMANDS, "-h", "--help"):
        argv.insert(0, "compare")
    if argv[0] == "evidence":
        from . import evidence

        return evidence.main(argv[1:])
    args = build_parser().parse_args(argv)
    command = "python -m benchmarks " + " ".join(argv)
    module = __import__(f"benchmarks.{args.subcommand}", fromlist=["main"])
    return module.main(args, command)


if __name__ == "__main__":
    sys.exit(main())
