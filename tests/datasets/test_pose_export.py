"""Export of corpus poses to mmaction2's PoseDataset annotation pickle."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from vpd_mm.corpus.corpus import Action, Corpus, CorpusMeta, PoseTrack
from vpd_mm.datasets.pose_export import corpus_to_pose_dataset, write_pose_dataset
from vpd_mm.testing import TINY_CLASSES, make_tiny_corpus


def test_export_tiny_corpus(tiny_corpus):
    data = corpus_to_pose_dataset(tiny_corpus)
    actions = tiny_corpus.read_actions()
    assert set(data) == {'split', 'annotations'}
    assert len(data['annotations']) == len(actions) == 18
    assert data['split'] == {s: [a.id for a in actions if a.split == s] for s in ('train', 'val', 'test')}
    assert [len(data['split'][s]) for s in ('train', 'val', 'test')] == [10, 4, 4]
    for action, ann in zip(actions, data['annotations']):
        length = action.end - action.start
        assert ann['frame_dir'] == action.id
        assert ann['label'] == TINY_CLASSES.index(action.label)
        assert isinstance(ann['label'], int)
        assert ann['img_shape'] == ann['original_shape'] == (120, 160)
        assert ann['total_frames'] == length == 16
        assert ann['keypoint'].shape == (1, length, 17, 2) and ann['keypoint'].dtype == np.float32
        assert ann['keypoint_score'].shape == (1, length, 17) and ann['keypoint_score'].dtype == np.float32
        pose = tiny_corpus.read_pose(action.video_id)
        rows = np.searchsorted(pose.frames, np.arange(action.start, action.end))
        np.testing.assert_array_equal(pose.frames[rows], np.arange(action.start, action.end))
        np.testing.assert_array_equal(ann['keypoint'][0], pose.keypoints[rows])
        np.testing.assert_array_equal(ann['keypoint_score'][0], pose.scores[rows])
    assert sorted({ann['label'] for ann in data['annotations']}) == [0, 1, 2]


def _hand_corpus(tmp_path) -> tuple[Corpus, PoseTrack]:
    """One video tracked at frames 2, 3, 5 and 9; two actions overlapping the gaps."""
    corpus = Corpus(str(tmp_path / 'hand'))
    corpus.write_meta(CorpusMeta(sport='s', classes=['a', 'b']))
    kp = np.arange(4 * 17 * 2, dtype=np.float32).reshape(4, 17, 2)
    scores = np.full((4, 17), 0.5, np.float32)
    scores[1] = 0.75
    pose = PoseTrack(np.array([2, 3, 5, 9], np.int32), kp, scores, np.ones((4, 4), np.float32))
    corpus.write_pose('v', pose)
    corpus.write_actions([Action('x', 'v', 1, 6, 'b', 'train'), Action('y', 'v', 9, 11, 'a', 'test')])
    return corpus, pose


def test_export_untracked_frames_are_zero(tmp_path):
    corpus, pose = _hand_corpus(tmp_path)
    data = corpus_to_pose_dataset(corpus, img_shape=(480, 640))
    assert data['split'] == {'train': ['x'], 'test': ['y']}
    x, y = data['annotations']
    assert (x['label'], y['label']) == (1, 0)
    assert x['img_shape'] == (480, 640) and x['total_frames'] == 5 and y['total_frames'] == 2
    # frames 1..5 of action x: untracked, pose row 0, pose row 1, untracked, pose row 2
    expected = np.zeros((5, 17, 2), np.float32)
    expected[1], expected[2], expected[4] = pose.keypoints[0], pose.keypoints[1], pose.keypoints[2]
    np.testing.assert_array_equal(x['keypoint'][0], expected)
    np.testing.assert_array_equal(x['keypoint_score'][0, :, 0], [0, 0.5, 0.75, 0, 0.5])
    assert x['keypoint'][0, 4, 16, 1] == 2 * 34 + 33  # hand-computed: arange value of row 2, joint 16, y
    # action y: frame 9 is pose row 3, frame 10 is past the track
    np.testing.assert_array_equal(y['keypoint'][0, 0], pose.keypoints[3])
    np.testing.assert_array_equal(y['keypoint'][0, 1], 0)
    np.testing.assert_array_equal(y['keypoint_score'][0], [[0.5] * 17, [0.0] * 17])


def test_export_needs_img_shape_without_meta_size(tmp_path):
    corpus, _ = _hand_corpus(tmp_path)
    with pytest.raises(ValueError, match='img_shape'):
        corpus_to_pose_dataset(corpus)


def test_export_nan_joints_become_zero_with_score_zero(tmp_path):
    corpus = make_tiny_corpus(str(tmp_path / 'tiny'), seed=0)
    action = corpus.read_actions()[0]
    pose = corpus.read_pose(action.video_id)
    bad_frame = action.start + 3
    bad_row = int(np.flatnonzero(pose.frames == bad_frame)[0])
    pose.keypoints[bad_row, 9] = np.nan  # one joint missing: the whole frame counts as no pose
    pose.scores[bad_row, 9] = np.nan
    nan_frame = action.start + 5
    pose.keypoints[bad_row + 2] = np.nan  # the whole frame missing
    pose.scores[bad_row + 2] = np.nan
    corpus.write_pose(action.video_id, pose)

    ann = corpus_to_pose_dataset(corpus)['annotations'][0]
    assert ann['frame_dir'] == action.id
    kp, sc = ann['keypoint'][0], ann['keypoint_score'][0]
    assert np.isfinite(kp).all() and np.isfinite(sc).all()
    for frame in (bad_frame, nan_frame):
        np.testing.assert_array_equal(kp[frame - action.start], np.zeros((17, 2)))
        np.testing.assert_array_equal(sc[frame - action.start], np.zeros(17))
    good = np.ones(action.end - action.start, bool)
    good[[bad_frame - action.start, nan_frame - action.start]] = False
    rows = np.flatnonzero(pose.frames == action.start)[0] + np.flatnonzero(good)
    np.testing.assert_array_equal(kp[good], pose.keypoints[rows])
    assert (sc[good] >= 0.3).all()


def test_write_pose_dataset_pickle(tiny_corpus, tmp_path):
    out = str(tmp_path / 'out' / 'pose.pkl')
    returned = write_pose_dataset(tiny_corpus, out)
    assert os.listdir(str(tmp_path / 'out')) == ['pose.pkl']  # no temporary file left
    with open(out, 'rb') as f:
        loaded = pickle.load(f)
    assert loaded['split'] == returned['split']
    assert len(loaded['annotations']) == 18
    for a, b in zip(loaded['annotations'], returned['annotations']):
        assert a.keys() == b.keys()
        np.testing.assert_array_equal(a['keypoint'], b['keypoint'])
        np.testing.assert_array_equal(a['keypoint_score'], b['keypoint_score'])
        assert (a['frame_dir'], a['label'], a['total_frames']) == (b['frame_dir'], b['label'], b['total_frames'])


def test_mmaction_pose_dataset_loads_export(tiny_corpus, tmp_path):
    import vpd_mm  # noqa: F401  (applies the compat fixes before mmaction is used)
    from mmaction.datasets import PoseDataset

    out = str(tmp_path / 'pose.pkl')
    data = write_pose_dataset(tiny_corpus, out)
    train = PoseDataset(ann_file=out, pipeline=[], split='train')
    assert len(train) == len(tiny_corpus.read_actions(split='train')) == 10
    val = PoseDataset(ann_file=out, pipeline=[], split='val')
    assert len(val) == 4
    item = train[0]
    first = data['annotations'][0]
    assert item['frame_dir'] == first['frame_dir'] == 'tiny_000_0'
    assert item['label'] == first['label'] == 0
    assert item['total_frames'] == 16
    np.testing.assert_array_equal(item['keypoint'], first['keypoint'])
    np.testing.assert_array_equal(item['keypoint_score'], first['keypoint_score'])
    assert {train[i]['frame_dir'] for i in range(len(train))} == set(data['split']['train'])
