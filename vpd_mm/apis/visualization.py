"""Pictures of what the pipeline saw and said: boxes, teacher pose, crop + flow, and predictions over time.

One *panel* per video frame (:func:`compose_panel`), all RGB uint8:

```
+-------------------------------+----------+
| the frame, scaled to `height` |   crop   |   crop: the 128x128 athlete crop the student reads
| + athlete box (tracks/)       +----------+   flow: its optical flow, hue = direction, brightness =
| + teacher pose (pose/)        |   flow   |         magnitude (saturating at `flow_clip` px)
| + current label and score     |          |
+-------------------------------+----------+
| timeline: segments (one colour per class), frame scores (white curve), threshold, the current frame |
+------------------------------------------------------------------------------------------------------+
```

:func:`render_video` writes the panels of a corpus video as an mp4 (atomically: a temporary file, then a rename)
and/or a PNG contact sheet of evenly spaced panels. Predictions are the JSON that ``tools/infer_video.py``
writes (``segments`` with ``start``, ``end``, ``label``, ``score``; optional ``frame_scores``).
"""
from __future__ import annotations

import colorsys
import os
import os.path as osp
from typing import Any, Iterable, Sequence

import cv2
import numpy as np

from ..corpus import Corpus, CorpusFormatError, PoseTrack, Track
from ..pose import COCO17_BONES
from ..stages.tracking import read_video_frames

__all__ = ['class_color', 'draw_box', 'draw_pose', 'flow_to_rgb', 'timeline_strip', 'compose_panel',
           'VideoSink', 'render_video', 'contact_sheet', 'VideoLayers', 'load_layers', 'read_predictions',
           'write_png']

WHITE = (255, 255, 255)
BOX_COLOR = (255, 200, 0)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def class_color(index: int | None) -> tuple[int, int, int]:
    """A distinct RGB colour per class index (grey for None)."""
    if index is None:
        return (128, 128, 128)
    r, g, b = colorsys.hsv_to_rgb((index * 0.618034) % 1.0, 0.75, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_box(image: np.ndarray, box: Sequence[float], scale: float = 1.0, color: tuple = BOX_COLOR,
             thickness: int = 2) -> None:
    """Draw an ``[x, y, w, h]`` box (video pixels, times ``scale``) on an RGB image, in place."""
    x, y, w, h = (float(v) * scale for v in box)
    cv2.rectangle(image, (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h))), color, thickness,
                  cv2.LINE_AA)


def draw_pose(image: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, scale: float = 1.0,
              min_score: float = 0.3) -> None:
    """Draw a COCO-17 skeleton (keypoints (17, 2) video pixels, scores (17,)) on an RGB image, in place; joints
    below ``min_score`` or not finite are left out."""
    points = np.asarray(keypoints, np.float64) * scale
    seen = np.isfinite(points).all(axis=1) & (np.nan_to_num(np.asarray(scores, np.float64)) >= min_score)
    for a, b in COCO17_BONES:
        if seen[a] and seen[b]:
            left = a in (5, 7, 9, 11, 13, 15) and b in (5, 7, 9, 11, 13, 15)
            cv2.line(image, tuple(int(v) for v in points[a]), tuple(int(v) for v in points[b]),
                     (0, 255, 120) if left else (255, 80, 80), 2, cv2.LINE_AA)
    for j in np.flatnonzero(seen):
        cv2.circle(image, tuple(int(v) for v in points[j]), 3, WHITE, -1, cv2.LINE_AA)


def flow_to_rgb(flow: np.ndarray, clip: float = 10.0) -> np.ndarray:
    """Colour-code a flow field: hue = direction, brightness = magnitude (full at ``clip`` pixels).

    Args:
        flow (np.ndarray): (H, W, 2) float flow in pixels.
        clip (float): magnitude shown at full brightness.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.
    """
    flow = np.nan_to_num(np.asarray(flow, np.float32))
    magnitude, angle = cv2.cartToPolar(flow[..., 0], flow[..., 1])
    hsv = np.zeros(flow.shape[:2] + (3,), np.uint8)
    hsv[..., 0] = (angle * 90 / np.pi).astype(np.uint8)  # OpenCV hue is 0..179
    hsv[..., 1] = 255
    hsv[..., 2] = np.clip(magnitude / max(clip, 1e-6) * 255, 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def _text(image: np.ndarray, text: str, origin: tuple[int, int], size: float = 0.5,
          color: tuple = WHITE) -> None:
    """Text on a dark box (in place); ``origin`` is the baseline start."""
    (w, h), base = cv2.getTextSize(text, FONT, size, 1)
    x, y = origin
    cv2.rectangle(image, (x - 2, y - h - 2), (x + w + 2, y + base), (0, 0, 0), -1)
    cv2.putText(image, text, origin, FONT, size, color, 1, cv2.LINE_AA)


def timeline_strip(width: int, num_frames: int, segments: Sequence[dict], current: int | None = None,
                   frame_scores: np.ndarray | None = None, threshold: float | None = None,
                   classes: Sequence[str] = (), height: int = 48) -> np.ndarray:
    """The predictions of a whole video as a strip.

    Args:
        width (int): strip width in pixels.
        num_frames (int): frames of the video (the strip's time axis).
        segments (Sequence[dict]): ``start``, ``end`` (frames, end exclusive), ``label`` and ``label_index``
            (optional) and ``score``.
        current (int, optional): frame marked with a vertical line.
        frame_scores (np.ndarray, optional): (T,) per-frame scores in [0, 1], drawn as a curve.
        threshold (float, optional): drawn as a dashed level.
        classes (Sequence[str]): class names (colours follow their order).
        height (int): strip height.

    Returns:
        np.ndarray: (height, width, 3) uint8 RGB.
    """
    strip = np.full((height, width, 3), 30, np.uint8)
    scale = width / max(1, num_frames)
    for seg in segments:
        index = seg.get('label_index')
        if index is None and seg.get('label') in classes:
            index = list(classes).index(seg['label'])
        x0, x1 = int(seg['start'] * scale), max(int(seg['start'] * scale) + 1, int(seg['end'] * scale))
        cv2.rectangle(strip, (x0, 4), (x1 - 1, height - 5), class_color(index), -1)
        if seg.get('label'):
            _text(strip, str(seg['label'])[:24], (x0 + 2, height // 2 + 4), 0.35)
    if frame_scores is not None and len(frame_scores) > 1:
        xs = np.arange(len(frame_scores)) * scale
        ys = (height - 3) - np.clip(np.nan_to_num(np.asarray(frame_scores, np.float64)), 0, 1) * (height - 6)
        cv2.polylines(strip, [np.stack([xs, ys], 1).astype(np.int32)], False, WHITE, 1, cv2.LINE_AA)
        if threshold is not None:
            level = int((height - 3) - threshold * (height - 6))
            for x in range(0, width, 8):
                cv2.line(strip, (x, level), (min(width - 1, x + 3), level), (200, 200, 200), 1)
    if current is not None:
        x = int((current + 0.5) * scale)
        cv2.line(strip, (x, 0), (x, height - 1), (255, 255, 255), 2)
    return strip


def _segment_at(segments: Sequence[dict], frame: int) -> dict | None:
    for seg in segments:
        if seg['start'] <= frame < seg['end']:
            return seg
    return None


def compose_panel(frame: np.ndarray, height: int = 360, box: Sequence[float] | None = None,
                  pose: tuple[np.ndarray, np.ndarray] | None = None, crop: np.ndarray | None = None,
                  flow: np.ndarray | None = None, timeline: np.ndarray | None = None,
                  caption: str | None = None, caption_color: tuple = WHITE) -> np.ndarray:
    """One panel (module docstring).

    Args:
        frame (np.ndarray): (H, W, 3) uint8 RGB video frame.
        height (int): height the frame is scaled to.
        box (Sequence[float], optional): athlete box ``[x, y, w, h]`` in video pixels.
        pose (tuple, optional): keypoints (17, 2) video pixels and scores (17,).
        crop (np.ndarray, optional): (S, S, 3) uint8 crop.
        flow (np.ndarray, optional): (S, S, 2) float flow.
        timeline (np.ndarray, optional): (h, W', 3) strip (resized to the panel width).
        caption (str, optional): text at the top left (e.g. the current label).
        caption_color (tuple): its colour.

    Returns:
        np.ndarray: (H', W', 3) uint8 RGB; H' and W' are even (video encoders need that).
    """
    scale = height / frame.shape[0]
    width = int(round(frame.shape[1] * scale))
    main = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA)
    if box is not None:
        draw_box(main, box, scale)
    if pose is not None:
        draw_pose(main, pose[0], pose[1], scale)
    if caption:
        for row, line in enumerate(caption.split('\n')):
            _text(main, line, (6, 18 + 20 * row), 0.5, caption_color)
    side = height // 2
    column = []
    for tile, name in ((crop, 'crop'), (flow_to_rgb(flow) if flow is not None else None, 'flow')):
        if tile is None:
            tile = np.full((side, side, 3), 20, np.uint8)
        else:
            tile = cv2.resize(tile, (side, side), interpolation=cv2.INTER_NEAREST)
        _text(tile, name, (4, 14), 0.4)
        column.append(tile)
    stack = np.concatenate(column, 0)
    stack = np.pad(stack, ((0, height - stack.shape[0]), (0, 0), (0, 0)))  # an odd height leaves one row
    panel = np.concatenate([main, stack], 1)
    if timeline is not None:
        panel = np.concatenate([panel, cv2.resize(timeline, (panel.shape[1], timeline.shape[0]),
                                                  interpolation=cv2.INTER_NEAREST)], 0)
    pad_h, pad_w = panel.shape[0] % 2, panel.shape[1] % 2
    if pad_h or pad_w:
        panel = np.pad(panel, ((0, pad_h), (0, pad_w), (0, 0)))
    return np.ascontiguousarray(panel)


class VideoSink:
    """Write RGB frames to an mp4 (mp4v) atomically: a hidden temporary file, renamed on :meth:`close`.

    Args:
        path (str): the output file.
        fps (float): frame rate.
    """

    def __init__(self, path: str, fps: float) -> None:
        self.path, self.fps = path, float(fps) if fps > 0 else 25.0
        self.tmp = osp.join(osp.dirname(osp.abspath(path)), f'.{osp.basename(path)}.{os.getpid()}.tmp.mp4')
        self.writer: Any = None
        self.count = 0

    def write(self, rgb: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame (every frame must have the first one's size)."""
        if self.writer is None:
            os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
            self.writer = cv2.VideoWriter(self.tmp, cv2.VideoWriter_fourcc(*'mp4v'), self.fps,
                                          (rgb.shape[1], rgb.shape[0]))
            if not self.writer.isOpened():
                raise RuntimeError(f'OpenCV cannot write {self.tmp} (mp4v codec)')
        self.writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.count += 1

    def close(self) -> None:
        """Finish the file and move it into place (nothing is written when no frame came)."""
        if self.writer is not None:
            self.writer.release()
            self.writer = None
            os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Drop the temporary file."""
        if self.writer is not None:
            self.writer.release()
            self.writer = None
        if osp.exists(self.tmp):
            os.remove(self.tmp)

    def __enter__(self) -> 'VideoSink':
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def contact_sheet(panels: Sequence[np.ndarray], columns: int = 4) -> np.ndarray:
    """Panels of equal size in a grid (row-major), (rows * H, columns * W, 3) uint8."""
    if not panels:
        raise ValueError('no panels')
    h, w = panels[0].shape[:2]
    rows = -(-len(panels) // columns)
    sheet = np.zeros((rows * h, min(columns, len(panels)) * w, 3), np.uint8)
    for i, panel in enumerate(panels):
        r, c = divmod(i, columns)
        sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = panel
    return sheet


class VideoLayers:
    """What can be drawn for one corpus video (each part optional).

    Args:
        track (Track | None): athlete boxes.
        pose (PoseTrack | None): teacher pose.
        corpus (Corpus | None): for crops/flow (read lazily per frame).
        video_id (str): the video.
        predictions (dict | None): the ``tools/infer_video.py`` JSON.
    """

    def __init__(self, track: Track | None, pose: PoseTrack | None, corpus: Corpus | None, video_id: str,
                 predictions: dict | None = None) -> None:
        self.video_id = video_id
        self.boxes = {} if track is None else {int(f): b for f, b in zip(track.frames, track.boxes)}
        self.pose = {} if pose is None else {int(f): (k, s) for f, k, s in zip(pose.frames, pose.keypoints,
                                                                                pose.scores)}
        self.corpus = corpus
        store = corpus.crops if corpus is not None else None
        self.crop_frames = set(store.crop_frames(video_id).tolist()) if store and store.has_crops(video_id) else set()
        self.flow_frames = set(store.flow_frames(video_id).tolist()) if store and store.has_flow(video_id) else set()
        self.predictions = predictions or {}

    def crop(self, frame: int) -> np.ndarray | None:
        """The crop of ``frame`` or None."""
        return self.corpus.crops.read_crop(self.video_id, frame) if frame in self.crop_frames else None

    def flow(self, frame: int) -> np.ndarray | None:
        """The flow of ``frame`` or None."""
        return self.corpus.crops.read_flow(self.video_id, frame) if frame in self.flow_frames else None


def load_layers(corpus: Corpus, video_id: str, predictions: dict | None = None, pose: bool = True) -> VideoLayers:
    """:class:`VideoLayers` of a corpus video from whatever its corpus holds (tracks/, pose/, crops/, flow/)."""
    track = corpus.read_track(video_id) if osp.isfile(corpus.path('tracks', video_id + '.json')) else None
    pose_track = corpus.read_pose(video_id) if pose and osp.isfile(corpus.path('pose', video_id + '.npz')) else None
    return VideoLayers(track, pose_track, corpus, video_id, predictions)


def _panels(frames: Iterable[np.ndarray], layers: VideoLayers, num_frames: int, height: int,
            keep: set[int] | None) -> Iterable[tuple[int, np.ndarray]]:
    pred = layers.predictions
    segments = pred.get('segments', [])
    classes = pred.get('classes', [])
    scores = np.asarray(pred['frame_scores'], np.float32) if pred.get('frame_scores') is not None else None
    for index, rgb in enumerate(frames):
        if keep is not None and index not in keep:
            continue
        seg = _segment_at(segments, index)
        caption = f'{index}'
        if seg is not None and seg.get('label'):
            caption += f'  {seg["label"]} {seg.get("score") or 0.0:.2f}'
        if seg is not None and seg.get('given_label'):
            caption += f'\ngiven: {seg["given_label"]}'
        strip = timeline_strip(640, num_frames, segments, index, scores, pred.get('threshold'), classes) \
            if segments or scores is not None else None
        color = class_color(seg.get('label_index')) if seg is not None else WHITE
        yield index, compose_panel(rgb, height, layers.boxes.get(index), layers.pose.get(index),
                                   layers.crop(index), layers.flow(index), strip, caption, color)


def render_video(video_path: str, layers: VideoLayers, mp4: str | None = None, png: str | None = None,
                 height: int = 360, png_panels: int = 8, columns: int = 4) -> dict[str, int]:
    """Write the panels of a video as an mp4 (every frame) and/or a PNG contact sheet (evenly spaced frames).

    Args:
        video_path (str): the source video.
        layers (VideoLayers): what to draw.
        mp4 (str, optional): output video path.
        png (str, optional): output PNG path.
        height (int): panel frame height.
        png_panels (int): frames on the contact sheet.
        columns (int): contact sheet columns.

    Returns:
        dict[str, int]: ``frames`` drawn.

    Raises:
        VideoReadError: the video cannot be read.
    """
    if mp4 is None and png is None:
        raise ValueError('nothing to write: give mp4 and/or png')
    frames, fps, num = read_video_frames(video_path)
    picks = set(np.linspace(0, max(0, num - 1), min(png_panels, num)).round().astype(int).tolist()) if png else set()
    keep = None if mp4 else picks
    sheet: list[np.ndarray] = []
    count = 0
    sink = VideoSink(mp4, fps) if mp4 else None
    try:
        for index, panel in _panels(frames, layers, num, height, keep):
            count += 1
            if sink is not None:
                sink.write(panel)
            if index in picks:
                sheet.append(panel)
        if sink is not None:
            sink.close()
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    if png and sheet:
        write_png(png, contact_sheet(sheet, columns))
    return dict(frames=count)


def write_png(path: str, rgb: np.ndarray) -> None:
    """Write an (H, W, 3) uint8 RGB image as a PNG, atomically (a temporary file, then a rename)."""
    from ..corpus import atomic_write_bytes
    ok, data = cv2.imencode('.png', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError(f'OpenCV cannot encode {path}')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    atomic_write_bytes(path, lambda f: f.write(data.tobytes()))


def read_predictions(path: str) -> dict:
    """A ``tools/infer_video.py`` JSON file.

    Raises:
        CorpusFormatError: missing or not a JSON object with ``segments``.
    """
    import json
    if not osp.isfile(path):
        raise CorpusFormatError(path, 'file', 'does not exist')
    try:
        with open(path) as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError) as error:
        raise CorpusFormatError(path, 'file', f'not valid JSON ({error})') from None
    if not isinstance(data, dict) or not isinstance(data.get('segments', []), list):
        raise CorpusFormatError(path, 'segments', 'expected a JSON object with a list of segments')
    return data
