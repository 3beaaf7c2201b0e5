"""Random fits and the properties every fit must have (the fuzzing harness).

``cases`` describes a fit (data and parameters) as a flat record drawn from a
declared space, so that hypothesis (``tests/test_properties.py``) and the
``benchmarks fuzz`` campaign draw from the same space; ``properties`` runs a
case and lists what it violated. Neither imports hypothesis.
"""
