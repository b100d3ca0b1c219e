"""Athlete tracking against ground-truth boxes: the embedded benchmark's rendered videos as raw user videos.

For every video of a ``mocap_sports`` corpus (``make demo`` writes one to ``demo_out/corpus``; its ``tracks/``
hold the renderer's ground-truth boxes, around the figure's pixels and joints, padded 3 px), the tracking stage
(:func:`vpd_mm.stages.tracking.track_frames`: person detector, ByteTrack, the athlete rule) runs on the video
pixels alone, and its boxes are compared with the ground truth frame by frame. Printed:

- ``IoU >= 0.5``: the fraction of all frames whose athlete box overlaps the ground truth with IoU >= 0.5 (a frame
  without a box counts as a miss); the target is >= 95%;
- ``single track``: the fraction of all frames covered by the athlete's single ByteTrack identity (the most
  salient one, before joining other identities and before interpolation);
- mean IoU, frames with a box (after interpolation), frames where the detector found someone, identities per
  video, videos needing a join, per-class figures, and the speed.

Example:
    python benchmarks/tracking_accuracy.py demo_out/corpus                  # every video
    python benchmarks/tracking_accuracy.py demo_out/corpus --videos 24 --json tracking.json
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import sys
import time
from collections import defaultdict
from functools import partial
from typing import Any

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Measure athlete tracking (IoU >= 0.5, single-track fraction) '
                                     'on a mocap_sports corpus against its ground-truth boxes.')
    parser.add_argument('corpus', help='a mocap_sports corpus (videos/ and ground-truth tracks/)')
    parser.add_argument('--videos', type=int, help='only the first N videos (sorted ids; default all)')
    parser.add_argument('--detector', choices=('mediapipe', 'torchvision'), default='mediapipe')
    parser.add_argument('--detector-weights', help='torchvision detector state dict')
    parser.add_argument('--max-gap', type=float, default=1.0, help='seconds bridged and interpolated (default 1)')
    parser.add_argument('--workers', type=int, default=1, help='processes (default 1)')
    parser.add_argument('--json', help='also write the figures (and per-video rows) to this JSON file')
    return parser.parse_args(argv)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of paired ``[x, y, w, h]`` boxes, (N, 4) and (N, 4) -> (N,)."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    x1, y1 = np.maximum(a[:, 0], b[:, 0]), np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


_DETECTOR: dict[str, Any] = {}


def measure_video(root: str, detector: str, weights: str | None, max_gap: float, video_id: str) -> dict[str, Any]:
    """Track one video and compare with its ground truth; one row of figures."""
    from vpd_mm.corpus import Corpus
    from vpd_mm.stages.tracking import build_person_detector, read_video_frames, track_frames
    corpus = Corpus(root)
    if detector not in _DETECTOR:
        _DETECTOR[detector] = build_person_detector(detector, weights)
    gt = corpus.read_track(video_id)
    frames, fps, num = read_video_frames(corpus.video_path(video_id))
    begin = time.perf_counter()
    athlete, detections, _ = track_frames(frames, _DETECTOR[detector], fps, max_gap)
    seconds = time.perf_counter() - begin
    ours = {int(f): b for f, b in zip(athlete.frames, athlete.boxes)}
    have = np.array([int(f) in ours for f in gt.frames])
    iou = np.zeros(len(gt.frames))
    if have.any():
        iou[have] = box_iou(np.stack([ours[int(f)] for f in gt.frames[have]]), gt.boxes[have])
    return dict(video=video_id, frames=len(gt.frames), iou50=int((iou >= 0.5).sum()), iou_sum=float(iou.sum()),
                tracked=int(have.sum()), detected=sum(len(d) > 0 for d in detections), main=athlete.main_frames,
                identities=athlete.num_tracks, joined=len(athlete.pieces) - 1, interpolated=athlete.interpolated,
                seconds=seconds)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over rows of :func:`measure_video`."""
    frames = sum(r['frames'] for r in rows)
    return dict(videos=len(rows), frames=frames,
                iou50=sum(r['iou50'] for r in rows) / max(frames, 1),
                mean_iou=sum(r['iou_sum'] for r in rows) / max(frames, 1),
                single_track=sum(r['main'] for r in rows) / max(frames, 1),
                tracked=sum(r['tracked'] for r in rows) / max(frames, 1),
                detected=sum(r['detected'] for r in rows) / max(frames, 1),
                videos_one_identity=sum(r['identities'] == 1 for r in rows),
                videos_joined=sum(r['joined'] > 0 for r in rows),
                fps=frames / max(sum(r['seconds'] for r in rows), 1e-9))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from tqdm import tqdm

    from vpd_mm.corpus import Corpus
    from vpd_mm.stages.runner import worker_pool
    corpus = Corpus(args.corpus)
    meta = corpus.read_meta()
    ids = corpus.video_ids()[:args.videos] if args.videos else corpus.video_ids()
    labels = {a.video_id: a.label for a in corpus.read_actions()} if osp.isfile(
        corpus.path('annotations', 'actions.json')) else {}
    work = partial(measure_video, args.corpus, args.detector, args.detector_weights, args.max_gap)
    if args.workers > 1:
        with worker_pool(args.workers) as pool:
            rows = list(tqdm(pool.imap(work, ids), total=len(ids), desc='tracking'))
    else:
        rows = [work(v) for v in tqdm(ids, desc='tracking')]
    total = summarize(rows)
    by_class = defaultdict(list)
    for row in rows:
        by_class[labels.get(row['video'], '?')].append(row)
    print(f"{args.detector} + ByteTrack on {total['videos']} {meta.sport} videos ({total['frames']} frames, "
          f"{meta.extra.get('width')}x{meta.extra.get('height')}):")
    print(f"  IoU >= 0.5 on {100 * total['iou50']:.1f}% of frames (target >= 95%); mean IoU {total['mean_iou']:.3f}")
    print(f"  single track: {100 * total['single_track']:.1f}% of frames on the athlete's one ByteTrack identity; "
          f"{total['videos_one_identity']} of {total['videos']} videos have one identity, "
          f"{total['videos_joined']} needed a join")
    print(f"  frames with a box {100 * total['tracked']:.1f}%, with a detection {100 * total['detected']:.1f}%; "
          f"{total['fps']:.0f} frames/s (detector + tracker, one process)")
    print('  per class: ' + ', '.join(f'{name} {100 * summarize(r)["iou50"]:.0f}%'
                                      for name, r in sorted(by_class.items())))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(summary=total, per_class={k: summarize(v) for k, v in by_class.items()}, videos=rows),
                      f, indent=1)


if __name__ == '__main__':
    main()
