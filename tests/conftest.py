"""Shared fixtures: the tiny synthetic corpus and its mmaction2 PoseDataset export."""
from __future__ import annotations

import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
STGCN_CONFIG = osp.join(REPO, 'configs', 'baselines', 'stgcn_coco2d_synthetic.py')


@pytest.fixture(autouse=True)
def _isolated_default_scope():
    """Each test starts and ends with the same mmengine default scope: mmpose's own ``init_model`` and
    ``inference_topdown`` switch the process-wide scope to ``mmpose`` (and mmengine's Runner to its config's), which
    would make a later in-process ``MODELS.build`` look in the wrong registry."""
    from mmengine.registry import DefaultScope
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


@pytest.fixture(scope='session')
def tiny_corpus(tmp_path_factory):
    """The tiny synthetic corpus (9 videos, 18 actions), generated once per test session."""
    from vpd_mm.testing import make_tiny_corpus
    return make_tiny_corpus(str(tmp_path_factory.mktemp('tiny_corpus')), seed=0)


@pytest.fixture(scope='session')
def tiny_pose_dataset(tiny_corpus):
    """The tiny corpus exported to mmaction2's PoseDataset file; returns its data_root."""
    from vpd_mm.datasets import write_pose_dataset
    write_pose_dataset(tiny_corpus, tiny_corpus.path('pose_dataset.pkl'))
    return tiny_corpus.root


def data_root_options(root: str) -> list[str]:
    """--cfg-options that point the ST-GCN synthetic config at ``root``."""
    return ['--cfg-options', f'train_dataloader.dataset.dataset.data_root={root}',
            f'val_dataloader.dataset.data_root={root}', f'test_dataloader.dataset.data_root={root}']


def run_python(args: list[str], timeout: float = 300, env: dict | None = None,
               **kwargs) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` with the test interpreter in the repository root."""
    full_env = dict(os.environ, PYTHONWARNINGS='ignore', **(env or {}))
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env=full_env, **kwargs)
