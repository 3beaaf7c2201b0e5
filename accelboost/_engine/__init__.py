"""The private tree engine: binning, histograms, split search, the compiled
grower, the predictor and the losses (Numba kernels with thin Python)."""
