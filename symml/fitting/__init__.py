"""Model fitting: least squares (exact Jacobians) and maximum likelihood.

The least-squares engine lives in :mod:`symml.fitting.lsq`; the NIST StRD reader used for
validation lives in :mod:`symml.fitting.nist`.
"""
