"""Metrics for classifiers and regressors, each ``(y_true, y_pred_or_score)``.

Definitions are the textbook ones (binary classification: the positive class is the larger
label, or ``pos_label``):

* precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2 P R / (P + R);
* ROC AUC = the probability that a random positive scores above a random negative
  (ties count one half), i.e. the Mann-Whitney U statistic divided by n_pos * n_neg;
* R^2 = 1 - sum (y - yhat)^2 / sum (y - mean y)^2.

>>> from symml.ml import metrics
>>> metrics.accuracy([0, 1, 1, 0], [0, 1, 0, 0])
0.75
>>> metrics.confusion_matrix([0, 1, 1, 0], [0, 1, 0, 0])
array([[2, 0],
       [1, 1]])
>>> metrics.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
0.75
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, ShapeError
from ._base import as_vector

__all__ = [
    "accuracy", "precision", "recall", "f1", "confusion_matrix", "roc_auc", "roc_curve",
    "mse", "mae", "r2",
]  # fmt: skip


def _pair(y_true, y_pred):
    t = as_vector(y_true, what="y_true")
    p = as_vector(y_pred, len(t), what="y_pred")
    if len(t) == 0:
        raise DataError("the metrics need at least one observation")
    return t, p


def accuracy(y_true, y_pred) -> float:
    """Fraction of predictions equal to the true label."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def confusion_matrix(y_true, y_pred, labels=None) -> np.ndarray:
    """Counts C[i, j] of true label ``labels[i]`` predicted as ``labels[j]`` (sorted labels)."""
    t, p = _pair(y_true, y_pred)
    labels = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    index = {v: i for i, v in enumerate(labels.tolist())}
    C = np.zeros((len(labels), len(labels)), dtype=int)
    for a, b in zip(t.tolist(), p.tolist(), strict=True):
        C[index[a], index[b]] += 1
    return C


def _binary(t, p, pos_label):
    if pos_label is None:
        labels = np.unique(np.concatenate([t, p]))
        if len(labels) > 2:
            raise DataError(
                f"precision/recall/F1 are binary here and found {len(labels)} labels; "
                "pass pos_label= to score one class against the rest"
            )
        pos_label = labels[-1]
    tp = int(np.sum((p == pos_label) & (t == pos_label)))
    fp = int(np.sum((p == pos_label) & (t != pos_label)))
    fn = int(np.sum((p != pos_label) & (t == pos_label)))
    return tp, fp, fn


def precision(y_true, y_pred, pos_label=None) -> float:
    """TP / (TP + FP); 0 when nothing is predicted positive."""
    tp, fp, _ = _binary(*_pair(y_true, y_pred), pos_label)
    return tp / (tp + fp) if tp + fp else 0.0


def recall(y_true, y_pred, pos_label=None) -> float:
    """TP / (TP + FN); 0 when there is no positive."""
    tp, _, fn = _binary(*_pair(y_true, y_pred), pos_label)
    return tp / (tp + fn) if tp + fn else 0.0


def f1(y_true, y_pred, pos_label=None) -> float:
    """Harmonic mean of precision and recall, 2 TP / (2 TP + FP + FN)."""
    tp, fp, fn = _binary(*_pair(y_true, y_pred), pos_label)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _scores(y_true, y_score, pos_label):
    t, s = _pair(y_true, y_score)
    s = np.asarray(s, dtype=float)
    labels = np.unique(t)
    if pos_label is None:
        if len(labels) != 2:
            raise DataError(f"ROC analysis needs two classes in y_true, found {len(labels)}")
        pos_label = labels[-1]
    pos = t == pos_label
    if pos.all() or not pos.any():
        raise DataError("ROC analysis needs both a positive and a negative example")
    return pos, s


def roc_auc(y_true, y_score, pos_label=None) -> float:
    """Area under the ROC curve: P(score of a random positive > a random negative)."""
    pos, s = _scores(y_true, y_score, pos_label)
    from scipy.stats import rankdata

    ranks = rankdata(s)  # average ranks: ties count one half
    n1, n0 = int(pos.sum()), int((~pos).sum())
    u = ranks[pos].sum() - n1 * (n1 + 1) / 2
    return float(u / (n1 * n0))


def roc_curve(y_true, y_score, pos_label=None):
    """False- and true-positive rates at every threshold, ``(fpr, tpr, thresholds)``."""
    pos, s = _scores(y_true, y_score, pos_label)
    order = np.argsort(-s, kind="mergesort")
    s, pos = s[order], pos[order]
    distinct = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(pos)[distinct]
    fps = (distinct + 1) - tps
    tpr = np.r_[0.0, tps / pos.sum()]
    fpr = np.r_[0.0, fps / (~pos).sum()]
    return fpr, tpr, np.r_[np.inf, s[distinct]]


def _num_pair(y_true, y_pred):
    t, p = _pair(y_true, y_pred)
    try:
        return t.astype(float), p.astype(float)
    except ValueError as exc:
        raise ShapeError(f"regression metrics need numbers: {exc}") from None


def mse(y_true, y_pred) -> float:
    """Mean squared error."""
    t, p = _num_pair(y_true, y_pred)
    return float(np.mean((t - p) ** 2))


def mae(y_true, y_pred) -> float:
    """Mean absolute error."""
    t, p = _num_pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def r2(y_true, y_pred) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot."""
    t, p = _num_pair(y_true, y_pred)
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    if ss_tot == 0:
        raise DataError("R^2 is undefined when y_true is constant")
    return 1.0 - float(np.sum((t - p) ** 2)) / ss_tot
