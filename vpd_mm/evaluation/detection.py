"""Temporal detection on arrays: proposals from per-frame scores, and AP at a temporal IoU (spec §8.3-8.4).

Every interval is in frames, ``[start, end)`` (end exclusive), for proposals and ground truth alike.

Proposals (``proposals_from_scores``): frames with score >= threshold form maximal runs; runs separated by at
most ``max_gap`` frames below the threshold are merged; merged runs shorter than ``min_length`` frames are
dropped; each run's score is the mean frame score over it (gap frames included); with ``mean_length`` (the mean
ground-truth length in training), a run shorter than ``0.67 * ceil(mean_length)`` or longer than
``1.33 * ceil(mean_length)`` is replaced by an interval of that bound's length centred on the run.

AP (``detection_ap``): all proposals, over all videos, sorted by descending score; each is a true positive when
its IoU with the best still-unmatched ground-truth interval of its video is >= tIoU, which then counts as
matched (greedy one-to-one); precision is made monotone (the maximum precision at any higher recall) and AP is the
area under that curve (all points, VOC 2010+ style).

Fixed relative to the reference (spec §10.3 bug 7 and §8.3-8.4):
- the reference merges runs when ``start - previous_end <= 1`` on inclusive ends, which never holds for two
  separate runs, so it never merges; here runs separated by up to ``max_gap`` frames (default 1) are merged;
- the reference's IoU mixes an inclusive proposal end with an exclusive ground-truth end; here both are
  exclusive;
- the reference lets one proposal consume every ground truth it overlaps (one TP, several GT removed); here a
  proposal matches one ground truth (the one with the highest IoU).
Ground-truth intervals of one video that overlap are merged first, as in the reference.
"""
from __future__ import annotations

import math
from typing import Any, Hashable, Mapping, Sequence

import numpy as np

__all__ = ['DEFAULT_TIOUS', 'temporal_iou', 'threshold_runs', 'merge_runs', 'normalize_length',
           'proposals_from_scores', 'video_proposals', 'merge_ground_truth', 'detection_ap', 'detection_ap_table']

DEFAULT_TIOUS = (0.3, 0.4, 0.5, 0.6, 0.7)


def temporal_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """IoU of two intervals ``[start, end)``."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    if inter <= 0:
        return 0.0
    return inter / ((a[1] - a[0]) + (b[1] - b[0]) - inter)


# ------------------------------------------------------------------------------------------------ proposals
def threshold_runs(scores: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Maximal runs of frames with ``scores >= threshold``.

    Args:
        scores (np.ndarray): (T,) per-frame scores.
        threshold (float): activation threshold.

    Returns:
        list[tuple[int, int]]: ``[start, end)`` runs in order.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(f'scores: expected shape (T,), got {scores.shape}')
    if np.isnan(scores).any():
        raise ValueError('scores: NaN entries')
    active = np.concatenate([[False], scores >= threshold, [False]])
    edges = np.flatnonzero(np.diff(active.astype(np.int8)))
    return [(int(s), int(e)) for s, e in zip(edges[0::2], edges[1::2])]


def merge_runs(runs: Sequence[tuple[int, int]], max_gap: int) -> list[tuple[int, int]]:
    """Merge consecutive ``[start, end)`` runs separated by at most ``max_gap`` frames (``start - prev_end``)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(runs):
        if merged and start - merged[-1][1] <= max_gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def normalize_length(start: int, end: int, mean_length: float, length_range: tuple[float, float] = (0.67, 1.33),
                     num_frames: int | None = None) -> tuple[int, int]:
    """Clamp an interval's length to ``length_range`` times ``ceil(mean_length)``, keeping its centre.

    A run shorter than ``lo = length_range[0] * ceil(mean_length)`` becomes ``ceil(lo)`` frames long; one longer
    than ``hi = length_range[1] * ceil(mean_length)`` becomes ``floor(hi)`` frames long (at least 1); the new
    start is ``floor(centre - new_length / 2 + 0.5)``. With ``num_frames`` the interval is shifted (not cut) to
    stay inside ``[0, num_frames)`` where it fits.

    Returns:
        tuple[int, int]: the new ``[start, end)``.
    """
    base = math.ceil(mean_length)
    lo, hi = length_range[0] * base, length_range[1] * base
    length = end - start
    if length < lo:
        new_len = math.ceil(lo)
    elif length > hi:
        new_len = max(1, math.floor(hi))
    else:
        return start, end
    centre = (start + end) / 2
    new_start = math.floor(centre - new_len / 2 + 0.5)
    if num_frames is not None:
        new_start = min(new_start, num_frames - new_len)
    new_start = max(new_start, 0)
    new_end = new_start + new_len
    if num_frames is not None:
        new_end = min(new_end, num_frames)
    return new_start, new_end


def proposals_from_scores(scores: np.ndarray, threshold: float, max_gap: int = 1, min_length: int = 5,
                          mean_length: float | None = None,
                          length_range: tuple[float, float] = (0.67, 1.33)) -> list[tuple[int, int, float]]:
    """Proposals of one video from its per-frame action scores.

    Args:
        scores (np.ndarray): (T,) per-frame P(action).
        threshold (float): frames with score >= threshold are active.
        max_gap (int): runs separated by at most this many inactive frames are merged (0: no merging).
        min_length (int): merged runs shorter than this many frames are dropped (the reference keeps runs of
            more than 4 frames: 5).
        mean_length (float | None): mean training interval length for length normalisation; None: off.
        length_range (tuple[float, float]): allowed length as factors of ``ceil(mean_length)``.

    Returns:
        list[tuple[int, int, float]]: ``(start, end, score)``, end exclusive, in temporal order; the score is the
        mean frame score over the merged run before length normalisation.
    """
    if max_gap < 0 or min_length < 1:
        raise ValueError(f'need max_gap >= 0 and min_length >= 1, got {max_gap}, {min_length}')
    if mean_length is not None and not mean_length > 0:
        raise ValueError(f'mean_length must be positive, got {mean_length}')
    scores = np.asarray(scores, dtype=np.float64)
    out = []
    for start, end in merge_runs(threshold_runs(scores, threshold), max_gap):
        if end - start < min_length:
            continue
        score = float(scores[start:end].mean())
        if mean_length is not None:
            start, end = normalize_length(start, end, mean_length, length_range, num_frames=len(scores))
        out.append((start, end, score))
    return out


def video_proposals(scores: Mapping[Hashable, np.ndarray], threshold: float,
                    **kwargs: Any) -> list[tuple[Hashable, int, int, float]]:
    """``proposals_from_scores`` over many videos.

    Args:
        scores (Mapping): ``{video_id: (T,) scores}``.
        threshold (float): activation threshold.
        **kwargs: ``max_gap``, ``min_length``, ``mean_length``, ``length_range``.

    Returns:
        list[tuple]: ``(video_id, start, end, score)`` proposals, the input format of :func:`detection_ap`.
    """
    return [(video_id, start, end, score) for video_id, video_scores in scores.items()
            for start, end, score in proposals_from_scores(video_scores, threshold, **kwargs)]


# ------------------------------------------------------------------------------------------------ AP
def merge_ground_truth(ground_truth: Sequence[tuple[Hashable, float, float]]
                       ) -> dict[Hashable, list[tuple[float, float]]]:
    """Ground truth per video, overlapping intervals merged (touching ``[a, b)``, ``[b, c)`` stay apart)."""
    per_video: dict[Hashable, list[tuple[float, float]]] = {}
    for index, item in enumerate(ground_truth):
        if len(item) != 3:
            raise ValueError(f'ground_truth[{index}]: expected (video_id, start, end), got {item!r}')
        video_id, start, end = item
        if not end > start:
            raise ValueError(f'ground_truth[{index}]: need start < end, got {start}, {end}')
        per_video.setdefault(video_id, []).append((start, end))
    merged = {}
    for video_id, intervals in per_video.items():
        out: list[tuple[float, float]] = []
        for start, end in sorted(intervals):
            if out and start < out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        merged[video_id] = out
    return merged


def detection_ap(proposals: Sequence[tuple[Hashable, float, float, float]],
                 ground_truth: Sequence[tuple[Hashable, float, float]], tiou: float) -> float:
    """Average precision of temporal proposals at one temporal IoU threshold.

    Args:
        proposals (Sequence[tuple]): ``(video_id, start, end, score)``, frames, end exclusive.
        ground_truth (Sequence[tuple]): ``(video_id, start, end)``, frames, end exclusive; overlapping intervals of
            a video are merged first.
        tiou (float): a proposal is a true positive when its IoU with an unmatched ground truth is >= tiou.

    Returns:
        float: AP in [0, 1] (0 without proposals).

    Raises:
        ValueError: no ground truth, a malformed tuple, start >= end, or a NaN score.
    """
    gt = merge_ground_truth(ground_truth)
    num_pos = sum(len(v) for v in gt.values())
    if num_pos == 0:
        raise ValueError('detection_ap: no ground-truth intervals')
    for index, item in enumerate(proposals):
        if len(item) != 4:
            raise ValueError(f'proposals[{index}]: expected (video_id, start, end, score), got {item!r}')
        if not item[2] > item[1]:
            raise ValueError(f'proposals[{index}]: need start < end, got {item[1]}, {item[2]}')
        if math.isnan(item[3]):
            raise ValueError(f'proposals[{index}]: NaN score')
    if not proposals:
        return 0.0
    order = np.argsort([-float(p[3]) for p in proposals], kind='stable')
    matched = {video_id: np.zeros(len(v), dtype=bool) for video_id, v in gt.items()}
    tp = np.zeros(len(proposals))
    for rank, index in enumerate(order):
        video_id, start, end, _ = proposals[index]
        if video_id not in gt:
            continue
        best, best_iou = -1, -1.0
        for g_index, interval in enumerate(gt[video_id]):
            if matched[video_id][g_index]:
                continue
            iou = temporal_iou((start, end), interval)
            if iou > best_iou:
                best, best_iou = g_index, iou
        if best >= 0 and best_iou >= tiou:
            matched[video_id][best] = True
            tp[rank] = 1
    cum_tp = np.cumsum(tp)
    recall = cum_tp / num_pos
    precision = cum_tp / np.arange(1, len(tp) + 1)
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # best precision at this recall or higher
    delta = np.diff(np.concatenate([[0.0], recall]))
    return float(np.sum(delta * precision))


def detection_ap_table(proposals: Sequence[tuple[Hashable, float, float, float]],
                       ground_truth: Sequence[tuple[Hashable, float, float]],
                       tious: Sequence[float] = DEFAULT_TIOUS) -> dict[float, float]:
    """``{tiou: detection_ap(...)}`` for each threshold (default 0.3, 0.4, ..., 0.7 as in the paper)."""
    return {float(t): detection_ap(proposals, ground_truth, t) for t in tious}
