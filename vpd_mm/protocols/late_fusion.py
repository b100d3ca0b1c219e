"""Late fusion of test predictions: the paper's "2-stream" (RGB + flow) and "ensemble" (joints + bones) rows.

Each input is the JSON list ``tools/test.py CONFIG CKPT --dump preds.json`` writes (one entry per test sample,
in test-set order): ``{"pred_score": [C floats], "pred_label": ..., "gt_label": ...}``. The fused score of a
sample is the weighted mean of its streams' ``pred_score`` (softmax probabilities averaged over clips, mmaction2's
``average_clips='prob'``); the fused label is its argmax. Streams must describe the same samples: equal lengths,
equal class counts and equal ground-truth labels at every position, otherwise fusion is refused (a config tested
on a different split or corpus, or with another class list, is caught here).
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Any, Sequence

import numpy as np

from ..corpus import atomic_write_bytes

__all__ = ['read_predictions', 'fuse_predictions', 'accuracy', 'write_predictions', 'result_document']


def _label(value: Any) -> int:
    while isinstance(value, list):
        if len(value) != 1:
            raise ValueError(f'expected a single label, got {value}')
        value = value[0]
    return int(value)


def read_predictions(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Read a ``--dump`` JSON file.

    Args:
        path (str): the file.

    Returns:
        tuple: scores (N, C) float64 and ground-truth labels (N,) int64.

    Raises:
        ValueError: missing file, invalid JSON, an entry without ``pred_score`` / ``gt_label``, ragged or
            non-finite scores, an empty list (the message names the file).
    """
    if not osp.isfile(path):
        raise ValueError(f'{path}: file does not exist')
    try:
        with open(path) as f:
            entries = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f'{path}: not valid JSON ({error})') from None
    if not isinstance(entries, list) or not entries:
        raise ValueError(f'{path}: expected a non-empty JSON list of predictions')
    scores, labels = [], []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or 'pred_score' not in entry or 'gt_label' not in entry:
            raise ValueError(f'{path}: entry {index} needs "pred_score" and "gt_label"')
        try:
            scores.append(np.asarray(entry['pred_score'], dtype=np.float64).reshape(-1))
            labels.append(_label(entry['gt_label']))
        except (TypeError, ValueError) as error:
            raise ValueError(f'{path}: entry {index}: {error}') from None
    sizes = {len(s) for s in scores}
    if len(sizes) != 1:
        raise ValueError(f'{path}: entries have different numbers of class scores {sorted(sizes)}')
    table = np.stack(scores)
    if not np.isfinite(table).all():
        raise ValueError(f'{path}: non-finite pred_score at entry {int(np.argmax(~np.isfinite(table).all(1)))}')
    return table, np.asarray(labels, dtype=np.int64)


def fuse_predictions(streams: Sequence[tuple[np.ndarray, np.ndarray]], weights: Sequence[float] | None = None,
                     names: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of the streams' scores.

    Args:
        streams (Sequence[tuple]): ``(scores (N, C), labels (N,))`` per stream, as :func:`read_predictions`.
        weights (Sequence[float], optional): one non-negative weight per stream (not all zero); default equal.
        names (Sequence[str], optional): stream names for error messages (e.g. the file names).

    Returns:
        tuple: fused scores (N, C) and the labels (N,).

    Raises:
        ValueError: fewer than two streams, bad weights, or streams that do not describe the same samples.
    """
    if len(streams) < 2:
        raise ValueError(f'late fusion needs at least two streams, got {len(streams)}')
    names = list(names) if names is not None else [f'stream {i}' for i in range(len(streams))]
    weights = np.ones(len(streams)) if weights is None else np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(streams),) or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f'need {len(streams)} non-negative weights, not all zero; got {weights.tolist()}')
    first_scores, first_labels = streams[0]
    for name, (scores, labels) in zip(names[1:], streams[1:]):
        if scores.shape != first_scores.shape:
            raise ValueError(f'{name}: {scores.shape[0]} samples x {scores.shape[1]} classes, but {names[0]} has '
                             f'{first_scores.shape[0]} x {first_scores.shape[1]}')
        mismatch = np.flatnonzero(labels != first_labels)
        if mismatch.size:
            raise ValueError(f'{name}: ground-truth label of sample {int(mismatch[0])} differs from {names[0]} '
                             f'({int(labels[mismatch[0]])} vs {int(first_labels[mismatch[0]])}); not the same test '
                             'samples')
    fused = sum(w * s for w, (s, _) in zip(weights, streams)) / weights.sum()
    return fused, first_labels


def accuracy(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Top-1 and mean-class accuracy (mmaction2's ``acc/top1`` and ``acc/mean1``) of scores (N, C)."""
    pred = scores.argmax(axis=1)
    hit = pred == labels
    per_class = [hit[labels == c].mean() for c in np.unique(labels)]
    return {'acc/top1': float(hit.mean()), 'acc/mean1': float(np.mean(per_class))}


def write_predictions(path: str, scores: np.ndarray, labels: np.ndarray) -> None:
    """Write fused predictions in the ``--dump`` format (atomic)."""
    entries = [dict(pred_score=s.tolist(), pred_label=int(s.argmax()), gt_label=int(g)) for s, g in zip(scores, labels)]
    data = json.dumps(entries).encode()
    atomic_write_bytes(path, lambda f: f.write(data))


def result_document(metrics: dict[str, float], sport: str, name: str, inputs: Sequence[str],
                    weights: Sequence[float]) -> dict[str, Any]:
    """A ``recognition`` result document (``vpd_mm.protocols.report``) of a fused full-training-set result,
    e.g. the "TSN (crop; 2-stream)" row of Table 1: ``results = {'all': {mean, std: 0, accs: [top1]}}``."""
    top1 = float(metrics['acc/top1'])
    return dict(task='recognition', protocol='late_fusion', sport=sport, features=name, method='late_fusion',
                inputs=list(inputs), weights=[float(w) for w in weights], metrics=dict(metrics),
                results={'all': dict(mean=top1, std=0.0, accs=[top1])})
