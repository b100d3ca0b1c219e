"""Fixtures of the distillation tests: the tiny corpus with crops, flow and two teachers."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

VIPE_DIM = 64


def write_teachers(corpus) -> None:
    """``teacher/pose2d`` (d = 26, as tools/demo.py writes it) and a 64-d stand-in for ``teacher/vipe``.

    The stand-in is a fixed random linear map of the 2D-joint feature, applied to the original and to the mirrored
    joints, so its mirrored row is the "re-embedded mirrored pose" exactly as for VIPE*.
    """
    from vpd_mm.corpus import FeatureTrack
    from vpd_mm.pose import keypoint_score, pose2d_feature
    projection = np.random.default_rng(1).normal(0, 0.3, size=(26, VIPE_DIM)).astype(np.float32)
    for video_id, pose in corpus.iter_pose():
        feats = np.stack([pose2d_feature(pose.keypoints), pose2d_feature(pose.keypoints, flip=True)], axis=1)
        scores = keypoint_score(pose.scores).astype(np.float32)
        corpus.write_features('teacher', 'pose2d', video_id, FeatureTrack(pose.frames, feats, scores))
        corpus.write_features('teacher', 'vipe', video_id, FeatureTrack(pose.frames, feats @ projection, scores))


@pytest.fixture(scope='session')
def distill_corpus(tmp_path_factory):
    """The tiny synthetic corpus (9 videos x 50 frames) with crops, DIS flow and the two teachers (read-only)."""
    from vpd_mm.testing import add_crops_and_flow, make_tiny_corpus
    corpus = make_tiny_corpus(str(tmp_path_factory.mktemp('distill_corpus')), seed=0)
    add_crops_and_flow(corpus)
    write_teachers(corpus)
    return corpus


@pytest.fixture
def corpus_copy(distill_corpus, tmp_path):
    """A private copy of ``distill_corpus`` that a test may damage."""
    from vpd_mm.corpus import Corpus
    root = str(tmp_path / 'corpus')
    shutil.copytree(distill_corpus.root, root)
    return Corpus(root)


@pytest.fixture
def one_thread():
    """Run torch on one thread (2 shared cores: two threads fight and are several times slower)."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


ONE_THREAD = dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
"""Extra environment of training subprocesses (``run_python(..., env=ONE_THREAD)``)."""


def single_thread_env() -> dict:
    """The full environment of a training subprocess started with ``subprocess`` directly."""
    return dict(os.environ, PYTHONWARNINGS='ignore', **ONE_THREAD)
