"""Full-frame inputs for the end-to-end baselines ("w/o crop" in the paper's Table 1): the corpus videos decoded
by mmaction2's own ``DecordInit`` / ``SampleFrames`` / ``DecordDecode``, restricted to each action's window.

Pipeline::

    CorpusVideoDataset -> DecordInit -> ActionWindow -> SampleFrames -> DecordDecode -> Resize ... -> PackActionInputs

mmaction2's ``VideoDataset`` reads one whole video per line of a text list, which cannot say "frames 120 to 180
of this video"; :class:`CorpusVideoDataset` serves the same ``filename`` / ``label`` samples straight from the
corpus, with the action's window, and :class:`ActionWindow` (placed right after ``DecordInit``, which sets
``total_frames`` to the video length) turns the window into ``start_index`` / ``total_frames`` so that
``SampleFrames`` draws its segments inside the window only.
"""
from __future__ import annotations

from typing import Any

from mmcv.transforms import BaseTransform
from mmaction.registry import DATASETS, TRANSFORMS

from .baseline_actions import CorpusActionDataset
from ..corpus.corpus import Action, CorpusFormatError

__all__ = ['CorpusVideoDataset', 'ActionWindow']


@DATASETS.register_module()
class CorpusVideoDataset(CorpusActionDataset):
    """Actions as windows of the corpus videos (``videos/<video_id>.<ext>``), for mmaction2's decord pipeline.

    Args:
        data_root (str): the corpus folder.
        **kwargs: :class:`~vpd_mm.datasets.baseline_actions.CorpusActionDataset` arguments (``split``,
            ``classes``, ``window``, ``carve_val``, ``carve_seed``, ``fewshot_file``, ``pipeline``, ...).

    Each sample: ``filename`` (the video path), ``window`` ``(start, end)`` frames, plus the base fields. An
    action whose video file is missing is skipped and counted.
    """

    def __init__(self, data_root: str, **kwargs: Any) -> None:
        kwargs.setdefault('modality', 'RGB')
        super().__init__(data_root, **kwargs)

    def action_info(self, action: Action, start: int, end: int) -> dict[str, Any] | str:
        """The video file of ``action``."""
        try:
            return dict(filename=self.corpus.video_path(action.video_id))
        except CorpusFormatError as error:
            return str(error)


@TRANSFORMS.register_module()
class ActionWindow(BaseTransform):
    """Restrict frame sampling to the sample's ``window`` ``(start, end)``, clamped to the video.

    Required keys: ``window``, ``total_frames`` (the video length, from ``DecordInit``).
    Modified keys: ``start_index`` (= start), ``total_frames`` (= end - start).

    Raises:
        ValueError: the window holds no frame of the video (names the video and the window).
    """

    def transform(self, results: dict) -> dict:
        """Turn the window into ``start_index`` / ``total_frames``."""
        start, end = (int(v) for v in results['window'])
        start, end = max(0, start), min(end, int(results['total_frames']))
        if end <= start:
            raise ValueError(f'{results.get("filename")}: window {tuple(results["window"])} holds no frame of the '
                             f'{results["total_frames"]}-frame video')
        results['start_index'] = start
        results['total_frames'] = end - start
        return results
