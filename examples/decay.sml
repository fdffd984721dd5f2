# Exponential decay towards a baseline, fitted by least squares:  symml fit examples/decay.sml --data examples/decay.csv
# The data (examples/decay.csv) are synthetic, generated with a fixed seed,
# numpy.random.default_rng(2024): t = 0, 0.5, ..., 10 and y = 8*exp(-0.6*t) + 1 + noise (sd 0.15).
param a = 5, k = 1 in [0, inf], c = 0
data t, y
y ~ a*exp(-k*t) + c
