"""tools/retrieve.py end to end on the tiny corpus with 2D-joint teacher features (one video without features)."""
from __future__ import annotations

import json
import os
import os.path as osp

import numpy as np
import pytest

from conftest import run_python


def write_pose2d_features(corpus, skip_video: str) -> None:
    from vpd_mm.corpus import FeatureTrack
    from vpd_mm.pose import keypoint_score, pose2d_feature
    for video_id, pose in corpus.iter_pose():
        if video_id == skip_video:
            continue
        feats = np.stack([pose2d_feature(pose.keypoints), pose2d_feature(pose.keypoints, flip=True)], axis=1)
        corpus.write_features('teacher', 'pose2d', video_id,
                              FeatureTrack(pose.frames, feats, keypoint_score(pose.scores).astype(np.float32)))


@pytest.mark.slow
def test_retrieve_tool_end_to_end(tmp_path):
    from vpd_mm.protocols.retrieval import corpus_retrieval
    from vpd_mm.testing import make_tiny_corpus
    corpus = make_tiny_corpus(str(tmp_path / 'corpus'), seed=0)
    write_pose2d_features(corpus, skip_video='tiny_000')
    actions = corpus.read_actions()
    out = str(tmp_path / 'ret.json')

    result = run_python(['tools/retrieve.py', corpus.root, '--kind', 'teacher', '--name', 'pose2d',
                         '--out', out], timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.load(open(out))
    skipped = [a.id for a in actions if a.video_id == 'tiny_000']
    assert doc['task'] == 'retrieval' and doc['features'] == 'teacher/pose2d'
    assert doc['num_skipped'] == len(skipped) == 2
    assert sorted(s['id'] for s in doc['skipped']) == sorted(skipped)
    assert doc['num_actions'] == doc['num_queries'] == len(actions) - 2
    assert set(doc['precision']) == {'1', '10', '50'}
    # 16 actions, 3 classes (about 5 each): P@1 well above chance (about 1/3) on these clean motions
    assert doc['precision']['1'] > 0.5
    assert 0 < doc['precision']['50'] < doc['precision']['1']
    assert 'skipped 2 action(s)' in result.stdout

    # the library call the tool composes gives the same numbers; restricting the queries changes their count
    again = corpus_retrieval(corpus.root, 'teacher/pose2d', query_splits=['test'])
    assert again['num_queries'] == sum(a.split == 'test' for a in actions)
    assert corpus_retrieval(corpus.root, 'teacher/pose2d')['precision'] == doc['precision']

    # an existing output is kept
    mtime = os.stat(out).st_mtime_ns
    result = run_python(['tools/retrieve.py', corpus.root, '--kind', 'teacher', '--name', 'pose2d',
                         '--out', out], timeout=300)
    assert result.returncode == 0 and 'skipping' in result.stdout
    assert os.stat(out).st_mtime_ns == mtime

    # bad input: a feature set that does not exist, a folder that is not a corpus
    result = run_python(['tools/retrieve.py', corpus.root, '--kind', 'features', '--name', 'nope',
                         '--out', str(tmp_path / 'x.json')], timeout=300)
    assert result.returncode != 0 and 'error:' in result.stderr and 'features/nope' in result.stderr
    result = run_python(['tools/retrieve.py', str(tmp_path), '--name', 'pose2d'], timeout=300)
    assert result.returncode != 0 and 'meta.json' in result.stderr
    assert not osp.exists(tmp_path / 'x.json')
