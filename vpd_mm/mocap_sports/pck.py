"""Pose accuracy against the rendered ground truth: PCK@0.2 with misses as failures, and a swap-tolerant error.

All errors are in torso lengths (``gt_pose`` ``torso``: focal length x the 3D mid-shoulder to mid-hip distance /
the torso's depth, so the unit does not shrink when the athlete bends or turns) over the 12 body joints (COCO-17
5..16: shoulders, elbows, wrists, hips, knees, ankles); face points are not scored.

- **PCK@0.2**: share of body joints within 0.2 torso of the ground truth; a frame without a prediction (or a
  non-finite joint) counts as wrong for every joint.
- **swap-tolerant PCK@0.2**: the same after choosing, per frame, the prediction or its left/right-swapped copy,
  whichever has the lower mean error (a teacher that finds the joints but mislabels the sides passes).
- **NE**: normalised error, the mean over the 12 joints, on detected frames only; **flip-invariant NE** is the
  lower of NE and the NE of the swapped copy. **swap rate**: detected frames whose swapped copy is at least 20 %
  better.

Frames are split by the ground truth (never by the prediction):
- **fast** if the mean image speed of the 12 body joints is at least :data:`FAST_SPEED` torso lengths per frame
  (central difference of the projected joints, camera motion included), **slow** otherwise;
- **blurred** if the longest body-joint streak during the exposure is at least :data:`BLUR_EXTENT` torso
  lengths, **sharp** otherwise.
Joint-level results are also binned by each joint's own speed (:data:`SPEED_BINS`).
"""
from __future__ import annotations

import json
import os.path as osp
import zipfile
from typing import Any, Sequence

import numpy as np

from ..corpus.corpus import Corpus, CorpusFormatError, PoseTrack
from ..pose import COCO17_FLIP_INDEX
from .groundtruth import GroundTruth, read_gt_pose

__all__ = ['PCK_THRESHOLD', 'FAST_SPEED', 'BLUR_EXTENT', 'SPEED_BINS', 'BODY_JOINTS', 'SWAP_MARGIN',
           'normalized_errors', 'pck', 'summarize', 'evaluate_corpus', 'format_report', 'read_pose_file',
           'write_report']

PCK_THRESHOLD = 0.2
"""A joint is correct within this many torso lengths."""
FAST_SPEED = 0.10
"""A frame is fast when its body joints move this many torso lengths per frame on average (2.5 torso/s at 25
fps; a walk is about 0.03, a spin kick's fastest frames above 0.2)."""
BLUR_EXTENT = 0.15
"""A frame is blurred when its longest body-joint streak over the exposure reaches this many torso lengths."""
SPEED_BINS: tuple[float, ...] = (0.0, 0.03, 0.06, 0.12, 0.24, float('inf'))
"""Joint speed bins (torso lengths per frame) of the joint-level table."""
BODY_JOINTS = np.arange(5, 17)
"""COCO-17 indices of the scored joints."""
SWAP_MARGIN = 0.8
"""A frame counts as left/right swapped when the swapped copy's NE is below this fraction of the NE."""


def normalized_errors(pred: np.ndarray, gt: np.ndarray, torso: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-joint errors of the prediction and of its left/right-swapped copy, in torso lengths.

    Args:
        pred (np.ndarray): (T, 17, 2) predicted pixels (NaN where missing).
        gt (np.ndarray): (T, 17, 2) ground-truth pixels.
        torso (np.ndarray): (T,) torso lengths in pixels (> 0).

    Returns:
        tuple[np.ndarray, np.ndarray]: (T, 12) errors of the body joints, as predicted and with left/right
        labels swapped; NaN where the prediction is missing.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    torso = np.asarray(torso, dtype=np.float64)
    if pred.shape != gt.shape or pred.shape[1:] != (17, 2) or torso.shape != pred.shape[:1]:
        raise ValueError(f'shapes differ: pred {pred.shape}, gt {gt.shape}, torso {torso.shape}')
    if not (torso > 0).all():
        raise ValueError('torso lengths must be positive')
    swapped = pred[:, COCO17_FLIP_INDEX]
    err = np.linalg.norm(pred - gt, axis=-1)[:, BODY_JOINTS] / torso[:, None]
    err_swap = np.linalg.norm(swapped - gt, axis=-1)[:, BODY_JOINTS] / torso[:, None]
    return err, err_swap


def _detected(err: np.ndarray) -> np.ndarray:
    return np.isfinite(err).all(axis=1)


def pck(pred: np.ndarray, gt: np.ndarray, torso: np.ndarray, threshold: float = PCK_THRESHOLD,
        swap_tolerant: bool = False) -> float:
    """PCK of the 12 body joints over all frames, misses counted as failures.

    Args:
        pred (np.ndarray): (T, 17, 2) predicted pixels (NaN where missing).
        gt (np.ndarray): (T, 17, 2) ground truth.
        torso (np.ndarray): (T,) torso lengths in pixels.
        threshold (float): in torso lengths.
        swap_tolerant (bool): per frame, score the better of the prediction and its left/right swap.

    Returns:
        float: share of correct joints in [0, 1] (NaN for zero frames).
    """
    err, err_swap = normalized_errors(pred, gt, torso)
    if swap_tolerant:
        err = _choose(err, err_swap)
    if err.size == 0:
        return float('nan')
    return float(np.mean(np.where(np.isfinite(err), err <= threshold, False)))


def _choose(err: np.ndarray, err_swap: np.ndarray) -> np.ndarray:
    """Per frame, the errors of whichever of the prediction and its swap has the lower mean."""
    use_swap = np.mean(np.where(np.isfinite(err_swap), err_swap, np.inf), axis=1) < \
        np.mean(np.where(np.isfinite(err), err, np.inf), axis=1)
    return np.where(use_swap[:, None], err_swap, err)


def summarize(err: np.ndarray, err_swap: np.ndarray, threshold: float = PCK_THRESHOLD) -> dict[str, Any]:
    """The metrics of a set of frames.

    Args:
        err (np.ndarray): (N, 12) joint errors (NaN rows for missed frames), from :func:`normalized_errors`.
        err_swap (np.ndarray): (N, 12) errors of the swapped predictions.
        threshold (float): PCK threshold in torso lengths.

    Returns:
        dict: ``frames``, ``detection`` (share of frames with a prediction), ``pck`` and ``pck_swap_tolerant``
        (misses fail), ``ne_mean``, ``ne_median``, ``ne_flip_mean`` (detected frames), ``swap_rate`` (share
        of detected frames whose swap is >= 20 % better). Rates are None when there are no frames.
    """
    n = len(err)
    out: dict[str, Any] = dict(frames=int(n))
    if n == 0:
        out.update(detection=None, pck=None, pck_swap_tolerant=None, ne_mean=None, ne_median=None,
                   ne_flip_mean=None, swap_rate=None)
        return out
    detected = _detected(err)
    chosen = _choose(err, err_swap)
    out['detection'] = float(detected.mean())
    out['pck'] = float(np.mean(np.where(np.isfinite(err), err <= threshold, False)))
    out['pck_swap_tolerant'] = float(np.mean(np.where(np.isfinite(chosen), chosen <= threshold, False)))
    if detected.any():
        ne = err[detected].mean(axis=1)
        ne_swap = err_swap[detected].mean(axis=1)
        out['ne_mean'] = float(ne.mean())
        out['ne_median'] = float(np.median(ne))
        out['ne_flip_mean'] = float(np.minimum(ne, ne_swap).mean())
        out['swap_rate'] = float(np.mean(ne_swap < SWAP_MARGIN * ne))
    else:
        out.update(ne_mean=None, ne_median=None, ne_flip_mean=None, swap_rate=None)
    return out


def read_pose_file(path: str) -> PoseTrack:
    """Read and validate any file in the ``pose/`` format (a teacher's, a student's decoded joints, ...)."""
    if not osp.isfile(path):
        raise CorpusFormatError(path, 'file', 'does not exist')
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ('frames', 'keypoints', 'scores', 'boxes') if k not in data.files]
            if missing:
                raise CorpusFormatError(path, missing[0], 'missing')
            raw = {k: data[k] for k in ('frames', 'keypoints', 'scores', 'boxes')}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        if isinstance(error, CorpusFormatError):
            raise
        raise CorpusFormatError(path, 'file', f'not a readable npz file ({error})') from None
    return Corpus.validate_pose(path, PoseTrack(**raw))


def _aligned(pred: PoseTrack, num: int) -> np.ndarray:
    """(num, 17, 2) predictions on frames 0 .. num-1; frames without a prediction are NaN."""
    out = np.full((num, 17, 2), np.nan)
    keep = (pred.frames >= 0) & (pred.frames < num)
    out[pred.frames[keep]] = pred.keypoints[keep]
    return out


def evaluate_corpus(corpus: Corpus, pose_dir: str = 'pose', splits: Sequence[str] | None = None,
                    threshold: float = PCK_THRESHOLD, fast_speed: float = FAST_SPEED,
                    blur_extent: float = BLUR_EXTENT, actions_only: bool = False) -> dict[str, Any]:
    """Score the poses in ``<corpus>/<pose_dir>/`` against ``gt_pose/``.

    Args:
        corpus (Corpus): a rendered corpus (``gt_pose/``, ``annotations/actions.json``).
        pose_dir (str): folder of the predictions (``pose`` = the teacher).
        splits (Sequence[str], optional): only videos of these splits (by their action's split).
        threshold (float): PCK threshold.
        fast_speed (float): frame speed threshold (see :data:`FAST_SPEED`).
        blur_extent (float): blur threshold (see :data:`BLUR_EXTENT`).
        actions_only (bool): only the labelled action frames.

    Returns:
        dict: ``definitions``, ``subsets`` (``all``, ``sharp``, ``blurred``, ``slow``, ``fast`` and the four
        combinations, each a :func:`summarize` dict), ``by_class`` (the labelled frames of each class),
        ``by_joint_speed`` (joint-level PCK per :data:`SPEED_BINS` bin, sharp and blurred), ``videos``.

    Raises:
        CorpusFormatError: a prediction or ground-truth file is missing or malformed (named).
    """
    actions = corpus.read_actions()
    split_of = {a.video_id: a.split for a in actions}
    ids = corpus.list_ids('gt_pose', '.npz')
    if splits is not None:
        unknown = sorted(set(splits) - {'train', 'val', 'test'})
        if unknown:
            raise ValueError(f'unknown splits {unknown}')
        ids = [v for v in ids if split_of.get(v) in set(splits)]
    if not ids:
        raise CorpusFormatError(corpus.path('gt_pose'), 'file', 'no ground-truth files to evaluate '
                                f'(splits {list(splits) if splits else "all"})')
    errs, swaps, frame_speed, blur, labels, joint_speed = [], [], [], [], [], []
    for video_id in ids:
        gt: GroundTruth = read_gt_pose(corpus, video_id)
        pred = read_pose_file(corpus.path(pose_dir, video_id + '.npz'))
        num = len(gt)
        err, err_swap = normalized_errors(_aligned(pred, num), gt.keypoints, gt.torso)
        label = np.full(num, '', dtype=object)
        for a in actions:
            if a.video_id == video_id:
                label[a.start:min(a.end, num)] = a.label
        keep = label != '' if actions_only else np.ones(num, bool)
        errs.append(err[keep])
        swaps.append(err_swap[keep])
        frame_speed.append(gt.speed[keep][:, BODY_JOINTS].mean(axis=1))
        joint_speed.append(gt.speed[keep][:, BODY_JOINTS])
        blur.append(gt.blur[keep])
        labels.append(label[keep])
    err, err_swap = np.concatenate(errs), np.concatenate(swaps)
    speed, blur_all, label_all = np.concatenate(frame_speed), np.concatenate(blur), np.concatenate(labels)
    jspeed = np.concatenate(joint_speed)
    fast = speed >= fast_speed
    blurred = blur_all >= blur_extent
    masks = {'all': np.ones(len(err), bool), 'sharp': ~blurred, 'blurred': blurred, 'slow': ~fast, 'fast': fast,
             'slow_sharp': ~fast & ~blurred, 'slow_blurred': ~fast & blurred, 'fast_sharp': fast & ~blurred,
             'fast_blurred': fast & blurred}
    subsets = {name: summarize(err[m], err_swap[m], threshold) for name, m in masks.items()}
    by_class = {c: summarize(err[label_all == c], err_swap[label_all == c], threshold)
                for c in corpus.read_meta().classes}
    by_joint_speed = []
    correct = np.where(np.isfinite(err), err <= threshold, False)
    for lo, hi in zip(SPEED_BINS[:-1], SPEED_BINS[1:]):
        row: dict[str, Any] = dict(low=lo, high=None if np.isinf(hi) else hi)
        in_bin = (jspeed >= lo) & (jspeed < hi)
        for name, frames in (('all', masks['all']), ('sharp', ~blurred), ('blurred', blurred)):
            cell = in_bin & frames[:, None]
            row[name] = dict(joints=int(cell.sum()), pck=float(correct[cell].mean()) if cell.any() else None)
        by_joint_speed.append(row)
    return dict(
        definitions=dict(pck_threshold=threshold, fast_speed=fast_speed, blur_extent=blur_extent,
                         units='torso lengths (per frame for speeds)', joints='COCO-17 5..16',
                         misses='count as failures in pck; excluded from ne_*', swap_margin=SWAP_MARGIN,
                         pose_dir=pose_dir, splits=list(splits) if splits else 'all', actions_only=actions_only),
        videos=len(ids), subsets=subsets, by_class=by_class, by_joint_speed=by_joint_speed)


def _fmt(value: Any, digits: int = 3) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table of :func:`evaluate_corpus`'s report."""
    d = report['definitions']
    lines = [f'PCK@{d["pck_threshold"]} of {d["pose_dir"]}/ against gt_pose/ ({report["videos"]} videos, splits '
             f'{d["splits"]}; fast: mean body-joint speed >= {d["fast_speed"]} torso/frame; blurred: streak >= '
             f'{d["blur_extent"]} torso; misses count as failures)',
             f'{"subset":<14}{"frames":>8}{"detect":>8}{"PCK":>8}{"PCK-swap":>10}{"NE mean":>9}{"NE med":>8}'
             f'{"NE flip":>9}{"swaps":>7}']

    def row(name: str, s: dict[str, Any]) -> str:
        return (f'{name:<14}{s["frames"]:>8}{_fmt(s["detection"], 2):>8}{_fmt(s["pck"]):>8}'
                f'{_fmt(s["pck_swap_tolerant"]):>10}{_fmt(s["ne_mean"]):>9}{_fmt(s["ne_median"]):>8}'
                f'{_fmt(s["ne_flip_mean"]):>9}{_fmt(s["swap_rate"], 2):>7}')

    for name, s in report['subsets'].items():
        lines.append(row(name, s))
    lines.append('labelled action frames by class:')
    for name, s in report['by_class'].items():
        lines.append(row(name, s))
    lines.append('joint-level PCK by joint speed (torso/frame): all / sharp frames / blurred frames [joints]')
    for r in report['by_joint_speed']:
        hi = '+' if r['high'] is None else f'{r["high"]:.2f}'
        cells = '  '.join(f'{_fmt(r[k]["pck"])} [{r[k]["joints"]}]' for k in ('all', 'sharp', 'blurred'))
        lines.append(f'  [{r["low"]:.2f}, {hi}): {cells}')
    return '\n'.join(lines)


def write_report(report: dict[str, Any], path: str) -> None:
    """Write the report as JSON (atomically)."""
    from ..corpus.corpus import atomic_write_bytes
    data = json.dumps(report, indent=1).encode()
    atomic_write_bytes(path, lambda f: f.write(data))
