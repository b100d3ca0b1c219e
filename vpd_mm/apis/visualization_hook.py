"""Test-time pictures of what the sequence models said, drawn on the corpus videos (``tools/test.py --show-dir``).

mmaction2's ``VisualizationHook`` draws the frames a model read (``data_batch['inputs']``). The vpd_mm sequence
models (the BiGRU recognizer on corpus actions, the per-frame BiGRU detector) read per-frame feature sequences, so
:class:`VPDVisualizationHook` goes back to the corpus instead: from each test sample's metainfo (``video_id``,
``action_id`` for recognition, ``start`` / ``length`` / ``views`` for a detection window, all set by
:class:`~vpd_mm.datasets.PackSequenceInputs`) it finds the frames, reads them with decord and draws them with the
helpers of :mod:`vpd_mm.apis.visualization` (the panels of ``tools/visualize.py``: frame + athlete box + teacher
pose, crop and flow when the corpus has them, a caption and a timeline strip):

- recognition: a PNG contact sheet of ``panels`` evenly spaced frames of the action ``[start, end)`` (from
  ``annotations/actions.json``), captioned with the ground-truth and the predicted class and its score (in the
  predicted class's colour); the strip places the action in its video.
- detection: the same for the frames of the window ``[start, start + length)``, with two strips over the window:
  the ground-truth action frames (``gt``) and the predicted ones (``pred``: frames whose P(action) reaches the
  threshold, with the P(action) curve and the threshold drawn).

A sample whose video is missing or unreadable (or whose action is not in the annotations) gets one label-only
panel (a blank frame with the same captions and strips) and is counted as ``no_video``; testing goes on.

Files: ``<out_dir>/<name>.png`` (``name`` is the action id, or ``<video>_<start>-<end>_view<v>`` for a detection
window), optionally ``<name>.mp4`` (every frame of the interval, ``mp4=True``), and ``<out_dir>/index.json``: one
record per drawn sample (file, image size, video, frames, ground truth, prediction and score, whether the video
was there). Without ``out_dir`` the images go to the runner's visualizer backends (``vis_data/`` of the work dir),
as mmaction2's hook does; ``show=True`` also shows each one (``Visualizer.show``, needs a display).
"""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import Any, Sequence

import numpy as np
import torch
from mmaction.registry import HOOKS
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook

from ..corpus import atomic_write_bytes
from .visualization import (VideoLayers, VideoSink, _text, class_color, compose_panel, contact_sheet, load_layers,
                            timeline_strip, write_png)

__all__ = ['VPDVisualizationHook', 'label_runs']


def label_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` of every run of True in a (T,) boolean mask."""
    mask = np.asarray(mask, bool).astype(np.int8)
    edges = np.diff(np.concatenate([[0], mask, [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _scalar(value: Any) -> float:
    return float(torch.as_tensor(value).reshape(-1)[0])


def _unwrap(dataset: Any) -> Any:
    """The dataset inside mmengine's wrappers (ClassBalancedDataset, RepeatDataset, ...)."""
    while not hasattr(dataset, 'corpus') and hasattr(dataset, 'dataset'):
        dataset = dataset.dataset
    return dataset


class _Frames:
    """Random access to one video's frames (decord), keeping the last video open."""

    def __init__(self) -> None:
        self.path: str | None = None
        self.reader: Any = None

    def open(self, path: str) -> int:
        """Open ``path`` (if not open yet); returns its frame count. Raises on an unreadable file."""
        if path != self.path:
            import decord
            self.path, self.reader = None, None
            self.reader = decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
            self.path = path
        return len(self.reader)

    def read(self, indices: Sequence[int]) -> list[np.ndarray]:
        """(H, W, 3) uint8 RGB frames."""
        return list(self.reader.get_batch(list(indices)).asnumpy())


@HOOKS.register_module()
class VPDVisualizationHook(Hook):
    """Draw test samples of the vpd_mm sequence models on their corpus videos (module docstring).

    ``tools/test.py --show-dir DIR`` puts it into ``default_hooks.visualization`` (as mmaction2's ``tools/test.py``
    does with its ``VisualizationHook``); a config can also name it there or in ``custom_hooks`` (``import vpd_mm``,
    i.e. the configs' ``custom_imports``, registers it in mmaction2's HOOKS).

    Args:
        enable (bool): draw at all. Defaults to False (mmaction2's convention: the tool turns it on).
        out_dir (str, optional): folder of the pictures and ``index.json``; None: the visualizer's backends.
        interval (int): draw every ``interval``-th test sample (in test order). Defaults to 1.
        max_samples (int, optional): stop after this many drawn samples (per process); None: no limit.
            Defaults to 20.
        show (bool): also show each picture (``Visualizer.show``; needs a display). Defaults to False.
        wait_time (float): seconds a shown picture stays. Defaults to 2.
        height (int): height of a video frame in a panel, pixels. Defaults to 240.
        panels (int): frames on a contact sheet. Defaults to 8.
        columns (int): contact sheet columns. Defaults to 4.
        mp4 (bool): also write ``<name>.mp4`` with every frame of the interval. Defaults to False.
        threshold (float, optional): P(action) from which a detection frame counts as predicted action; default
            the config's ``detection_threshold``, else 0.5.
    """

    priority = 'NORMAL'

    def __init__(self, enable: bool = False, out_dir: str | None = None, interval: int = 1,
                 max_samples: int | None = 20, show: bool = False, wait_time: float = 2.0, height: int = 240,
                 panels: int = 8, columns: int = 4, mp4: bool = False, threshold: float | None = None) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        if max_samples is not None and max_samples < 0:
            raise ValueError(f'max_samples must be >= 0 or None, got {max_samples}')
        if height < 32 or panels < 1 or columns < 1:
            raise ValueError(f'need height >= 32, panels >= 1 and columns >= 1, got {height}, {panels}, {columns}')
        self.enable, self.out_dir, self.interval, self.max_samples = bool(enable), out_dir, int(interval), max_samples
        self.show, self.wait_time = bool(show), float(wait_time)
        self.height, self.panels, self.columns, self.mp4 = int(height), int(panels), int(columns), bool(mp4)
        self.threshold = threshold
        self.records: list[dict] = []
        self.no_video = 0
        self._seen = 0
        self._frames = _Frames()
        self._corpus: Any = None
        self._actions: dict[str, Any] = {}
        self._classes: list[str] = []
        self._visualizer: Any = None

    # runner events -------------------------------------------------------------------------------------------
    def before_test_epoch(self, runner: Any) -> None:
        """Reset the counters; find the corpus, its actions and the class names of the test dataset."""
        self.records, self.no_video, self._seen = [], 0, 0
        if not self.enable:
            return
        from mmengine.visualization import Visualizer
        self._visualizer = Visualizer.get_current_instance()
        dataset = _unwrap(runner.test_loop.dataloader.dataset)
        self._corpus = getattr(dataset, 'corpus', None)
        self._classes = [str(c) for c in (getattr(dataset, 'metainfo', None) or {}).get('classes') or ()]
        self._actions = {}
        if self._corpus is not None:
            try:
                self._actions = {a.id: a for a in self._corpus.read_actions()}
            except Exception as error:  # no or bad annotations: windows still draw, actions get label-only panels
                runner.logger.warning(f'VPDVisualizationHook: no actions from {self._corpus.root} ({error})')
        if self.threshold is None:
            self.threshold = float(runner.cfg.get('detection_threshold', 0.5))

    def after_test_iter(self, runner: Any, batch_idx: int, data_batch: Any = None,
                        outputs: Sequence | None = None) -> None:
        """Draw every ``interval``-th sample of the batch until ``max_samples`` are drawn."""
        if not self.enable:
            return
        for sample in outputs or ():
            index = self._seen
            self._seen += 1
            if index % self.interval or (self.max_samples is not None and len(self.records) >= self.max_samples):
                continue
            self.records.append(self.draw_sample(sample, index))

    def after_test_epoch(self, runner: Any, metrics: dict | None = None) -> None:
        """Write ``index.json`` and log what was drawn."""
        if not self.enable:
            return
        self._frames = _Frames()  # close the last video
        where = self.out_dir if self.out_dir is not None else 'the visualizer backends'
        if self.out_dir is not None:
            name = 'index.json' if get_world_size() == 1 else f'index_rank{get_rank()}.json'
            data = json.dumps(dict(samples=self.records, drawn=len(self.records), no_video=self.no_video),
                              indent=1).encode()
            os.makedirs(self.out_dir, exist_ok=True)
            atomic_write_bytes(osp.join(self.out_dir, name), lambda f: f.write(data))
        note = f' ({self.no_video} without a readable video: label-only panels)' if self.no_video else ''
        runner.logger.info(f'VPDVisualizationHook: drew {len(self.records)} of {self._seen} test samples into '
                           f'{where}{note}')

    # drawing ---------------------------------------------------------------------------------------------------
    def _class_name(self, index: int | None) -> str:
        if index is None:
            return '?'
        return self._classes[index] if 0 <= index < len(self._classes) else str(index)

    def draw_sample(self, sample: Any, index: int) -> dict:
        """Draw one data sample (with predictions) and return its record."""
        meta = sample.metainfo
        video_id = str(meta.get('video_id') or '')
        if 'pred_frame_scores' in sample:
            return self._draw_window(sample, meta, video_id, index)
        return self._draw_action(sample, meta, video_id, index)

    def _draw_action(self, sample: Any, meta: dict, video_id: str, index: int) -> dict:
        action_id = str(meta.get('action_id') or '')
        gt = int(_scalar(sample.gt_label)) if 'gt_label' in sample else None
        pred = score = None
        if 'pred_score' in sample:
            scores = torch.as_tensor(sample.pred_score).reshape(-1)
            pred = int(_scalar(sample.pred_label)) if 'pred_label' in sample else int(scores.argmax())
            score = float(scores[pred])
        elif 'pred_label' in sample:
            pred = int(_scalar(sample.pred_label))
        action = self._actions.get(action_id)
        interval = (action.start, action.end) if action is not None else None
        name = action_id or (f'{video_id}_{index:06d}' if video_id else f'sample_{index:06d}')
        record = dict(name=name, kind='recognition', index=index, video_id=video_id, action_id=action_id,
                      gt_label=self._class_name(gt) if gt is not None else None, gt_index=gt,
                      pred_label=self._class_name(pred) if pred is not None else None, pred_index=pred,
                      pred_score=score, correct=(gt == pred) if gt is not None and pred is not None else None)
        prediction = f'pred: {self._class_name(pred)}' + (f' {score:.2f}' if score is not None else '')

        def caption(frame: int | None) -> str:
            where = f'{frame}  ' if frame is not None else ''
            return f'{where}gt: {self._class_name(gt)}\n{prediction}'

        def strip(num_frames: int, frame: int | None, width: int) -> np.ndarray | None:
            if interval is None:
                return None
            segment = dict(start=interval[0], end=interval[1], label=f'gt: {self._class_name(gt)}', label_index=gt)
            return timeline_strip(width, num_frames, [segment], frame, classes=self._classes)

        reason = None if interval is not None else f'action {action_id!r} is not in the corpus annotations'
        return self._render(record, interval, reason, caption, strip, class_color(pred))

    def _draw_window(self, sample: Any, meta: dict, video_id: str, index: int) -> dict:
        scores = torch.as_tensor(sample.pred_frame_scores).detach().cpu().float().numpy().reshape(-1)
        length = int(meta.get('length', len(scores)))
        start = int(meta.get('start', 0))
        view = int((meta.get('views') or (0,))[0])
        scores = scores[:length]
        gt = None
        if 'gt_frame_labels' in sample:
            gt = torch.as_tensor(sample.gt_frame_labels).cpu().numpy().reshape(-1)[:length] > 0
        threshold = float(self.threshold if self.threshold is not None else 0.5)
        predicted = scores >= threshold
        action_name = self._classes[1] if len(self._classes) > 1 else 'action'
        pred_runs = label_runs(predicted)
        gt_runs = label_runs(gt) if gt is not None else []
        name = f'{video_id or "video"}_{start:06d}-{start + length:06d}_view{view}'
        record = dict(name=name, kind='detection', index=index, video_id=video_id, start=start, end=start + length,
                      view=view, threshold=threshold, mean_score=float(scores.mean()) if len(scores) else None,
                      pred_frames=int(predicted.sum()), gt_frames=int(gt.sum()) if gt is not None else None,
                      frame_accuracy=float((predicted == gt).mean()) if gt is not None and len(gt) else None,
                      pred_segments=[[start + a, start + b] for a, b in pred_runs],
                      gt_segments=[[start + a, start + b] for a, b in gt_runs])

        def caption(frame: int | None) -> str:
            if frame is None:
                return f'gt: {len(gt_runs)} segments\npred: {len(pred_runs)} segments (>= {threshold:.2f})'
            i = frame - start
            truth = '?' if gt is None else (action_name if gt[i] else 'background')
            guess = action_name if predicted[i] else 'background'
            return f'{frame}  gt: {truth}\npred: {guess} {scores[i]:.2f}'

        def strip(num_frames: int, frame: int | None, width: int) -> np.ndarray:
            current = None if frame is None else frame - start
            rows = []
            for tag, runs, curve in (('gt', gt_runs, None), ('pred', pred_runs, scores)):
                segments = [dict(start=a, end=b, label_index=1) for a, b in runs]
                row = timeline_strip(width, length, segments, current, curve,
                                     threshold if curve is not None else None, classes=self._classes)
                _text(row, tag, (4, 14), 0.4)
                rows.append(row)
            return np.concatenate(rows, 0)

        color = class_color(1) if predicted.any() else class_color(None)
        return self._render(record, (start, start + length), None, caption, strip, color)

    def _render(self, record: dict, interval: tuple[int, int] | None, reason: str | None, caption: Any,
                strip: Any, color: tuple) -> dict:
        """Read the interval's frames (or note why not), compose the panels, write / show the picture."""
        layers = frames = None
        num_frames = 0
        if reason is None:
            try:
                if self._corpus is None:
                    raise ValueError('the test dataset has no corpus')
                num_frames = self._frames.open(self._corpus.video_path(record['video_id']))
                start, end = max(0, interval[0]), min(interval[1], num_frames)
                if end <= start:
                    raise ValueError(f'frames [{interval[0]}, {interval[1]}) are outside the video '
                                     f'({num_frames} frames)')
                frames = sorted(set(np.linspace(start, end - 1, min(self.panels, end - start)).round()
                                    .astype(int).tolist()))
                images = self._frames.read(frames)
            except Exception as error:  # no / unreadable video: a label-only panel, counted
                reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
                frames = None
        if frames is None:
            self.no_video += 1
            blank = np.full((self.height, self.height * 4 // 3, 3), 40, np.uint8)
            text = f'no frames of {record["video_id"] or "?"} (see index.json)\n' + caption(None)
            timeline = strip(max(num_frames, interval[1] if interval else 1), None, self._panel_width(blank))
            panels = [compose_panel(blank, self.height, timeline=timeline, caption=text, caption_color=color)]
        else:
            layers = self._layers(record['video_id'])
            width = self._panel_width(images[0])
            panels = [self._panel(rgb, f, layers, strip(num_frames, f, width), caption(f), color)
                      for f, rgb in zip(frames, images)]
        sheet = contact_sheet(panels, self.columns)
        record.update(has_video=frames is not None, reason=reason, frames=frames or [],
                      image_size=[int(sheet.shape[0]), int(sheet.shape[1])], file=None, mp4=None)
        self._output(record, sheet, interval if frames is not None else None, num_frames, layers, caption, strip,
                     color)
        return record

    def _panel_width(self, frame: np.ndarray) -> int:
        """The width of :func:`compose_panel`'s panel of ``frame`` (the strips are drawn at it, not resized)."""
        return int(round(frame.shape[1] * self.height / frame.shape[0])) + self.height // 2

    def _layers(self, video_id: str) -> Any:
        """What the corpus has for the video (boxes, pose, crops, flow); nothing of it when that cannot be read."""
        try:
            return load_layers(self._corpus, video_id)
        except Exception:  # a broken track / pose / crop file must not stop the test: draw the frames alone
            return VideoLayers(None, None, None, video_id)

    def _panel(self, rgb: np.ndarray, frame: int, layers: Any, timeline: np.ndarray | None, caption: str,
               color: tuple) -> np.ndarray:
        tiles = []
        for read in (layers.crop, layers.flow):
            try:
                tiles.append(read(frame))
            except Exception:  # an unreadable crop / flow frame: an empty tile
                tiles.append(None)
        return compose_panel(rgb, self.height, layers.boxes.get(frame), layers.pose.get(frame), tiles[0], tiles[1],
                             timeline, caption, color)

    def _output(self, record: dict, sheet: np.ndarray, interval: tuple[int, int] | None, num_frames: int,
                layers: Any, caption: Any, strip: Any, color: tuple) -> None:
        name = record['name']
        if self.out_dir is not None:
            record['file'] = osp.join(self.out_dir, name + '.png')
            write_png(record['file'], sheet)
            if self.mp4 and interval is not None:
                record['mp4'] = osp.join(self.out_dir, name + '.mp4')
                start, end = max(0, interval[0]), min(interval[1], num_frames)
                with VideoSink(record['mp4'], float(self._frames.reader.get_avg_fps())) as sink:
                    for chunk in range(start, end, 64):
                        indices = list(range(chunk, min(end, chunk + 64)))
                        for f, rgb in zip(indices, self._frames.read(indices)):
                            sink.write(self._panel(rgb, f, layers, strip(num_frames, f, self._panel_width(rgb)),
                                                   caption(f), color))
        elif self._visualizer is not None:
            self._visualizer.add_image(name, sheet)
        if self.show and self._visualizer is not None:
            self._visualizer.show(sheet, win_name=name, wait_time=self.wait_time)
