"""MediaPipe Pose (BlazePose full) as an off-the-shelf 2D pose teacher writing the corpus ``pose/`` files.

The teacher is a real pose estimator trained by others on real people, run on the corpus pixels: the legacy
``mediapipe.solutions.pose.Pose`` of ``mediapipe==0.10.21`` with ``model_complexity=1`` (its weights ship in the
wheel, so it runs offline on the CPU). Its 33 BlazePose landmarks are mapped to COCO-17
(:data:`BLAZEPOSE_TO_COCO17`), normalised coordinates to pixels, and its per-landmark ``visibility`` becomes the
score. A frame where it finds nobody gets NaN keypoints and score 0 (the frame stays in the file, so a miss is
visible to evaluation).

Modes:
- ``tracking`` (default, ``static_image_mode=False``): the detector runs on the first frame and whenever the
  person is lost; otherwise the landmark model runs on a region derived from the previous frame's landmarks, the
  way a top-down estimator runs on a tracked box. Landmark smoothing is **off** (``smooth_landmarks=False``): the
  teacher stays a per-frame estimator, with no temporal filter. A fresh graph per video.
- ``static`` (``static_image_mode=True``): the detector runs on every frame.

The pose box written to ``pose/`` is the whole frame ``[0, 0, W, H]`` (MediaPipe finds the person itself).

``mediapipe`` is imported inside :class:`MediaPipePose`, so importing this module never imports it.
"""
from __future__ import annotations

import os
import os.path as osp
from functools import partial
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..corpus import Corpus, CorpusFormatError, PoseTrack
from ..pose import COCO17_FLIP_INDEX, unmirror_keypoints
from ..utils.native_output import quiet_native_output
from .runner import for_each_video

__all__ = ['BLAZEPOSE_TO_COCO17', 'blazepose_to_coco17', 'MediaPipePose', 'estimate_frames', 'run_mediapipe',
           'MEDIAPIPE_VERSION']

MEDIAPIPE_VERSION = '0.10.21'
"""The mediapipe release this wrapper was written and measured with."""

BLAZEPOSE_TO_COCO17: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
"""BlazePose-33 landmark index of each COCO-17 joint: nose, left/right eye (the eye centres, not the inner or
outer corners), left/right ear, then shoulders, elbows, wrists, hips, knees, ankles (left before right)."""


def blazepose_to_coco17(landmarks: np.ndarray, visibility: np.ndarray, width: int,
                        height: int) -> tuple[np.ndarray, np.ndarray]:
    """Map BlazePose landmarks to COCO-17 pixels.

    Args:
        landmarks (np.ndarray): (33, 2) normalised ``(x, y)`` (``x * width``, ``y * height`` are pixels).
        visibility (np.ndarray): (33,) visibilities.
        width (int): image width.
        height (int): image height.

    Returns:
        tuple[np.ndarray, np.ndarray]: keypoints (17, 2) float32 pixels and scores (17,) float32 in [0, 1].
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    visibility = np.asarray(visibility, dtype=np.float64)
    if landmarks.shape != (33, 2) or visibility.shape != (33,):
        raise ValueError(f'expected (33, 2) landmarks and (33,) visibilities, got {landmarks.shape} and '
                         f'{visibility.shape}')
    index = list(BLAZEPOSE_TO_COCO17)
    keypoints = landmarks[index] * np.array([width, height], dtype=np.float64)
    scores = np.clip(np.nan_to_num(visibility[index], nan=0.0), 0.0, 1.0)
    return keypoints.astype(np.float32), scores.astype(np.float32)


class MediaPipePose:
    """MediaPipe Pose on single RGB frames, returning COCO-17 keypoints.

    Args:
        static (bool): ``static_image_mode`` (detector on every frame) instead of tracking.
        model_complexity (int): 1 (BlazePose full; the only model in the wheel that needs no download).
        min_detection_confidence (float): MediaPipe's person-detection threshold.
        min_tracking_confidence (float): MediaPipe's threshold to keep tracking rather than re-detect.

    Raises:
        ImportError: mediapipe is not installed (the message says how to install it).
    """

    def __init__(self, static: bool = False, model_complexity: int = 1, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5) -> None:
        os.environ.setdefault('GLOG_minloglevel', '2')
        os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
        try:
            with quiet_native_output():
                import mediapipe
        except ImportError as error:
            raise ImportError(f'the MediaPipe teacher needs mediapipe=={MEDIAPIPE_VERSION} '
                              f'(pip install --no-deps mediapipe=={MEDIAPIPE_VERSION} plus protobuf<5, absl-py, '
                              f'attrs, flatbuffers, matplotlib): {error}') from None
        self._solution = mediapipe.solutions.pose
        self.kwargs = dict(static_image_mode=bool(static), model_complexity=int(model_complexity),
                           smooth_landmarks=False, enable_segmentation=False,
                           min_detection_confidence=float(min_detection_confidence),
                           min_tracking_confidence=float(min_tracking_confidence))
        self._pose: Any = None
        self.reset()

    def reset(self) -> None:
        """Start a new video (forget the tracked person)."""
        self.close()
        with quiet_native_output():
            self._pose = self._solution.Pose(**self.kwargs)

    def close(self) -> None:
        """Release the MediaPipe graph."""
        if self._pose is not None:
            self._pose.close()
            self._pose = None

    def __enter__(self) -> 'MediaPipePose':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __call__(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Estimate the pose in one frame.

        Args:
            rgb (np.ndarray): (H, W, 3) uint8 RGB.

        Returns:
            tuple[np.ndarray, np.ndarray]: keypoints (17, 2) float32 pixels and scores (17,) float32; NaN
            keypoints and zero scores when nobody is found.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f'expected an (H, W, 3) uint8 RGB frame, got {rgb.shape} {rgb.dtype}')
        height, width = rgb.shape[:2]
        with quiet_native_output():
            result = self._pose.process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None:
            return np.full((17, 2), np.nan, np.float32), np.zeros(17, np.float32)
        marks = result.pose_landmarks.landmark
        xy = np.array([[m.x, m.y] for m in marks])
        vis = np.array([m.visibility for m in marks])
        return blazepose_to_coco17(xy, vis, width, height)


def estimate_frames(frames: Iterable[np.ndarray], estimator: MediaPipePose) -> PoseTrack:
    """Run the estimator over a video's frames (resets it first).

    Args:
        frames (Iterable[np.ndarray]): (H, W, 3) uint8 RGB frames, in order.
        estimator (MediaPipePose): the teacher.

    Returns:
        PoseTrack: every frame (misses as NaN keypoints with score 0); boxes are the whole frame.
    """
    keypoints, scores, boxes = [], [], []
    with quiet_native_output():  # MediaPipe's graph threads log start-up lines asynchronously
        estimator.reset()
        for rgb in frames:
            kp, sc = estimator(rgb)
            keypoints.append(kp)
            scores.append(sc)
            boxes.append([0.0, 0.0, float(rgb.shape[1]), float(rgb.shape[0])])
    num = len(keypoints)
    return PoseTrack(np.arange(num, dtype=np.int32), np.asarray(keypoints, np.float32).reshape(num, 17, 2),
                     np.asarray(scores, np.float32).reshape(num, 17), np.asarray(boxes, np.float32).reshape(num, 4))


def _read_video(path: str) -> Iterable[np.ndarray]:
    import decord
    try:
        reader = decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
    except Exception as error:  # decord raises its own DECORDError
        raise CorpusFormatError(path, 'file', f'cannot decode the video ({error})') from None
    for index in range(len(reader)):
        yield reader[index].asnumpy()


_WORKER: dict[str, Any] = {}  # one MediaPipe graph per process and stream, built on first use


def _estimator(key: str, static: bool) -> MediaPipePose:
    if key not in _WORKER:
        _WORKER[key] = MediaPipePose(static=static)
    return _WORKER[key]


def _video_pose_file(corpus: Corpus, static: bool, mirror: bool, video_id: str) -> dict[str, int]:
    """Estimate and write one video's ``pose/<video_id>.npz`` (and ``pose_mirror/``); runs in a worker process
    or inline."""
    mode = 'static' if static else 'tracking'
    path = corpus.video_path(video_id)
    try:
        track = estimate_frames(_read_video(path), _estimator(mode, static))
        if mirror:  # its own graph: a tracking graph carries state from frame to frame
            flipped = estimate_frames((f[:, ::-1] for f in _read_video(path)), _estimator(mode + '_mirror', static))
    except CorpusFormatError:
        raise
    except Exception as error:
        raise RuntimeError(f'{path}: MediaPipe failed ({error!r})') from error
    if len(track.frames) == 0:
        raise CorpusFormatError(path, 'file', 'the video has no frames')
    if mirror:  # before pose/: a complete pose/ file then implies a complete pose_mirror/ file
        width = float(track.boxes[0, 2])
        corpus.write_pose(video_id, PoseTrack(flipped.frames, unmirror_keypoints(flipped.keypoints, width),
                                              flipped.scores[:, COCO17_FLIP_INDEX], flipped.boxes),
                          folder='pose_mirror')
    corpus.write_pose(video_id, track)
    return dict(frames=len(track.frames), detected=int(np.isfinite(track.keypoints).all(axis=(1, 2)).sum()))


def run_mediapipe(corpus: Corpus, static: bool = False, workers: int = 1, overwrite: bool = False,
                  progress: bool = True, video_ids: Sequence[str] | None = None,
                  log: Callable[[str], None] | None = None, on_error: str = 'raise',
                  mirror: bool = False) -> dict[str, Any]:
    """Write ``pose/<video>.npz`` for every video of the corpus with MediaPipe Pose (on the stage runner).

    Videos whose pose file exists are skipped (atomic writes: an existing file is complete) unless
    ``overwrite``.

    Args:
        corpus (Corpus): the corpus (``videos/`` and ``tracks/``).
        static (bool): detector on every frame instead of tracking.
        workers (int): processes (each holds one MediaPipe graph).
        overwrite (bool): recompute existing pose files.
        progress (bool): show a tqdm bar.
        video_ids (Sequence[str], optional): only these videos (default: every video with a track).
        log (callable, optional): receives one summary line.
        on_error (str): ``'raise'`` (default: the benchmark's videos are ours, a failure is a bug) or ``'count'``.
        mirror (bool): also run on the horizontally mirrored video and write its poses, mapped back to the
            original image, to ``pose_mirror/`` (for :func:`~vpd_mm.pose.confidence.mirror_agreement` scores).

    Returns:
        dict: the runner's summary (``videos``, ``written``, ``skipped``, ``errors``, ``failed``, ``seconds``),
        ``frames``, ``detected`` (frames with a person) and ``fps`` (frames per wall second, all workers).

    Raises:
        CorpusFormatError: no videos, or a video is missing or cannot be decoded (the message names it).
    """
    ids = corpus.video_ids() if video_ids is None else list(video_ids)
    if not ids:
        raise CorpusFormatError(corpus.path('tracks'), 'file', 'no videos with a track in this corpus')
    for video_id in ids:
        corpus.video_path(video_id)  # raises naming the missing video
    folders = ('pose', 'pose_mirror') if mirror else ('pose',)
    result = for_each_video(ids, partial(_video_pose_file, corpus, static, mirror),
                            done=lambda v: all(osp.exists(corpus.path(f, v + '.npz')) for f in folders),
                            overwrite=overwrite,
                            workers=workers, on_error=on_error, progress=progress,
                            desc=f'pose (MediaPipe, {"static" if static else "tracking"})', log=log,
                            counters=('frames', 'detected'), outputs=[corpus.path(f) for f in folders])
    result['fps'] = result['frames'] / max(result['seconds'], 1e-9)
    return result
