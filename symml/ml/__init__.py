"""Case studies end to end: estimators derived with symml and run on data.

Each estimator follows scikit-learn's conventions (hyperparameters in the constructor,
``fit`` returns ``self``, fitted attributes end in ``_``, ``get_params``/``set_params``) and
has ``.derivation()`` returning the :class:`~symml.steps.Derivation` of its mathematics.

>>> import numpy as np
>>> from symml.ml import PCA
>>> PCA(n_components=1).fit(np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.1]])).n_components_
1
"""

from __future__ import annotations

from . import datasets, interpret, metrics, model_selection, preprocessing
from .mixture import GaussianMixture
from .mlp import MLP
from .naive_bayes import BernoulliNB, GaussianNB
from .pca import PCA
from .svm import SVM

__all__ = [
    "PCA", "SVM", "MLP", "GaussianNB", "BernoulliNB", "GaussianMixture", "datasets", "interpret", "metrics", "model_selection",
    "preprocessing",
]  # fmt: skip
