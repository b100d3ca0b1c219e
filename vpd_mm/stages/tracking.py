"""Athlete detection and tracking: person boxes per frame, ByteTrack association, one athlete track per video.

The stage writes ``tracks/<video_id>.json`` (the athlete's box per tracked frame, ``[frame, x, y, w, h]``) for
videos that have a source video in ``videos/`` and no track yet, so a corpus made by
``tools/data/prepare_videos.py`` from any folder of videos gets the tracks every later stage reads.

**Person detectors** (a callable ``rgb (H, W, 3) uint8 -> Detections``):

- ``'mediapipe'`` (default, offline: the weights ship in the ``mediapipe`` wheel): MediaPipe Pose, i.e. the
  BlazePose person detector followed by the landmark model that also predicts a person segmentation mask, in its
  tracking mode (the detector re-runs whenever the person is lost; detection and tracking thresholds 0.3). The
  BlazePose detector is trained on upright people and loses athletes upside down (flips, handstands): on a frame
  where the tracking graph finds nobody, a second graph (static mode) looks at the frame turned by 180 degrees.
  The box is the bounding box of the mask (``> 0.5``) united with the landmarks MediaPipe sees (visibility
  ``> 0.5``), padded by 5% of its size plus one pixel per side and clipped to the frame. MediaPipe Pose follows
  **one** person (the most prominent), so this detector gives at most one box per frame; its score is
  ``0.5 + 0.5 * mean landmark visibility``. (Thresholds, the turned frame and the padding were chosen on the
  first 24 videos of the embedded benchmark; ``benchmarks/tracking_accuracy.py`` reports the others too.)
- ``'torchvision'``: a torchvision detector (Faster R-CNN, RetinaNet, FCOS, SSDlite, Mask/Keypoint R-CNN) built
  from a state-dict file the user gives (``weights_only`` loading; nothing is downloaded); the architecture is
  recognised from the file's tensor names and shapes. Every COCO ``person`` box above ``score_thresh`` is a
  detection, so several people per frame are tracked and the athlete rule below matters.

**Association**: ``supervision``'s ByteTrack (``track_activation_threshold`` 0.25, ``lost_track_buffer`` 1 s,
``minimum_matching_threshold`` 0.9, the video's frame rate), which keeps identities through frames with low-score
detections and short misses.

**The athlete's track** (:func:`pick_athlete`):

1. every ByteTrack track gets a salience ``sum over its frames of score * (h / H) * c``, where ``h`` is the box
   height, ``H`` the frame height and ``c = max(0.1, 1 - 2 d / D)`` with ``d`` the distance from the box centre
   to the frame centre and ``D`` the frame diagonal: the athlete is the person the camera keeps large and
   centred for longest;
2. the most salient track is the athlete's;
3. tracks that do not overlap it in time and continue it (the first box of a later track, or the last box of an
   earlier one, after at most ``max_gap`` missing frames, with centres closer than ``1 + missing / max_gap``
   times the taller of the two boxes) are appended, most salient first: this undoes identity switches after a
   miss;
4. gaps of at most ``max_gap`` frames inside the result (default: one second of frames) are filled by linear
   interpolation of the boxes; longer gaps and frames before the first / after the last box stay untracked
   (the corpus format allows missing frames, and every later stage skips them);
5. an interpolated frame that has a detection overlapping the interpolated box (IoU >= 0.3) takes that
   detection (ByteTrack leaves out a detection in a new identity's first frame, and one its Kalman box moved
   away from).

``benchmarks/tracking_accuracy.py`` measures this on the embedded benchmark's rendered videos against their
ground-truth boxes.
"""
from __future__ import annotations

import logging
import math
import os
import os.path as osp
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from ..corpus import VIDEO_EXTENSIONS, Corpus, CorpusFormatError, Track
from ..utils.cli import InputError
from ..utils.native_output import quiet_native_output
from .runner import VideoReadError, for_each_video

__all__ = ['DetectorWeightsError', 'Detections', 'PersonDetector', 'MediaPipePersonDetector',
           'TorchvisionPersonDetector', 'TORCHVISION_DETECTORS', 'mask_landmark_box', 'build_person_detector', 'associate', 'TrackPiece', 'track_salience',
           'pick_athlete', 'fill_gaps', 'AthleteTrack', 'track_frames', 'read_video_frames', 'corpus_video_ids',
           'track_video_file', 'track_athletes', 'PERSON_DETECTORS', 'SUPERVISION_VERSION']

logger = logging.getLogger(__name__)

PERSON_DETECTORS = ('mediapipe', 'torchvision')
SUPERVISION_VERSION = '0.26.1'
"""The ``supervision`` release whose ByteTrack this stage was written and measured with."""


# ------------------------------------------------------------------------------------------------ detections
class DetectorWeightsError(InputError, ValueError):
    """A person-detector weights file is missing or is not a state dict of a known detector."""


@dataclass
class Detections:
    """Person boxes of one frame.

    Args:
        boxes (np.ndarray): (N, 4) float32 ``[x1, y1, x2, y2]`` pixels.
        scores (np.ndarray): (N,) float32 confidences in [0, 1].
    """

    boxes: np.ndarray
    scores: np.ndarray

    @staticmethod
    def empty() -> 'Detections':
        """No person."""
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))

    def __len__(self) -> int:
        return len(self.scores)


PersonDetector = Callable[[np.ndarray], Detections]
"""``rgb (H, W, 3) uint8 -> Detections``; a detector with state across frames also has ``reset()``."""


def _pad_box(x1: float, y1: float, x2: float, y2: float, width: int, height: int,
             pad: float) -> np.ndarray:
    """``[x1, y1, x2, y2]`` grown by ``pad`` of its size plus one pixel per side, clipped to the frame."""
    px, py = pad * (x2 - x1) + 1.0, pad * (y2 - y1) + 1.0
    return np.array([max(0.0, x1 - px), max(0.0, y1 - py), min(float(width), x2 + px),
                     min(float(height), y2 + py)], np.float32)


def mask_landmark_box(mask: np.ndarray | None, landmarks: np.ndarray, visibility: np.ndarray,
                      pad: float = 0.02, mask_threshold: float = 0.5,
                      min_visibility: float = 0.5) -> np.ndarray | None:
    """The person box from a segmentation mask and pose landmarks.

    Args:
        mask (np.ndarray | None): (H, W) float person probability, or None.
        landmarks (np.ndarray): (K, 2) pixel ``(x, y)``.
        visibility (np.ndarray): (K,) visibilities; landmarks below ``min_visibility`` are ignored.
        pad (float): growth per side as a fraction of the box size (plus one pixel).
        mask_threshold (float): mask pixels above it belong to the person.
        min_visibility (float): landmark visibility threshold.

    Returns:
        np.ndarray | None: (4,) float32 ``[x1, y1, x2, y2]``, or None when neither source has a pixel in frame.
    """
    if mask is None:
        raise ValueError('a mask is needed for the frame size')
    height, width = mask.shape[:2]
    xs, ys = [], []
    rows, cols = np.nonzero(mask > mask_threshold)
    if len(rows):
        xs += [cols.min(), cols.max() + 1]
        ys += [rows.min(), rows.max() + 1]
    seen = landmarks[(visibility > min_visibility) & np.isfinite(landmarks).all(axis=1)]
    inside = seen[(seen[:, 0] >= 0) & (seen[:, 0] < width) & (seen[:, 1] >= 0) & (seen[:, 1] < height)]
    if len(inside):
        xs += [inside[:, 0].min(), inside[:, 0].max()]
        ys += [inside[:, 1].min(), inside[:, 1].max()]
    if not xs:
        return None
    return _pad_box(float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)), width, height, pad)


class MediaPipePersonDetector:
    """The person MediaPipe Pose follows, as one box per frame (module docstring); offline, CPU.

    Args:
        min_detection_confidence (float): MediaPipe's person-detection threshold.
        min_tracking_confidence (float): below it MediaPipe re-runs its detector.
        pad (float): box growth per side (fraction of the size, plus one pixel).
        upside_down (bool): on a miss, also look at the frame turned by 180 degrees.

    Raises:
        ImportError: mediapipe is missing (the message says how to install it).
    """

    def __init__(self, min_detection_confidence: float = 0.3, min_tracking_confidence: float = 0.3,
                 pad: float = 0.05, upside_down: bool = True) -> None:
        from .pose_mediapipe import MediaPipePose
        self._graphs = []
        for static in ((False, True) if upside_down else (False,)):
            graph = MediaPipePose(static=static, min_detection_confidence=min_detection_confidence,
                                  min_tracking_confidence=min_tracking_confidence)
            graph.kwargs.update(enable_segmentation=True, smooth_segmentation=False)
            graph.reset()  # rebuilt with the segmentation output
            self._graphs.append(graph)
        self.pad = pad

    def reset(self) -> None:
        """Start a new video (the static graph of the turned frames keeps no state)."""
        self._graphs[0].reset()

    def close(self) -> None:
        """Release the MediaPipe graphs."""
        for graph in self._graphs:
            graph.close()

    def _box(self, graph: Any, rgb: np.ndarray) -> Detections:
        height, width = rgb.shape[:2]
        with quiet_native_output():
            result = graph._pose.process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None:
            return Detections.empty()
        marks = result.pose_landmarks.landmark
        xy = np.array([[m.x * width, m.y * height] for m in marks], np.float64)
        vis = np.clip(np.nan_to_num(np.array([m.visibility for m in marks], np.float64)), 0.0, 1.0)
        mask = result.segmentation_mask if result.segmentation_mask is not None else np.zeros((height, width))
        box = mask_landmark_box(np.asarray(mask), xy, vis, pad=self.pad)
        if box is None or box[2] - box[0] < 1 or box[3] - box[1] < 1:
            return Detections.empty()
        return Detections(box[None], np.array([0.5 + 0.5 * vis.mean()], np.float32))

    def __call__(self, rgb: np.ndarray) -> Detections:
        """Detect in one (H, W, 3) uint8 RGB frame."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f'expected an (H, W, 3) uint8 RGB frame, got {rgb.shape} {rgb.dtype}')
        found = self._box(self._graphs[0], rgb)
        if len(found) or len(self._graphs) < 2:
            return found
        turned = self._box(self._graphs[1], rgb[::-1, ::-1])
        if not len(turned):
            return turned
        height, width = rgb.shape[:2]
        x1, y1, x2, y2 = turned.boxes[0]
        return Detections(np.array([[width - x2, height - y2, width - x1, height - y1]], np.float32), turned.scores)


TORCHVISION_DETECTORS = ('fasterrcnn_resnet50_fpn', 'fasterrcnn_resnet50_fpn_v2', 'fasterrcnn_mobilenet_v3_large_fpn',
                         'fasterrcnn_mobilenet_v3_large_320_fpn', 'retinanet_resnet50_fpn', 'retinanet_resnet50_fpn_v2',
                         'fcos_resnet50_fpn', 'ssdlite320_mobilenet_v3_large', 'maskrcnn_resnet50_fpn',
                         'maskrcnn_resnet50_fpn_v2', 'keypointrcnn_resnet50_fpn')
"""torchvision detection builders recognised from a state dict (COCO person = label 1 in all of them)."""


def _torchvision_builder(name: str) -> Callable[..., Any]:
    import torchvision.models.detection as detection
    return getattr(detection, name)


def _build_torchvision(name: str, state: dict[str, Any] | None = None) -> Any:
    """Build ``name`` without downloading anything; with ``state`` return None unless its keys and shapes fit."""
    import torch
    kwargs: dict[str, Any] = dict(weights=None, weights_backbone=None)
    if name == 'keypointrcnn_resnet50_fpn':
        kwargs['num_classes'] = 2
    if state is not None:
        with torch.device('meta'):  # shapes only, no initialisation
            expected = _torchvision_builder(name)(**kwargs).state_dict()
        if set(expected) != set(state) or any(expected[k].shape != state[k].shape for k in expected):
            return None
    return _torchvision_builder(name)(**kwargs)


class TorchvisionPersonDetector:
    """COCO ``person`` boxes from a torchvision detector whose weights the user gives (module docstring).

    Args:
        weights (str): a torchvision detection state dict (a dict with a ``'state_dict'`` or ``'model'`` entry
            holding it also works), loaded with ``weights_only=True``.
        arch (str, optional): one of :data:`TORCHVISION_DETECTORS`; default: the first whose tensor names and
            shapes match the file (the ``_320`` MobileNet variant has the full one's tensors: name it).
        score_thresh (float): keep person boxes scoring at least this.
        device (str, optional): default ``'cuda'`` when available, else ``'cpu'``.

    Raises:
        DetectorWeightsError: no such file, or not a state dict of a known torchvision detector (the message
            names the file).
    """

    def __init__(self, weights: str, arch: str | None = None, score_thresh: float = 0.3,
                 device: str | None = None) -> None:
        import torch
        if not osp.isfile(weights):
            raise DetectorWeightsError(weights, 'detector weights file does not exist')
        try:
            state = torch.load(weights, map_location='cpu', weights_only=True)
        except Exception as error:  # unpickling errors have many types
            raise DetectorWeightsError(weights, f'cannot load detector weights with weights_only=True ({error})') \
                from None
        for key in ('state_dict', 'model'):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
        if not isinstance(state, dict) or not state:
            raise DetectorWeightsError(weights, 'expected a state dict of a torchvision detector')
        state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
        names = [arch] if arch else list(TORCHVISION_DETECTORS)
        for name in names:
            if name not in TORCHVISION_DETECTORS:
                raise ValueError(f'unknown torchvision detector {name!r}; expected one of {TORCHVISION_DETECTORS}')
            model = _build_torchvision(name, state)
            if model is not None:
                model.load_state_dict(state)
                self.arch = name
                break
        else:
            raise DetectorWeightsError(weights, f'not a state dict of {" or ".join(names)} ({len(state)} tensors, '
                                       f'e.g. {sorted(state)[:2]})')
        self.device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
        self.model = model.eval().to(self.device)
        self.score_thresh = float(score_thresh)

    def reset(self) -> None:
        """Nothing to forget between videos (the detector has no state)."""

    def __call__(self, rgb: np.ndarray) -> Detections:
        """Detect the people in one (H, W, 3) uint8 RGB frame."""
        import torch
        image = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float().div(255.0).to(self.device)
        with torch.inference_mode():
            out = self.model([image])[0]
        keep = (out['labels'] == 1) & (out['scores'] >= self.score_thresh)
        return Detections(out['boxes'][keep].float().cpu().numpy().reshape(-1, 4),
                          out['scores'][keep].float().cpu().numpy())


def build_person_detector(name: str = 'mediapipe', weights: str | None = None, **kwargs: Any) -> PersonDetector:
    """A person detector by name (:data:`PERSON_DETECTORS`).

    Args:
        name (str): ``'mediapipe'`` (offline default) or ``'torchvision'`` (needs ``weights``).
        weights (str, optional): the torchvision state-dict file.
        **kwargs: passed to the detector class.

    Raises:
        ValueError: unknown name, or ``'torchvision'`` without weights.
    """
    if name == 'mediapipe':
        return MediaPipePersonDetector(**kwargs)
    if name == 'torchvision':
        if not weights:
            raise ValueError("the torchvision person detector needs a weights file (--detector-weights PATH); "
                             "nothing is downloaded. Use 'mediapipe' offline.")
        return TorchvisionPersonDetector(weights, **kwargs)
    raise ValueError(f'unknown person detector {name!r}; expected one of {PERSON_DETECTORS}')


# ------------------------------------------------------------------------------------------------ association
@dataclass
class TrackPiece:
    """The boxes ByteTrack gave one identity.

    Args:
        track_id (int): ByteTrack's id.
        frames (np.ndarray): (T,) int32 increasing frames.
        boxes (np.ndarray): (T, 4) float32 ``[x1, y1, x2, y2]``.
        scores (np.ndarray): (T,) float32 detection scores.
    """

    track_id: int
    frames: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray


def associate(detections: Sequence[Detections], fps: float, activation: float = 0.25, lost_seconds: float = 1.0,
              matching: float = 0.9) -> list[TrackPiece]:
    """Link per-frame detections into identities with ``supervision``'s ByteTrack.

    Args:
        detections (Sequence[Detections]): one entry per frame, frame ``i`` at index ``i``.
        fps (float): the video's frame rate (ByteTrack scales its lost-track buffer with it).
        activation (float): ByteTrack's ``track_activation_threshold``.
        lost_seconds (float): how long a lost identity may come back.
        matching (float): ByteTrack's ``minimum_matching_threshold``.

    Returns:
        list[TrackPiece]: one per identity, ordered by id.
    """
    import supervision as sv
    rate = max(1, int(round(fps)))
    tracker = sv.ByteTrack(track_activation_threshold=activation,
                           lost_track_buffer=max(1, int(round(30 * lost_seconds))),  # ByteTrack scales it by rate / 30
                           minimum_matching_threshold=matching, frame_rate=rate, minimum_consecutive_frames=1)
    rows: dict[int, list[tuple[int, np.ndarray, float]]] = {}
    for frame, det in enumerate(detections):
        found = sv.Detections(xyxy=np.asarray(det.boxes, np.float32).reshape(-1, 4),
                              confidence=np.asarray(det.scores, np.float32).reshape(-1),
                              class_id=np.zeros(len(det), int))
        tracked = tracker.update_with_detections(found)
        for box, score, track_id in zip(tracked.xyxy, tracked.confidence, tracked.tracker_id):
            rows.setdefault(int(track_id), []).append((frame, np.asarray(box, np.float32), float(score)))
    pieces = []
    for track_id in sorted(rows):
        entries = sorted({f: (f, b, s) for f, b, s in rows[track_id]}.values(), key=lambda r: r[0])
        pieces.append(TrackPiece(track_id, np.array([e[0] for e in entries], np.int32),
                                 np.stack([e[1] for e in entries]).astype(np.float32),
                                 np.array([e[2] for e in entries], np.float32)))
    return pieces


# ------------------------------------------------------------------------------------------------ the athlete
def track_salience(piece: TrackPiece, width: int, height: int) -> float:
    """``sum over frames of score * (h / H) * max(0.1, 1 - 2 d / D)`` (module docstring, rule 1)."""
    boxes = piece.boxes.astype(np.float64)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    distance = np.hypot(centres[:, 0] - width / 2, centres[:, 1] - height / 2)
    centrality = np.maximum(0.1, 1.0 - 2.0 * distance / math.hypot(width, height))
    size = (boxes[:, 3] - boxes[:, 1]) / float(height)
    return float(np.sum(piece.scores * size * centrality))


def _continues(a: TrackPiece, b: TrackPiece, max_gap: int) -> bool:
    """Whether ``b`` starts where ``a`` ends (rule 3): at most ``max_gap`` missing frames between them, and
    centres closer than ``(1 + missing / max_gap)`` times the taller of the two boxes."""
    missing = int(b.frames[0]) - int(a.frames[-1]) - 1
    if missing < 0 or missing > max_gap:
        return False
    last, first = a.boxes[-1].astype(np.float64), b.boxes[0].astype(np.float64)
    shift = np.hypot(*((last[:2] + last[2:]) / 2 - (first[:2] + first[2:]) / 2))
    height = max(last[3] - last[1], first[3] - first[1], 1.0)
    return bool(shift < height * (1.0 + missing / max(max_gap, 1)))


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of one ``[x1, y1, x2, y2]`` box ``a`` (4,) with each of ``b`` (N, 4) -> (N,)."""
    b = np.asarray(b, np.float64).reshape(-1, 4)
    w = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    h = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - w * h
    return np.where(union > 0, w * h / np.maximum(union, 1e-9), 0.0)


@dataclass
class AthleteTrack:
    """The athlete's track of one video and how it was made.

    Args:
        frames (np.ndarray): (T,) int32 tracked frames.
        boxes (np.ndarray): (T, 4) float32 ``[x, y, w, h]`` (the corpus format).
        main_id (int | None): ByteTrack id of the most salient track (None: nobody was found).
        pieces (list[int]): ids of the tracks joined, in time order.
        main_frames (int): frames with a box of ``main_id`` itself.
        detected_frames (int): frames with a box of any joined track (before interpolation).
        interpolated (int): frames filled by interpolation.
        num_tracks (int): identities ByteTrack made in the video.
    """

    frames: np.ndarray
    boxes: np.ndarray
    main_id: int | None = None
    pieces: list[int] = field(default_factory=list)
    main_frames: int = 0
    detected_frames: int = 0
    interpolated: int = 0
    num_tracks: int = 0


def fill_gaps(frames: np.ndarray, boxes: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate boxes over gaps of at most ``max_gap`` missing frames (rule 4).

    Args:
        frames (np.ndarray): (T,) increasing frames.
        boxes (np.ndarray): (T, 4) boxes (any 4-number format that interpolates linearly).
        max_gap (int): longest run of missing frames that is filled.

    Returns:
        tuple: (T', ) int32 frames and (T', 4) float32 boxes, T' >= T.
    """
    frames = np.asarray(frames, np.int64)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if len(frames) < 2 or max_gap < 1:
        return frames.astype(np.int32), boxes.astype(np.float32)
    out_frames, out_boxes = [frames[:1]], [boxes[:1]]
    for i in range(1, len(frames)):
        gap = int(frames[i] - frames[i - 1]) - 1
        if 0 < gap <= max_gap:
            steps = np.arange(1, gap + 1) / (gap + 1)
            out_frames.append(frames[i - 1] + np.arange(1, gap + 1))
            out_boxes.append(boxes[i - 1] + steps[:, None] * (boxes[i] - boxes[i - 1]))
        out_frames.append(frames[i:i + 1])
        out_boxes.append(boxes[i:i + 1])
    return np.concatenate(out_frames).astype(np.int32), np.concatenate(out_boxes).astype(np.float32)


def pick_athlete(pieces: Sequence[TrackPiece], width: int, height: int, max_gap: int,
                 detections: Sequence[Detections] | None = None, snap_iou: float = 0.3) -> AthleteTrack:
    """The athlete's track from ByteTrack's identities (module docstring, rules 1-5).

    Args:
        pieces (Sequence[TrackPiece]): from :func:`associate`.
        width (int): frame width.
        height (int): frame height.
        max_gap (int): longest gap (frames) bridged when joining tracks and filled by interpolation.
        detections (Sequence[Detections], optional): the per-frame detections (index = frame), for rule 5.
        snap_iou (float): rule 5's overlap threshold.

    Returns:
        AthleteTrack: boxes in the corpus format ``[x, y, w, h]``; empty when there is no track.
    """
    if not pieces:
        return AthleteTrack(np.zeros(0, np.int32), np.zeros((0, 4), np.float32))
    ranked = sorted(pieces, key=lambda p: -track_salience(p, width, height))
    chain, rest = [ranked[0]], ranked[1:]
    joined = True
    while joined:  # most salient first; repeat, so a chain can grow through a less salient link
        joined = False
        for piece in rest:
            if _continues(chain[-1], piece, max_gap):
                chain.append(piece)
            elif _continues(piece, chain[0], max_gap):
                chain.insert(0, piece)
            else:
                continue
            rest.remove(piece)
            joined = True
            break
    frames = np.concatenate([p.frames for p in chain])
    boxes = np.concatenate([p.boxes for p in chain])
    filled_frames, filled = fill_gaps(frames, boxes, max_gap)
    snapped = 0
    if detections is not None:  # rule 5: an interpolated frame takes its own detection where one overlaps
        observed = set(frames.tolist())
        for i, frame in enumerate(filled_frames.tolist()):
            if frame in observed or frame >= len(detections) or not len(detections[frame]):
                continue
            overlap = _box_iou(filled[i].astype(np.float64), detections[frame].boxes)
            if overlap.max() >= snap_iou:
                filled[i] = detections[frame].boxes[int(overlap.argmax())]
                snapped += 1
    xywh = np.concatenate([filled[:, :2], filled[:, 2:] - filled[:, :2]], axis=1)
    return AthleteTrack(filled_frames, xywh.astype(np.float32), main_id=ranked[0].track_id,
                        pieces=[p.track_id for p in chain], main_frames=len(ranked[0].frames),
                        detected_frames=len(frames) + snapped,
                        interpolated=len(filled_frames) - len(frames) - snapped, num_tracks=len(pieces))


def track_frames(frames: Iterable[np.ndarray], detector: PersonDetector, fps: float,
                 max_gap_seconds: float = 1.0) -> tuple[AthleteTrack, list[Detections], tuple[int, int]]:
    """Detect, associate and pick the athlete over one video's frames.

    Args:
        frames (Iterable[np.ndarray]): (H, W, 3) uint8 RGB frames in order.
        detector (PersonDetector): reset before the first frame when it has ``reset()``.
        fps (float): the video's frame rate.
        max_gap_seconds (float): the longest gap bridged (``max_gap = round(fps * max_gap_seconds)`` frames).

    Returns:
        tuple: the :class:`AthleteTrack`, the per-frame :class:`Detections`, and the frame size ``(H, W)``.
    """
    if hasattr(detector, 'reset'):
        detector.reset()
    detections, size = [], (0, 0)
    for rgb in frames:
        size = rgb.shape[:2]
        detections.append(detector(rgb))
    height, width = size
    pieces = associate(detections, fps)
    athlete = pick_athlete(pieces, width, height, max(0, int(round(fps * max_gap_seconds))), detections)
    return athlete, detections, size


# ------------------------------------------------------------------------------------------------ the stage
def read_video_frames(path: str) -> tuple[Iterator[np.ndarray], float, int]:
    """Open a video with decord.

    Returns:
        tuple: an iterator over (H, W, 3) uint8 RGB frames, the average frame rate, the number of frames.

    Raises:
        VideoReadError: the file cannot be opened (names it).
    """
    import decord
    try:
        reader = decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
        fps = float(reader.get_avg_fps())
    except Exception as error:  # decord raises its own DECORDError
        raise VideoReadError(f'{path}: cannot open the video: corrupt, truncated or not a video '
                             f'({str(error).strip().splitlines()[0] if str(error).strip() else error!r})') from None

    def frames() -> Iterator[np.ndarray]:
        for index in range(len(reader)):
            try:
                yield reader[index].asnumpy()
            except Exception as error:  # a truncated stream
                raise VideoReadError(f'{path}: cannot decode frame {index} of {len(reader)} ({error!r})') from None

    return frames(), fps, len(reader)


def corpus_video_ids(corpus: Corpus) -> list[str]:
    """Ids of the corpus's source videos (``videos/<id>.<ext>`` with a known extension), sorted."""
    folder = corpus.path('videos')
    if not osp.isdir(folder):
        return []
    ids = {osp.splitext(name)[0] for name in os.listdir(folder)
           if osp.splitext(name)[1].lower() in VIDEO_EXTENSIONS and not name.startswith('.')}
    return sorted(ids)


_WORKER: dict[tuple, PersonDetector] = {}  # one detector per process and configuration, built on first use


def _detector(name: str, weights: str | None, options: tuple) -> PersonDetector:
    key = (name, weights, options)
    if key not in _WORKER:
        _WORKER[key] = build_person_detector(name, weights, **dict(options))
    return _WORKER[key]


def track_video_file(corpus: Corpus, video_id: str, detector: str = 'mediapipe', weights: str | None = None,
                     options: tuple = (), max_gap_seconds: float = 1.0) -> dict[str, int]:
    """Track one video and write ``tracks/<video_id>.json`` (runs in a worker process or inline).

    Returns:
        dict[str, int]: counters ``frames``, ``tracked``, ``detected``, ``main_track``, ``interpolated``,
        ``joined`` (tracks joined to the most salient one), ``tracks`` (ByteTrack identities).

    Raises:
        VideoReadError: the video cannot be read.
        CorpusFormatError: no video, or nobody was found in any frame.
    """
    path = corpus.video_path(video_id)
    frames, fps, num = read_video_frames(path)
    if not fps > 0:
        raise VideoReadError(f'{path}: the video reports no frame rate')
    athlete, _, _ = track_frames(frames, _detector(detector, weights, options), fps, max_gap_seconds)
    if len(athlete.frames) == 0:
        raise CorpusFormatError(path, 'file', f'no person found in any of its {num} frames by the {detector} '
                                'detector', hint='try --detector torchvision --detector-weights FILE')
    corpus.write_track(video_id, Track(athlete.frames, athlete.boxes))
    return dict(frames=num, tracked=len(athlete.frames), detected=athlete.detected_frames,
                main_track=athlete.main_frames, interpolated=athlete.interpolated,
                joined=len(athlete.pieces) - 1, tracks=athlete.num_tracks)


def track_athletes(corpus: Corpus, video_ids: Sequence[str] | None = None, detector: str = 'mediapipe',
                   weights: str | None = None, detector_options: dict[str, Any] | None = None,
                   max_gap_seconds: float = 1.0, overwrite: bool = False, workers: int = 1,
                   on_error: str = 'count', progress: bool = True,
                   log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write ``tracks/<video_id>.json`` for every source video without one (stage runner; resumable).

    Args:
        corpus (Corpus): the corpus (``videos/``).
        video_ids (Sequence[str], optional): default: every video in ``videos/``.
        detector (str): ``'mediapipe'`` or ``'torchvision'`` (see :func:`build_person_detector`).
        weights (str, optional): torchvision detector weights.
        detector_options (dict, optional): keyword arguments of the detector class (e.g. ``score_thresh``).
        max_gap_seconds (float): longest gap bridged and interpolated, in seconds.
        overwrite (bool): re-track videos that have a track.
        workers (int): processes (each builds its own detector).
        on_error (str): ``'count'`` or ``'raise'``.
        progress (bool): tqdm bar.
        log (callable, optional): receives the summary line.

    Returns:
        dict: the runner's summary and the summed counters of :func:`track_video_file`.

    Raises:
        CorpusFormatError: the corpus has no videos.
        ValueError: unknown detector, or torchvision without weights.
    """
    ids = corpus_video_ids(corpus) if video_ids is None else list(video_ids)
    if not ids:
        raise CorpusFormatError(corpus.path('videos'), 'folder', 'no videos to track',
                                hint='run tools/data/prepare_videos.py --videos DIR --out CORPUS first')
    if detector not in PERSON_DETECTORS:
        raise ValueError(f'unknown person detector {detector!r}; expected one of {PERSON_DETECTORS}')
    if detector == 'torchvision' and not weights:
        raise ValueError('the torchvision person detector needs a weights file (--detector-weights PATH)')
    options = tuple(sorted((detector_options or {}).items()))
    if workers == 1 or detector == 'torchvision':  # bad weights fail here, once, not once per video
        _detector(detector, weights, options)
        if workers > 1:  # each worker builds its own; do not fork a model
            _WORKER.clear()
    work = partial(track_video_file, corpus, detector=detector, weights=weights, options=options,
                   max_gap_seconds=max_gap_seconds)
    return for_each_video(ids, work, done=lambda v: osp.isfile(corpus.path('tracks', v + '.json')),
                          overwrite=overwrite, workers=workers, on_error=on_error, desc=f'tracking ({detector})',
                          progress=progress, log=log,
                          counters=('frames', 'tracked', 'detected', 'main_track', 'interpolated', 'joined',
                                    'tracks'))
