"""``DTWNearestNeighbor``: k-nearest-neighbour action classification with DTW (spec §6.5).

Following the reference (``recognize.py --algorithm dtw``): every training sequence contributes its original and
its mirrored features as two separate items with the same label; a test sequence compares both of its variants
with every item, and its distance to an item is the smaller of the two. With symmetricP2 a pair of very different
lengths has no admissible path (inf); only when *every* distance of a test sequence is inf are its distances
recomputed with symmetric2 (the reference's retry). k = 1 takes the label of the closest item; k > 1 a majority
vote over the k closest items, a tie going to the tied class whose best item is closest. A test sequence
without features (None or zero frames) is predicted as the most frequent training class, as the reference does;
such sequences are counted in ``num_missing`` and logged.

It is a plain estimator (``fit`` / ``predict`` on numpy arrays), not an ``nn.Module``. It is registered in
``mmaction.registry.MODELS`` only so that a config can name it (``MODELS.build(dict(type='DTWNearestNeighbor',
k=1))``); mmengine's Runner cannot train it.
"""
from __future__ import annotations

import logging
from collections import Counter
from typing import Any, Sequence

import numpy as np
from mmaction.registry import MODELS

from .dtw import STEP_PATTERNS, pairwise_dtw

__all__ = ['DTWNearestNeighbor']

logger = logging.getLogger(__name__)


def _variants(seq: np.ndarray, use_mirrored: bool, what: str) -> list[np.ndarray]:
    """``(T, 2, d)`` -> [original (T, d), mirrored (T, d)] (or the original only); ``(T, d)`` -> [itself]."""
    arr = np.asarray(seq)
    if arr.ndim == 3 and arr.shape[1] == 2:
        return [arr[:, 0], arr[:, 1]] if use_mirrored else [arr[:, 0]]
    if arr.ndim == 2:
        return [arr]
    raise ValueError(f'{what}: expected a (T, 2, d) or (T, d) sequence, got shape {arr.shape}')


def _is_missing(seq: Any) -> bool:
    return seq is None or len(seq) == 0


@MODELS.register_module()
class DTWNearestNeighbor:
    """k-NN classifier of feature sequences under normalised DTW distance.

    Args:
        k (int): neighbours that vote (1 = the nearest item decides).
        step_pattern (str): ``'symmetricP2'`` (the reference) or ``'symmetric2'``.
        use_mirrored (bool): use the mirrored variant of ``(T, 2, d)`` sequences (training items and test
            variants); False compares original features only.

    Example:
        >>> knn = DTWNearestNeighbor(k=1).fit(train_seqs, train_labels)   # seqs: list of (T, 2, d)
        >>> pred = knn.predict(test_seqs)                                  # (N,) labels
        >>> pred = knn.predict_views([[orig, mirrored], ...])              # variants given explicitly
    """

    def __init__(self, k: int = 1, step_pattern: str = 'symmetricP2', use_mirrored: bool = True) -> None:
        if int(k) < 1:
            raise ValueError(f'k must be >= 1, got {k}')
        if step_pattern not in STEP_PATTERNS:
            raise ValueError(f'unknown step_pattern {step_pattern!r}; expected one of {STEP_PATTERNS}')
        self.k = int(k)
        self.step_pattern = step_pattern
        self.use_mirrored = use_mirrored
        self.items: list[np.ndarray] = []
        self.item_labels: np.ndarray = np.empty(0)
        self.item_source: np.ndarray = np.empty(0, dtype=np.int64)
        self.majority_label: Any = None
        self.num_missing = 0
        self.num_retried = 0

    def fit(self, sequences: Sequence[np.ndarray], labels: Sequence[Any]) -> 'DTWNearestNeighbor':
        """Store the training items.

        Args:
            sequences (Sequence[np.ndarray]): N training sequences, each ``(T, 2, d)`` (original, mirrored) or
                ``(T, d)``.
            labels (Sequence): N labels (any hashable type: class names or indices).

        Returns:
            DTWNearestNeighbor: self.

        Raises:
            ValueError: no training sequences, lengths differ, or a training sequence without frames.
        """
        if len(sequences) != len(labels):
            raise ValueError(f'{len(sequences)} training sequences but {len(labels)} labels')
        if len(sequences) == 0:
            raise ValueError('no training sequences')
        items, item_labels, source = [], [], []
        for index, (seq, label) in enumerate(zip(sequences, labels)):
            if _is_missing(seq):
                raise ValueError(f'training sequence {index} has no frames; drop it before fit() '
                                 '(the reference drops training sequences without features)')
            for variant in _variants(seq, self.use_mirrored, f'training sequence {index}'):
                items.append(variant)
                item_labels.append(label)
                source.append(index)
        self.items = items
        self.item_labels = np.asarray(item_labels)
        self.item_source = np.asarray(source, dtype=np.int64)
        counts = Counter(list(labels))
        top = max(counts.values())
        self.majority_label = sorted(label for label, count in counts.items() if count == top)[0]
        return self

    def distances(self, sequences: Sequence[np.ndarray | None]) -> np.ndarray:
        """Distance of each test sequence to each training item (see :meth:`view_distances`).

        Args:
            sequences (Sequence[np.ndarray | None]): N test sequences ``(T, 2, d)`` or ``(T, d)``; None or
                empty entries give a row of inf.

        Returns:
            np.ndarray: (N, I) normalised DTW distances, I = number of training items.
        """
        return self.view_distances(self._split_views(sequences))

    def view_distances(self, views: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
        """Distance of each test action, given as a list of variants, to each training item.

        Args:
            views (Sequence[Sequence[np.ndarray]]): N entries, each a list of ``(T, d)`` variants of one test
                action (e.g. ``[original, mirrored]``); an empty list gives a row of inf.

        Returns:
            np.ndarray: (N, I) the minimum over each action's variants of the normalised DTW distance. A row
            that is all inf under symmetricP2 is recomputed with symmetric2 (the reference's retry).
        """
        if not self.items:
            raise RuntimeError('DTWNearestNeighbor: predict() called before fit()')
        out = np.full((len(views), len(self.items)), np.inf)
        variants, owner = [], []
        for index, entry in enumerate(views):
            for variant in entry:
                variants.append(variant)
                owner.append(index)
        if not variants:
            return out
        owner_arr = np.asarray(owner)
        dist = pairwise_dtw(variants, self.items, step_pattern=self.step_pattern, fallback=False)
        np.minimum.at(out, owner_arr, dist)
        present = np.unique(owner_arr)
        retry = present[~np.isfinite(out[present]).any(axis=1)]
        if len(retry):
            self.num_retried += len(retry)
            logger.info('DTWNearestNeighbor: %d test sequence(s) have no symmetricP2 path to any training item; '
                        'retrying them with symmetric2', len(retry))
            retry_set = set(retry.tolist())
            rows = [i for i, o in enumerate(owner) if o in retry_set]
            dist2 = pairwise_dtw([variants[i] for i in rows], self.items, step_pattern='symmetric2')
            np.minimum.at(out, owner_arr[rows], dist2)
        return out

    def predict(self, sequences: Sequence[np.ndarray | None]) -> np.ndarray:
        """Predict a label for each test sequence.

        Args:
            sequences (Sequence[np.ndarray | None]): N test sequences ``(T, 2, d)`` (both variants compared) or
                ``(T, d)``; None / empty entries are predicted as the most frequent training class and counted
                in ``num_missing``.

        Returns:
            np.ndarray: (N,) predicted labels (the training labels' dtype).
        """
        return self.predict_views(self._split_views(sequences))

    def predict_views(self, views: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
        """Predict a label for each test action given as a list of its ``(T, d)`` variants.

        Args:
            views (Sequence[Sequence[np.ndarray]]): N entries such as ``[original, mirrored]``; an empty entry (no
                features) is predicted as the most frequent training class and counted in ``num_missing``.

        Returns:
            np.ndarray: (N,) predicted labels.
        """
        views = [[v for v in entry if not _is_missing(v)] for entry in views]
        dist = self.view_distances(views)
        preds = []
        missing = 0
        for index, entry in enumerate(views):
            if not entry:
                missing += 1
                preds.append(self.majority_label)
            else:
                preds.append(self._vote(dist[index]))
        if missing:
            self.num_missing += missing
            logger.warning('DTWNearestNeighbor: %d of %d test sequences have no features; predicted as the most '
                           'frequent training class %r', missing, len(views), self.majority_label)
        return np.asarray(preds, dtype=self.item_labels.dtype)

    def _split_views(self, sequences: Sequence[np.ndarray | None]) -> list[list[np.ndarray]]:
        return [[] if _is_missing(seq) else _variants(seq, self.use_mirrored, f'test sequence {index}')
                for index, seq in enumerate(sequences)]

    def _vote(self, row: np.ndarray) -> Any:
        order = np.argsort(row, kind='stable')[:self.k]
        if self.k == 1:
            return self.item_labels[order[0]]
        votes: dict[Any, int] = {}
        first_rank: dict[Any, int] = {}
        for rank, item in enumerate(order):
            label = self.item_labels[item]
            votes[label] = votes.get(label, 0) + 1
            first_rank.setdefault(label, rank)
        top = max(votes.values())
        # majority; among tied classes the one whose nearest item ranks first
        return min((label for label, count in votes.items() if count == top), key=lambda lab: first_rank[lab])
