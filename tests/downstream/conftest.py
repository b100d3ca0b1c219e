"""Fixtures of the downstream tests: the tiny corpus with 2D-joint teacher features (teacher/pose2d)."""
from __future__ import annotations

import os.path as osp
import shutil

import numpy as np
import pytest

SYNTH_RECOGNITION = 'configs/recognition/bigru_pose2d_synthetic.py'
SYNTH_DETECTION = 'configs/detection/framebigru_pose2d_synthetic.py'
ONE_THREAD = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}  # tiny models: threads only contend on 2 cores


def write_pose2d_teacher(root: str) -> None:
    """The 2D-joint teacher features of every video (as tools/demo.py writes them)."""
    from vpd_mm.corpus import Corpus, FeatureTrack
    from vpd_mm.pose import keypoint_score, pose2d_feature
    corpus = Corpus(root)
    for video_id, pose in corpus.iter_pose():
        feats = np.stack([pose2d_feature(pose.keypoints), pose2d_feature(pose.keypoints, flip=True)], axis=1)
        corpus.write_features('teacher', 'pose2d', video_id,
                              FeatureTrack(pose.frames, feats, keypoint_score(pose.scores).astype(np.float32)))


@pytest.fixture(scope='session')
def pose2d_corpus(tmp_path_factory):
    """A tiny synthetic corpus (9 videos, 18 actions: 10 train, 4 val, 4 test) with teacher/pose2d features."""
    from vpd_mm.testing import make_tiny_corpus
    corpus = make_tiny_corpus(str(tmp_path_factory.mktemp('downstream') / 'corpus'), seed=0)
    write_pose2d_teacher(corpus.root)
    return corpus


@pytest.fixture
def corpus_copy(pose2d_corpus, tmp_path):
    """A writable copy of ``pose2d_corpus`` (without videos) for the bad-input cases."""
    from vpd_mm.corpus import Corpus
    root = str(tmp_path / 'corpus')
    shutil.copytree(pose2d_corpus.root, root, ignore=shutil.ignore_patterns('videos'))
    return Corpus(root)


def loader_options(root: str) -> list[str]:
    """``--cfg-options`` pointing the three dataloaders of a synthetic config at ``root``."""
    return ['--cfg-options', *(f'{loader}.dataset.data_root={root}'
                               for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'))]


def read_json(path: str):
    import json
    assert osp.isfile(path), f'{path} was not written'
    with open(path) as f:
        return json.load(f)


def load_tool(name: str):
    """Import ``tools/<name>.py`` as a module (to call its ``main`` in-process for the quick error cases)."""
    import importlib.util
    path = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'vpd_tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
