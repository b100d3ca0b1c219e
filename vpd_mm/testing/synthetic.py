"""A tiny synthetic corpus for tests and the quick demo: a moving stick figure drawn into short videos.

Every video holds one athlete (a COCO-17 stick figure) who drifts across a textured background and performs two
actions, each from one of three motion-defined classes:

- ``jump``: the whole body rises and falls, knees bend at take-off and landing;
- ``wave``: the right arm rises above the head and the wrist swings left and right;
- ``spin``: a full turn about the vertical axis (the figure's width shrinks, left and right swap, and back).

The corpus has ``videos/``, ``tracks/``, ``pose/`` (the ground-truth joints with a little noise, confidences, and
a few deliberately low-confidence frames), ``annotations/actions.json`` with train/val/test splits, and
``meta.json``. Deterministic from the seed; 9 videos of 2 s at 25 fps generate in about a second.
"""
from __future__ import annotations

import os
import os.path as osp
from dataclasses import dataclass

import cv2
import numpy as np

from ..corpus.atomic import remove_stale_temps, temp_prefix
from ..corpus.corpus import Action, Corpus, CorpusMeta, PoseTrack, Track
from ..pose import COCO17_BONES

__all__ = ['TINY_CLASSES', 'TinyCorpusSpec', 'make_tiny_corpus', 'figure_pose', 'add_crops_and_flow']

TINY_CLASSES = ('jump', 'wave', 'spin')

# Rest pose facing the camera, hip midpoint at the origin, y down, for a 60-pixel tall figure.
# The person's left side is on the image's right.
_REST = np.array([
    [0, -50], [2, -52], [-2, -52], [4, -51], [-4, -51],  # nose, eyes, ears
    [8, -40], [-8, -40], [12, -28], [-12, -28], [14, -16], [-14, -16],  # shoulders, elbows, wrists
    [5, 0], [-5, 0], [6, 16], [-6, 16], [6, 32], [-6, 32],  # hips, knees, ankles
], dtype=np.float64)


@dataclass
class TinyCorpusSpec:
    """Size of the tiny corpus.

    Args:
        num_videos (int): videos; videos ``0 .. n-5`` are train, the next two val, the last two test.
        num_frames (int): frames per video.
        width (int): frame width in pixels.
        height (int): frame height in pixels.
        fps (float): frame rate.
        action_len (int): frames per action.
        low_score_every (int): every this many frames the pose confidence drops below 0.5.
    """

    num_videos: int = 9
    num_frames: int = 50
    width: int = 160
    height: int = 120
    fps: float = 25.0
    action_len: int = 16
    low_score_every: int = 7


def figure_pose(label: str | None, phase: float, scale: float = 1.0) -> np.ndarray:
    """Joints of the stick figure relative to its hip midpoint.

    Args:
        label (str | None): action class, or None for the idle pose.
        phase (float): progress through the action in [0, 1].
        scale (float): size factor (1 = 60 pixels tall).

    Returns:
        np.ndarray: (17, 2) float64 offsets in pixels, COCO-17 order.
    """
    pose = _REST.copy()
    if label == 'jump':
        lift = 20.0 * np.sin(np.pi * phase)
        crouch = 6.0 * np.sin(2 * np.pi * phase) ** 2
        pose[:, 1] -= lift
        pose[13:15, 0] *= 1 + crouch / 12  # knees out while crouching (up to 1.5x)
        pose[:13, 1] += crouch
    elif label == 'wave':
        swing = np.sin(4 * np.pi * phase)
        raise_amount = np.sin(np.pi * phase)
        pose[8] = [-14, -40 - 12 * raise_amount]  # right elbow
        pose[10] = [-14 + 8 * swing, -40 - 26 * raise_amount]  # right wrist
    elif label == 'spin':
        pose[:, 0] *= np.cos(2 * np.pi * phase)
    elif label is not None:
        raise ValueError(f'unknown class {label!r}; expected one of {TINY_CLASSES}')
    return pose * scale


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    base = rng.integers(60, 200, size=3)
    noise = rng.normal(0, 12, size=(height // 8 + 1, width // 8 + 1, 3))
    tex = cv2.resize(noise, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(base + tex, 0, 255).astype(np.uint8)


def _draw(frame: np.ndarray, joints: np.ndarray, color: tuple[int, int, int]) -> None:
    pts = np.round(joints).astype(int)
    for a, b in COCO17_BONES:
        cv2.line(frame, tuple(pts[a]), tuple(pts[b]), color, 3, cv2.LINE_AA)
    cv2.circle(frame, tuple(pts[0]), 5, color, -1, cv2.LINE_AA)


def make_tiny_corpus(root: str, seed: int = 0, spec: TinyCorpusSpec | None = None) -> Corpus:
    """Write the tiny synthetic corpus into ``root`` (created if needed) and return it.

    Args:
        root (str): output folder.
        seed (int): everything (placement, colours, timing, noise) follows from it.
        spec (TinyCorpusSpec, optional): sizes; the defaults give 9 videos x 50 frames and 18 actions.

    Returns:
        Corpus: the corpus at ``root``.
    """
    spec = spec or TinyCorpusSpec()
    if spec.num_videos < 5:
        raise ValueError(f'the tiny corpus needs at least 5 videos (train/val/test), got {spec.num_videos}')
    if 2 * spec.action_len + 4 > spec.num_frames:
        raise ValueError(f'{spec.num_frames} frames cannot hold two actions of {spec.action_len} frames')
    rng = np.random.default_rng(seed)
    corpus = Corpus(root)
    corpus.write_meta(CorpusMeta(sport='synthetic', classes=list(TINY_CLASSES), fps=spec.fps, max_fps=spec.fps,
                                 extra=dict(width=spec.width, height=spec.height, seed=seed,
                                            video_frames={f'tiny_{v:03d}': spec.num_frames
                                                          for v in range(spec.num_videos)})))
    os.makedirs(corpus.path('videos'), exist_ok=True)
    remove_stale_temps(corpus.path('videos'))
    actions = []
    for v in range(spec.num_videos):
        video_id = f'tiny_{v:03d}'
        split = 'train' if v < spec.num_videos - 4 else ('val' if v < spec.num_videos - 2 else 'test')
        labels = [TINY_CLASSES[(v + i) % len(TINY_CLASSES)] for i in range(2)]
        gap = spec.num_frames - 2 * spec.action_len
        first = int(rng.integers(1, gap // 2 + 1))
        second = first + spec.action_len + int(rng.integers(1, gap - first + 1))
        second = min(second, spec.num_frames - spec.action_len)
        segments = [(first, labels[0]), (second, labels[1])]
        for i, (start, label) in enumerate(segments):
            actions.append(Action(id=f'{video_id}_{i}', video_id=video_id, start=start,
                                  end=start + spec.action_len, label=label, split=split))
        _write_video(corpus, video_id, segments, spec, rng)
    corpus.write_actions(actions)
    return corpus


def _write_video(corpus: Corpus, video_id: str, segments: list[tuple[int, str]], spec: TinyCorpusSpec,
                 rng: np.random.Generator) -> None:
    background = _background(rng, spec.width, spec.height)
    color = tuple(int(c) for c in rng.integers(0, 80, size=3))
    scale = float(rng.uniform(0.8, 1.0))
    x0, x1 = rng.uniform(0.3, 0.7, size=2) * spec.width
    y_hip = spec.height * 0.62
    joints = np.zeros((spec.num_frames, 17, 2))
    for t in range(spec.num_frames):
        label, phase = None, 0.0
        for start, name in segments:
            if start <= t < start + spec.action_len:
                label, phase = name, (t - start) / (spec.action_len - 1)
        centre = np.array([x0 + (x1 - x0) * t / (spec.num_frames - 1), y_hip])
        joints[t] = centre + figure_pose(label, phase, scale)

    path = corpus.path('videos', video_id + '.mp4')
    tmp = osp.join(osp.dirname(path), temp_prefix(path) + 'video.mp4')
    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'mp4v'), spec.fps, (spec.width, spec.height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {tmp} (mp4v)')
    for t in range(spec.num_frames):
        frame = background.copy()
        _draw(frame, joints[t], color)
        writer.write(frame)
    writer.release()
    os.replace(tmp, path)

    frames = np.arange(spec.num_frames, dtype=np.int32)
    lo, hi = joints.min(axis=1), joints.max(axis=1)
    pad = 6.0
    boxes = np.concatenate([lo - pad, hi - lo + 2 * pad], axis=1)
    corpus.write_track(video_id, Track(frames, boxes.astype(np.float32)))

    noisy = joints + rng.normal(0, 0.5, size=joints.shape)
    scores = np.clip(rng.normal(0.9, 0.03, size=(spec.num_frames, 17)), 0, 1)
    scores[::spec.low_score_every] = 0.3  # the teacher is unsure on these frames
    corpus.write_pose(video_id, PoseTrack(frames, noisy.astype(np.float32), scores.astype(np.float32),
                                          boxes.astype(np.float32)))


def add_crops_and_flow(corpus: Corpus, method: str = 'farneback') -> None:
    """Extract the athlete crops and their optical flow of every video of ``corpus`` (skips complete videos).

    Args:
        corpus (Corpus): e.g. the corpus of :func:`make_tiny_corpus`.
        method (str): OpenCV flow method, ``'farneback'`` (the default) or ``'dis'``.

    Raises:
        RuntimeError: some video failed (the message names the files).
    """
    from ..stages.crops import extract_crops
    from ..stages.flow import extract_flow
    for counts in (extract_crops(corpus, progress=False), extract_flow(corpus, method=method, progress=False)):
        if counts['errors']:
            raise RuntimeError('; '.join(counts['failed']))
