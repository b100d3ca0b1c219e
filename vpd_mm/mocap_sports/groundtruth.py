"""Ground-truth 2D joints of a rendered corpus: ``gt_pose/<video_id>.npz``.

The file has the four fields of ``pose/<video_id>.npz`` (so any code that reads a teacher's poses reads the
ground truth the same way), plus what evaluation needs:

| field | shape | meaning |
| --- | --- | --- |
| ``frames`` | (T,) int32 | 0 .. T-1 |
| ``keypoints`` | (T, 17, 2) float32 | COCO-17 joints in pixels at the middle of the exposure |
| ``scores`` | (T, 17) float32 | 1 (ground truth) |
| ``boxes`` | (T, 4) float32 | the track box ``[x, y, w, h]`` (same as ``tracks/``) |
| ``joints3d`` | (T, 17, 3) float32 | the same joints in world metres (Y up) |
| ``depth`` | (T, 17) float32 | distance of each joint along the viewing axis, metres |
| ``torso`` | (T,) float32 | torso length, pixels: ``focal * |mid-shoulder - mid-hip|_3D / depth(mid-torso)`` |
| ``speed`` | (T, 17) float32 | image speed of each joint, torso lengths per frame (central difference) |
| ``blur`` | (T,) float32 | longest body-joint streak during the exposure (speed x shutter x fps), torso lengths |
| ``subframes`` | (T,) int32 | renders averaged into the frame (1 = sharp) |
| ``camera`` | (T, 3, 4) float32 | world -> homogeneous pixel matrix of the frame |

Speeds are image speeds (the panning camera's motion included). ``pose/`` is NOT ground truth: it is written by a
pose estimator run on the pixels (the teacher).
"""
from __future__ import annotations

import os.path as osp
import zipfile
from dataclasses import dataclass

import numpy as np

from ..corpus.corpus import Corpus, CorpusFormatError, PoseTrack, atomic_write_bytes

__all__ = ['GT_FOLDER', 'GroundTruth', 'gt_pose_path', 'write_gt_pose', 'read_gt_pose']

GT_FOLDER = 'gt_pose'
_EXTRA = {'joints3d': (17, 3), 'depth': (17,), 'torso': (), 'speed': (17,), 'blur': (), 'subframes': (),
          'camera': (3, 4)}


@dataclass
class GroundTruth:
    """Ground truth of one video (see the module docstring for every field's meaning).

    Args:
        keypoints (np.ndarray): (T, 17, 2) pixels.
        boxes (np.ndarray): (T, 4) track boxes.
        joints3d (np.ndarray): (T, 17, 3) metres.
        depth (np.ndarray): (T, 17) metres.
        torso (np.ndarray): (T,) pixels.
        speed (np.ndarray): (T, 17) torso lengths per frame.
        blur (np.ndarray): (T,) torso lengths.
        subframes (np.ndarray): (T,) int.
        camera (np.ndarray): (T, 3, 4).
    """

    keypoints: np.ndarray
    boxes: np.ndarray
    joints3d: np.ndarray
    depth: np.ndarray
    torso: np.ndarray
    speed: np.ndarray
    blur: np.ndarray
    subframes: np.ndarray
    camera: np.ndarray

    @staticmethod
    def empty(num: int) -> 'GroundTruth':
        """Arrays for ``num`` frames, to be filled by :meth:`set_frame`."""
        return GroundTruth(np.zeros((num, 17, 2), np.float32), np.zeros((num, 4), np.float32),
                           np.zeros((num, 17, 3), np.float32), np.zeros((num, 17), np.float32),
                           np.zeros(num, np.float32), np.zeros((num, 17), np.float32), np.zeros(num, np.float32),
                           np.ones(num, np.int32), np.zeros((num, 3, 4), np.float32))

    def set_frame(self, f: int, keypoints: np.ndarray, depth: np.ndarray, joints3d: np.ndarray, torso: float,
                  speed: np.ndarray, blur: float, subframes: int, camera: np.ndarray, box: np.ndarray) -> None:
        """Fill frame ``f``."""
        self.keypoints[f] = keypoints
        self.depth[f] = depth
        self.joints3d[f] = joints3d
        self.torso[f] = torso
        self.speed[f] = speed
        self.blur[f] = blur
        self.subframes[f] = subframes
        self.camera[f] = camera
        self.boxes[f] = box

    def __len__(self) -> int:
        return len(self.keypoints)

    def pose_track(self) -> PoseTrack:
        """The ground truth as a :class:`~vpd_mm.corpus.corpus.PoseTrack` (scores 1)."""
        num = len(self)
        return PoseTrack(np.arange(num, dtype=np.int32), self.keypoints.astype(np.float32),
                         np.ones((num, 17), np.float32), self.boxes.astype(np.float32))


def gt_pose_path(corpus: Corpus, video_id: str) -> str:
    """``<corpus>/gt_pose/<video_id>.npz``."""
    return corpus.path(GT_FOLDER, video_id + '.npz')


def write_gt_pose(corpus: Corpus, video_id: str, gt: GroundTruth) -> None:
    """Write ``gt_pose/<video_id>.npz`` atomically (pose fields validated like ``pose/`` files)."""
    path = gt_pose_path(corpus, video_id)
    pose = Corpus.validate_pose(path, gt.pose_track())
    if not np.isfinite(gt.keypoints).all() or not (gt.torso > 0).all():
        raise CorpusFormatError(path, 'keypoints/torso', 'ground truth must be finite with a positive torso')
    arrays = dict(frames=pose.frames, keypoints=pose.keypoints, scores=pose.scores, boxes=pose.boxes)
    for name in _EXTRA:
        arrays[name] = np.asarray(getattr(gt, name), np.int32 if name == 'subframes' else np.float32)
    atomic_write_bytes(path, lambda f: np.savez_compressed(f, **arrays))


def read_gt_pose(corpus: Corpus, video_id: str) -> GroundTruth:
    """Read and validate ``gt_pose/<video_id>.npz``.

    Raises:
        CorpusFormatError: the file is missing, unreadable, or a field has the wrong shape.
    """
    path = gt_pose_path(corpus, video_id)
    if not osp.isfile(path):
        raise CorpusFormatError(path, 'file', 'does not exist (generate the corpus with '
                                'tools/data/make_mocap_sports.py)')
    try:
        with np.load(path, allow_pickle=False) as data:
            raw = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise CorpusFormatError(path, 'file', f'not a readable npz file ({error})') from None
    for name in ('frames', 'keypoints', 'scores', 'boxes', *_EXTRA):
        if name not in raw:
            raise CorpusFormatError(path, name, 'missing')
    pose = Corpus.validate_pose(path, PoseTrack(raw['frames'], raw['keypoints'], raw['scores'], raw['boxes']))
    num = len(pose.frames)
    if not np.array_equal(pose.frames, np.arange(num)):
        raise CorpusFormatError(path, 'frames', 'ground truth must cover frames 0 .. T-1')
    for name, shape in _EXTRA.items():
        if raw[name].shape != (num, *shape):
            raise CorpusFormatError(path, name, f'expected shape {(num, *shape)}, got {raw[name].shape}')
    return GroundTruth(pose.keypoints, pose.boxes, **{name: raw[name] for name in _EXTRA})
