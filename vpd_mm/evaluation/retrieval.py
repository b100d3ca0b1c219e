"""Action retrieval: precision@k from an all-pairs distance matrix (spec §7).

Every action is a query; every *other* action is ranked by distance (ascending; ties keep index order, inf last);
precision@k is the fraction of the first k ranked actions that share the query's label, averaged over queries.
As in the reference the divisor is k even when fewer than k other actions exist.
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np


__all__ = ['retrieval_precision', 'retrieval_ranking']

logger = logging.getLogger(__name__)


def _check(distances: np.ndarray, labels: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    dist = np.asarray(distances, dtype=np.float64)
    if dist.ndim != 2 or dist.shape[0] != dist.shape[1]:
        raise ValueError(f'distances: expected a square (N, N) matrix, got shape {dist.shape}')
    labels_arr = np.asarray(labels)
    if labels_arr.shape != (dist.shape[0],):
        raise ValueError(f'labels: expected {dist.shape[0]} labels (one per row of distances), '
                         f'got shape {labels_arr.shape}')
    if np.isnan(dist).any():
        raise ValueError('distances: NaN entries')
    return dist, labels_arr


def retrieval_ranking(distances: np.ndarray, query: int) -> np.ndarray:
    """Indices of every action except ``query``, nearest first (stable: ties in index order).

    Args:
        distances (np.ndarray): (N, N) distances.
        query (int): row index of the query.

    Returns:
        np.ndarray: (N - 1,) int64 ranking.
    """
    row = np.asarray(distances[query], dtype=np.float64)
    order = np.argsort(row, kind='stable')
    return order[order != query]


def retrieval_precision(distances: np.ndarray, labels: Sequence[Any], ks: Sequence[int] = (1, 10, 50),
                        queries: Sequence[int] | None = None) -> dict[int, float]:
    """Mean precision@k over queries, each query excluded from its own ranking.

    Args:
        distances (np.ndarray): (N, N) distances between all actions (row = query, column = candidate).
        labels (Sequence): (N,) labels.
        ks (Sequence[int]): cut-offs, each >= 1.
        queries (Sequence[int] | None): row indices to average over (default: every action). The reference
            restricts Diving48 queries to the test actions while the pool stays everything.

    Returns:
        dict[int, float]: ``{k: P@k}``.

    Raises:
        ValueError: non-square or NaN distances, label count mismatch, k < 1, no queries.
    """
    dist, labels_arr = _check(distances, labels)
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 1:
        raise ValueError(f'ks must be positive integers, got {ks}')
    rows = np.arange(len(dist)) if queries is None else np.asarray(queries, dtype=np.int64)
    if len(rows) == 0:
        raise ValueError('retrieval_precision: no queries')
    if rows.min() < 0 or rows.max() >= len(dist):
        raise ValueError(f'queries: indices must be in [0, {len(dist)})')
    max_k = max(ks)
    hits = np.zeros((len(rows), max_k))
    for out_row, query in enumerate(rows):
        ranked = retrieval_ranking(dist, int(query))[:max_k]
        hits[out_row, :len(ranked)] = labels_arr[ranked] == labels_arr[query]
    cumulative = np.cumsum(hits, axis=1)
    return {k: float(np.mean(cumulative[:, k - 1] / k)) for k in ks}
