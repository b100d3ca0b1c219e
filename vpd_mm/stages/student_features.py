"""Student features: F over every frame with a crop, original and mirrored, into ``features/<name>/<video>.npz``.

Only the student F is kept from a distillation checkpoint (its ``backbone.*`` weights); the decoder D is discarded,
as in the paper. Each frame is read with the config's test pipeline (the same loading and packing as validation, so
the same input size and channels), and mirrored with :class:`~vpd_mm.datasets.transforms.MirrorCropAndTarget`
(image and flow mirrored, flow-x negated), so row 1 of the output is F of the mirrored frame, the counterpart of the
teacher's mirrored row. Fixes of the reference's ``apply_vpd_model.py``: it reads a config key that training never
writes (``embed_time``, its bug 9) — here everything comes from the training config itself; and with ``--jitter``
and flipping together it appends the jittered mirrored images to the wrong list (its bug 10) — here there is no
test-time jitter, and the original and mirrored inputs of each frame are kept in two aligned halves of one batch.

``frames='actions'`` extracts only the frames inside the recognition windows of the corpus's actions (the per-sport
windows of :func:`~vpd_mm.datasets.sequence.action_window`): all that recognition and retrieval read, and a
fraction of an uncut video; detection needs ``'all'``. A file holding fewer frames than asked for (e.g. written with
``'actions'`` and asked for ``'all'``) is recomputed.

Output format: the teacher's (:class:`~vpd_mm.corpus.corpus.FeatureTrack`): ``frames`` (T,), ``feats`` (T, 2, d),
``scores`` (T,) = the teacher's score of the frame where the teacher file has it, else NaN. Each video is written
atomically, so a video whose file exists is complete and is skipped: a killed run resumes where it stopped.
"""
from __future__ import annotations

import copy
import logging
import os.path as osp
from functools import partial
from typing import Any, Sequence

import numpy as np
import torch
from mmaction.registry import MODELS, TRANSFORMS
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint
from torch.utils.data import DataLoader, Dataset

from ..corpus import Corpus, CorpusFormatError, CropStore, FeatureTrack
from ..datasets.transforms import MirrorCropAndTarget
from .runner import for_each_video

__all__ = ['load_student', 'StudentExtractor', 'extract_features', 'action_frames', 'FRAME_SETS']

FRAME_SETS = ('all', 'actions')
"""Which frames of a video get features: every frame with a crop, or those inside an action's window."""


def load_student(cfg: Config, checkpoint: str, device: str | torch.device = 'cpu') -> tuple[torch.nn.Module,
                                                                                           torch.nn.Module]:
    """Build the student F and the data preprocessor of a distillation config and load F's trained weights.

    Args:
        cfg (Config): the training config (``model.backbone``, ``model.data_preprocessor``).
        checkpoint (str): an mmengine checkpoint of that config (``state_dict`` with ``backbone.*`` keys).
        device (str | torch.device): where to put them.

    Returns:
        tuple[nn.Module, nn.Module]: (student in eval mode, data preprocessor).

    Raises:
        FileNotFoundError: no checkpoint file.
        ValueError: the checkpoint holds no student weights matching the config (the message names the file).
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'{checkpoint}: checkpoint does not exist')
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    backbone_cfg = copy.deepcopy(cfg.model.backbone)
    backbone_cfg['pretrained'] = None  # the trained weights replace any initialisation
    student = MODELS.build(backbone_cfg)
    preprocessor = MODELS.build(copy.deepcopy(cfg.model.get('data_preprocessor',
                                                            dict(type='ActionDataPreprocessor'))))
    state = _load_checkpoint(checkpoint, map_location='cpu')
    state = state.get('state_dict', state) if isinstance(state, dict) else state
    weights = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    if not weights:
        raise ValueError(f'{checkpoint}: no backbone.* weights (is it a checkpoint of a configs/vpd config?)')
    from ..engine.checkpoint import load_weights
    load_weights(student, weights, checkpoint)  # exact keys and shapes, else a one-line ValueError
    return student.to(device).eval(), preprocessor.to(device)


def action_frames(corpus: Corpus) -> dict[str, np.ndarray]:
    """The frames inside the recognition windows of each video's actions.

    Returns:
        dict[str, np.ndarray]: video id -> sorted unique frame indices (int64); videos without actions are absent.
    """
    from ..datasets.sequence import action_window
    meta = corpus.read_meta()
    spans: dict[str, list[np.ndarray]] = {}
    for action in corpus.read_actions():
        start, end = action_window(action, meta.sport, meta.fps)
        spans.setdefault(action.video_id, []).append(np.arange(max(start, 0), end, dtype=np.int64))
    return {video: np.unique(np.concatenate(parts)) for video, parts in spans.items()}


class _VideoFrames(Dataset):
    """(original, mirrored) input tensors of the frames of one video, through the config's test pipeline."""

    def __init__(self, root: str, video_id: str, frames: np.ndarray, with_flow: bool, pipeline: Sequence[dict]):
        self.root, self.video_id, self.frames, self.with_flow = root, video_id, frames, with_flow
        self.load = Compose(list(pipeline[:-1]))
        self.pack = TRANSFORMS.build(pipeline[-1])
        self.mirror = MirrorCropAndTarget(prob=1.0)

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        results = self.load(dict(corpus_root=self.root, video_id=self.video_id, frame=int(self.frames[index]),
                                 with_flow=self.with_flow))
        mirrored = self.mirror(dict(results))
        return self.pack(results)['inputs'], self.pack(mirrored)['inputs']


class StudentExtractor:
    """F of a trained student over the frames of corpus videos.

    Args:
        config (str | Config): the distillation config the checkpoint was trained with.
        checkpoint (str): the checkpoint (e.g. ``best_val_loss_ma5_epoch_N.pth``).
        device (str, optional): default ``'cuda'`` when available, else ``'cpu'``.
        batch_size (int): frames per forward pass (each frame counts twice: original and mirrored). Default 250.
        num_workers (int): dataloader workers decoding crops. Default 0.
    """

    def __init__(self, config: str | Config, checkpoint: str, device: str | None = None, batch_size: int = 250,
                 num_workers: int = 0) -> None:
        self.cfg = Config.fromfile(config) if isinstance(config, str) else config
        self.device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
        self.student, self.preprocessor = load_student(self.cfg, checkpoint, self.device)
        dataset_cfg = self.cfg.test_dataloader.dataset
        self.teacher = dataset_cfg.teacher
        self.with_flow = bool(dataset_cfg.get('with_flow', True))
        self.pipeline = list(dataset_cfg.pipeline)
        if self.pipeline[-1]['type'] != 'PackDistillInputs':
            raise ValueError(f'the test pipeline must end with PackDistillInputs, got {self.pipeline[-1]["type"]}')
        self.batch_size, self.num_workers = batch_size, num_workers

    @property
    def dim(self) -> int:
        """Feature dimension d."""
        return int(self.student.out_dim)

    def video_frames(self, store: CropStore, video_id: str) -> tuple[np.ndarray, int]:
        """Frames of ``video_id`` with a crop (and flow when the student uses it), and how many lack flow."""
        frames = store.crop_frames(video_id)
        if not self.with_flow:
            return frames, 0
        if not store.has_flow(video_id):
            raise CorpusFormatError(store.flow_dir(video_id), 'folder', 'no complete flow (the student uses flow)')
        keep = np.isin(frames, store.flow_frames(video_id))
        return frames[keep], int((~keep).sum())

    @torch.no_grad()
    def video_features(self, root: str, video_id: str, frames: np.ndarray) -> np.ndarray:
        """F of the given frames of one video.

        Returns:
            np.ndarray: (T, 2, d) float32, ``[:, 0]`` the original frames and ``[:, 1]`` the mirrored ones.
        """
        loader = DataLoader(_VideoFrames(root, video_id, frames, self.with_flow, self.pipeline),
                            batch_size=self.batch_size, num_workers=self.num_workers, shuffle=False)
        out = np.zeros((len(frames), 2, self.dim), dtype=np.float32)
        start = 0
        for original, mirrored in loader:
            n = len(original)
            batch = self.preprocessor(dict(inputs=list(original) + list(mirrored), data_samples=None), False)
            feats = self.student(batch['inputs']).float().cpu().numpy()
            out[start:start + n, 0], out[start:start + n, 1] = feats[:n], feats[n:]
            start += n
        return out

    def teacher_scores(self, corpus: Corpus, video_id: str, frames: np.ndarray) -> np.ndarray:
        """The teacher's score of each frame where its file has the frame, else NaN."""
        scores = np.full(len(frames), np.nan, dtype=np.float32)
        if osp.isfile(corpus.feature_path('teacher', self.teacher, video_id)):
            track = corpus.read_features('teacher', self.teacher, video_id)
            index = np.searchsorted(track.frames, frames)
            found = (index < len(track.frames)) & (track.frames[np.minimum(index, len(track.frames) - 1)] == frames)
            scores[found] = track.scores[index[found]]
        return scores

    def video_file(self, corpus: Corpus, name: str, wanted: dict[str, np.ndarray] | None,
                   video_id: str) -> dict[str, int]:
        """Compute and write ``features/<name>/<video_id>.npz``; returns ``frames`` and ``no_flow`` counts.

        Args:
            wanted (dict, optional): video id -> the only frames to extract (:func:`action_frames`); None: all.

        Raises:
            CorpusFormatError: the video has no complete crops, or no complete flow while the student uses flow.
        """
        store = corpus.crops
        if not store.has_crops(video_id):
            raise CorpusFormatError(store.crop_dir(video_id), 'folder',
                                    'no complete crops (run tools/data/extract_crops.py first)')
        frames, no_flow = self.video_frames(store, video_id)
        if wanted is not None:
            window = wanted.get(video_id, np.zeros(0, np.int64))
            frames = frames[np.isin(frames, window)]
            no_flow = int(np.isin(store.crop_frames(video_id), window).sum()) - len(frames)
        feats = self.video_features(corpus.root, video_id, frames)
        if no_flow:
            print_log(f'{video_id}: {no_flow} frames with a crop but no flow are left out', logger='current',
                      level=logging.WARNING)
        corpus.write_features('features', name, video_id,
                              FeatureTrack(frames, feats, self.teacher_scores(corpus, video_id, frames)))
        return dict(frames=len(frames), no_flow=no_flow)

    def is_complete(self, corpus: Corpus, name: str, wanted: dict[str, np.ndarray] | None, video_id: str) -> bool:
        """Whether ``features/<name>/<video_id>.npz`` exists and holds every frame asked for."""
        path = corpus.feature_path('features', name, video_id)
        if not osp.isfile(path):
            return wanted is not None and video_id not in wanted  # no action: nothing to extract
        store = corpus.crops
        if not store.has_crops(video_id) or (self.with_flow and not store.has_flow(video_id)):
            return True  # the file is all there is; a rerun of the crops makes it stale (overwrite)
        frames = self.video_frames(store, video_id)[0]
        if wanted is not None:
            frames = frames[np.isin(frames, wanted.get(video_id, np.zeros(0, np.int64)))]
        return bool(np.isin(frames, corpus.read_features('features', name, video_id).frames).all())

    def run(self, corpus_root: str, name: str, video_ids: Sequence[str] | None = None,
            progress: bool = True, overwrite: bool = False, on_error: str = 'count',
            frames: str = 'all') -> dict[str, Any]:
        """Write ``features/<name>/<video>.npz`` for every video (stage runner); complete videos are skipped.

        Args:
            corpus_root (str): the corpus.
            name (str): feature name, e.g. ``'vi_vpd'``.
            video_ids (Sequence[str], optional): videos to process (default: every tracked video, so a video
                without crops is a failed video, not a silently missing one).
            progress (bool): show a tqdm progress bar.
            overwrite (bool): recompute videos whose features exist.
            on_error (str): ``'count'`` or ``'raise'`` (see :func:`~vpd_mm.stages.runner.for_each_video`).
            frames (str): ``'all'`` (every frame with a crop) or ``'actions'`` (only the frames inside the
                actions' recognition windows, :func:`action_frames`; a video without actions is skipped).

        Returns:
            dict: the runner's summary (``videos``, ``written``, ``skipped``, ``errors``, ``failed``,
            ``seconds``), ``frames`` (frames written) and ``no_flow`` (frames without flow, left out).

        Raises:
            MissingStageError: the corpus has no crops, or no flow while the student uses flow.
        """
        if frames not in FRAME_SETS:
            raise ValueError(f'frames must be one of {FRAME_SETS}, got {frames!r}')
        corpus = Corpus(corpus_root)
        corpus.require('crops')
        if self.with_flow:
            corpus.require('flow')
        ids = list(video_ids) if video_ids is not None else corpus.video_ids()
        wanted = action_frames(corpus) if frames == 'actions' else None
        return for_each_video(ids, partial(self.video_file, corpus, name, wanted),
                              done=partial(self.is_complete, corpus, name, wanted),
                              overwrite=overwrite, on_error=on_error, desc=f'features/{name}', progress=progress,
                              counters=('frames', 'no_flow'),
                              outputs=[osp.dirname(corpus.feature_path('features', name, 'x'))])


def extract_features(config: str | Config, checkpoint: str, corpus_root: str, name: str,
                     video_ids: Sequence[str] | None = None, device: str | None = None, batch_size: int = 250,
                     num_workers: int = 0, progress: bool = True, frames: str = 'all') -> dict[str, Any]:
    """Shortcut: ``StudentExtractor(config, checkpoint, ...).run(corpus_root, name, video_ids, frames=frames)``."""
    extractor = StudentExtractor(config, checkpoint, device=device, batch_size=batch_size, num_workers=num_workers)
    return extractor.run(corpus_root, name, video_ids=video_ids, progress=progress, frames=frames)
