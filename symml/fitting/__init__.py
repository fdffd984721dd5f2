"""Model fitting: least squares (exact Jacobians) and maximum likelihood.

The least-squares engine lives in :mod:`symml.fitting.lsq`; the NIST StRD reader used for
validation lives in :mod:`symml.fitting.nist`.
"""

from .api import fit
from .result import DerivedQuantity, FitResult

__all__ = ["fit", "FitResult", "DerivedQuantity"]
