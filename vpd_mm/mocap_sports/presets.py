"""The sizes of ``make demo`` (``tools/demo.py --preset``): one table, one code path.

``tiny`` is a miniature for the tests, ``default`` is sized for a 2-core CPU (measured: 20.7 minutes of stages),
``paper`` is the paper's distillation schedule on the embedded benchmark, sized for one GPU. Every preset runs the same stages with the
same configs (``configs/vpd/{2d,vi}_vpd_mocap_sports.py``, ``configs/recognition/bigru_mocap_sports.py``); a preset
only changes sizes, through :func:`distill_cfg_options`, which training and feature extraction share.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .plan import CLASS_SETS

__all__ = ['DemoPreset', 'DEMO_PRESETS', 'distill_cfg_options', 'FLOW_STD_AT_128']

FLOW_STD_AT_128 = 40.0
"""Flow normalisation of 128-pixel crops (flow clipped to +-20 px maps to +-0.5); a crop resized to ``s`` pixels
has its flow scaled by ``s / 128``, so its std is ``40 * s / 128`` (the same +-0.5)."""


@dataclass(frozen=True)
class DemoPreset:
    """One row of the preset table.

    Args:
        classes (str): class set (:data:`~vpd_mm.mocap_sports.plan.CLASS_SETS`).
        instances_per_class (int): rendered instances per class.
        test_fraction (float): fraction of each class's instances in the test split (the corpus spec's
            ``test_fraction``; validation keeps its one instance per class).
        corpus (str): the corpus spec preset (:data:`~vpd_mm.mocap_sports.plan.PRESETS`) it starts from.
        ks (tuple[int, ...]): few-shot k values.
        bigru_ks (tuple[int, ...]): the k values of the BiGRU runs (a subset of ``ks``: below some k the
            BiGRU learns nothing at this budget, and its runs are the protocol's cost).
        trials (int): few-shot trials per k of the BiGRU.
        dtw_trials (int): few-shot trials per k of DTW-NN (no training: cheap, so as many as the paper's 5 where
            the time allows; the headroom check is measured with it).
        vipe_epochs (int): VIPE* training epochs.
        teacher_score (str): where the teachers' frame scores come from
            (:data:`~vpd_mm.stages.teacher_features.SCORES`).
        arch (str): student backbone.
        input_size (int): student input side (crops are resized to it on loading).
        batch_size (int): distillation batch.
        frames_per_epoch (int): frames drawn (with replacement) per distillation epoch.
        epochs (int): distillation epochs.
        lr (float): AdamW learning rate (constant, as the reference).
        val_frames (int): held-out frames of the per-epoch validation.
        num_workers (int): dataloader workers of the distillation.
        bigru_epochs (int): most epochs of a few-shot BiGRU run.
        max_fps (float): frame rate of the recognition sequences.
        device (str): where the paper-sized runs are meant to run (``'cpu'`` or ``'cuda'``), for the README.
    """

    classes: str
    instances_per_class: int
    test_fraction: float
    corpus: str
    ks: tuple[int, ...]
    bigru_ks: tuple[int, ...]
    trials: int
    dtw_trials: int
    vipe_epochs: int
    teacher_score: str
    arch: str
    input_size: int
    batch_size: int
    frames_per_epoch: int
    epochs: int
    lr: float
    val_frames: int
    num_workers: int
    bigru_epochs: int
    max_fps: float
    device: str = 'cpu'

    @property
    def distill_steps(self) -> int:
        """Optimiser steps of one distillation."""
        return self.epochs * -(-self.frames_per_epoch // self.batch_size)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (for ``results.json``)."""
        return dict(asdict(self), ks=list(self.ks), bigru_ks=list(self.bigru_ks), distill_steps=self.distill_steps)


DEMO_PRESETS: dict[str, DemoPreset] = {
    'tiny': DemoPreset(classes='tiny', instances_per_class=3, test_fraction=0.25, corpus='tiny', ks=(1,),
                       bigru_ks=(1,), trials=1, dtw_trials=1, vipe_epochs=1,
                       teacher_score='mirror', arch='resnet18', input_size=32, batch_size=16, frames_per_epoch=64,
                       epochs=1, lr=1e-3, val_frames=64, num_workers=0, bigru_epochs=5, max_fps=12.5),
    'default': DemoPreset(classes='fine', instances_per_class=16, test_fraction=0.375, corpus='default',
                          ks=(1, 2, 4, 8), bigru_ks=(4, 8), trials=2, dtw_trials=5, vipe_epochs=6,
                          teacher_score='mirror', arch='resnet18', input_size=48, batch_size=64,
                          frames_per_epoch=3200, epochs=6, lr=1e-3, val_frames=800, num_workers=0,
                          bigru_epochs=20, max_fps=25.0),
    'paper': DemoPreset(classes='fine', instances_per_class=100, test_fraction=0.25, corpus='default',
                        ks=(1, 2, 4, 8, 16, 32), bigru_ks=(1, 2, 4, 8, 16, 32), trials=5, dtw_trials=5,
                        vipe_epochs=20, teacher_score='mirror', arch='resnet34', input_size=128,
                        batch_size=100, frames_per_epoch=20000, epochs=30, lr=5e-4, val_frames=4000, num_workers=8,
                        bigru_epochs=100, max_fps=25.0, device='cuda'),
}
"""The presets (the README's table is this one)."""


def class_names(preset: DemoPreset) -> tuple[str, ...]:
    """The class names of a preset (``tiny`` keeps the tiny corpus preset's own classes)."""
    if preset.classes == 'tiny':
        from .plan import PRESETS
        return tuple(PRESETS['tiny'].classes)
    return CLASS_SETS[preset.classes]


def distill_cfg_options(preset: DemoPreset, data_root: str, teacher: str | None = None) -> dict[str, Any]:
    """The ``--cfg-options`` of a preset for ``configs/vpd/*_mocap_sports.py``, shared by training and feature
    extraction (so the extracted student sees exactly the inputs it was trained on).

    Args:
        preset (DemoPreset): the sizes.
        data_root (str): the corpus.
        teacher (str, optional): override the config's teacher feature set (e.g. ``gt2d`` for the oracle
            student).

    Returns:
        dict: dotted keys to values (``tools/train.py --cfg-options key=value ...``).
    """
    size = preset.input_size
    flow_std = FLOW_STD_AT_128 * size / 128
    options: dict[str, Any] = {
        'model.backbone.arch': preset.arch,
        'model.data_preprocessor.std': [255 * 0.229, 255 * 0.224, 255 * 0.225, flow_std, flow_std],
        'train_dataloader.batch_size': preset.batch_size,
        'train_dataloader.num_workers': preset.num_workers,
        'train_dataloader.persistent_workers': preset.num_workers > 0,
        'train_dataloader.sampler.num_samples': preset.frames_per_epoch,
        'train_dataloader.dataset.pipeline.0.size': size,
        'train_dataloader.dataset.pipeline.4.size': size,
        'val_dataloader.num_workers': preset.num_workers,
        'val_dataloader.persistent_workers': preset.num_workers > 0,
        'val_dataloader.dataset.max_frames': preset.val_frames,
        'val_dataloader.dataset.pipeline.0.size': size,
        'test_dataloader.num_workers': preset.num_workers,
        'test_dataloader.persistent_workers': preset.num_workers > 0,
        'test_dataloader.dataset.max_frames': preset.val_frames,
        'test_dataloader.dataset.pipeline.0.size': size,
        'train_cfg.max_epochs': preset.epochs,
        'optim_wrapper.optimizer.lr': preset.lr,
    }
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.dataset.data_root'] = data_root
        if teacher is not None:
            options[f'{loader}.dataset.teacher'] = teacher
    return options
