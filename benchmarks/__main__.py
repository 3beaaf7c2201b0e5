"""``python -m benchmarks [SUBCOMMAND] [options]``.

Without a subcommand: the runner, :mod:`benchmarks.runner` (accelboost
against plain gradient boosting; ``python -m benchmarks --help``). With one:

* ``contention``: fit time with one core busy, :mod:`benchmarks.bench_contention`;
* ``stages``: per-stage time of long fits and stumps against
  HistGradientBoosting, :mod:`benchmarks.bench_stages`.

``python -m benchmarks SUBCOMMAND --help`` lists a subcommand's options.
"""

import importlib
import sys

#: Subcommand to the module whose ``main(argv)`` runs it.
SUBCOMMANDS = {
    "contention": "benchmarks.bench_contention",
    "stages": "benchmarks.bench_stages",
}

args = sys.argv[1:]
if args and args[0] in SUBCOMMANDS:
    sys.exit(importlib.import_module(SUBCOMMANDS[args[0]]).main(args[1:]))

from .runner import main  # noqa: E402

sys.exit(main())
