"""Import of mmaction2 skeleton annotation pickles (PoseDataset format) into the corpus pose files.

The pickles here are test inputs in mmaction2's third-party format: one written by our own PoseDataset export,
the others built in the test to exercise person selection, rescaling and bad input.
"""
from __future__ import annotations

import os
import pickle
import shutil
from collections import Counter

import numpy as np
import pytest

from vpd_mm.corpus import Action, Corpus, CorpusMeta
from vpd_mm.datasets import write_pose_dataset
from vpd_mm.datasets.converters import LabelFileError, import_skeleton_pickle
from vpd_mm.datasets.converters.mmaction_skeleton import select_person


def test_round_trip_through_the_pose_dataset_export(tiny_corpus, tmp_path):
    # corpus -> mmaction2 PoseDataset pickle (per action, frame_dir = action id) -> a fresh corpus
    pkl = str(tmp_path / 'pose_dataset.pkl')
    write_pose_dataset(tiny_corpus, pkl)
    target = Corpus(str(tmp_path / 'c'))
    os.makedirs(target.path('annotations'))
    shutil.copy(tiny_corpus.path('meta.json'), target.path('meta.json'))
    shutil.copy(tiny_corpus.path('annotations', 'actions.json'), target.path('annotations', 'actions.json'))
    summary = import_skeleton_pickle(target, pkl)
    actions = tiny_corpus.read_actions()
    assert sorted(summary.written) == sorted({a.video_id for a in actions}) and summary.skips.total == 0
    for video_id in summary.written:
        original, imported = tiny_corpus.read_pose(video_id), target.read_pose(video_id)
        inside = np.zeros(len(original.frames), bool)
        for action in actions:
            if action.video_id == video_id:
                inside |= (original.frames >= action.start) & (original.frames < action.end)
        np.testing.assert_array_equal(imported.frames, original.frames[inside])
        np.testing.assert_array_equal(imported.keypoints, original.keypoints[inside])
        np.testing.assert_array_equal(imported.scores, original.scores[inside])
        kp = imported.keypoints  # every joint has a score > 0, so the box is the joints' bounding box
        np.testing.assert_allclose(imported.boxes[:, :2], kp.min(axis=1))
        np.testing.assert_allclose(imported.boxes[:, 2:], kp.max(axis=1) - kp.min(axis=1), rtol=1e-6)
    assert import_skeleton_pickle(target, pkl).existing == summary.written  # resumable


def _corpus(tmp_path) -> Corpus:
    corpus = Corpus(str(tmp_path / 'c'))
    corpus.write_meta(CorpusMeta(sport='diving48', classes=['a', 'b'], extra=dict(height=480, width=640)))
    corpus.write_actions([Action('clip_1', 'clip_1', 0, 4, 'a', 'train'),
                          Action('clip_2', 'clip_2', 0, 3, 'b', 'test')])
    return corpus


def _anno(name: str, keypoint: np.ndarray, score: np.ndarray, img_shape=(480, 640)) -> dict:
    return dict(frame_dir=name, label=0, img_shape=img_shape, original_shape=img_shape,
                total_frames=keypoint.shape[1], keypoint=keypoint.astype(np.float32),
                keypoint_score=score.astype(np.float32))


def _dump(path, annos: list[dict]) -> str:
    with open(path, 'wb') as f:
        pickle.dump(dict(split=dict(train=[a['frame_dir'] for a in annos]), annotations=annos), f)
    return str(path)


def test_person_selection_rescaling_and_absent_frames(tmp_path):
    corpus = _corpus(tmp_path)
    keypoint = np.zeros((2, 4, 17, 2))
    keypoint[0] = 10.0
    keypoint[1, :, :, 0] = np.arange(17) + 100.0  # person 1: x = 100 + j, y = 50 + t
    keypoint[1, :, :, 1] = 50.0 + np.arange(4)[:, None]
    score = np.zeros((2, 4, 17))
    score[0] = 0.4                    # person 0: total 0.4 x 68 = 27.2
    score[1, [0, 1, 3]] = 0.8         # person 1: total 0.8 x 51 = 40.8; frame 2 absent (all scores 0)
    assert select_person(score, 'best') == 1 and select_person(score, 'first') == 0
    # img_shape (240, 320) is half the corpus size (480, 640): coordinates are doubled
    pkl = _dump(tmp_path / 'a.pkl', [_anno('clip_1', keypoint, score, (240, 320)),
                                     _anno('unknown_clip', keypoint, score)])
    summary = import_skeleton_pickle(corpus, pkl)
    assert summary.written == ['clip_1'] and summary.skips.counts == Counter(
        {'frame_dir is neither a corpus video nor an action': 1})
    pose = corpus.read_pose('clip_1')
    np.testing.assert_array_equal(pose.frames, [0, 1, 3])
    np.testing.assert_allclose(pose.keypoints[:, :, 0], np.tile(2 * (np.arange(17) + 100.0), (3, 1)))
    np.testing.assert_allclose(pose.keypoints[:, 0, 1], [100, 102, 106])
    np.testing.assert_allclose(pose.scores, 0.8)
    np.testing.assert_allclose(pose.boxes[0], [200, 100, 32, 0])
    summary = import_skeleton_pickle(corpus, pkl, person='first', overwrite=True)
    np.testing.assert_array_equal(corpus.read_pose('clip_1').frames, [0, 1, 2, 3])
    np.testing.assert_allclose(corpus.read_pose('clip_1').keypoints, 20.0)


def test_bad_pickles(tmp_path):
    corpus = _corpus(tmp_path)
    bad_shape = _anno('clip_1', np.zeros((1, 4, 14, 2)), np.ones((1, 4, 14)))
    with pytest.raises(LabelFileError, match=r"b\.pkl:annotation 0 \('clip_1'\): keypoint must be an \(M, T, 17, 2\)"):
        import_skeleton_pickle(corpus, _dump(tmp_path / 'b.pkl', [bad_shape]))
    wrong_total = dict(_anno('clip_1', np.zeros((1, 4, 17, 2)), np.ones((1, 4, 17))), total_frames=5)
    with pytest.raises(LabelFileError, match=r'c\.pkl:annotation 0 .*total_frames 5 != keypoint frames 4'):
        import_skeleton_pickle(corpus, _dump(tmp_path / 'c.pkl', [wrong_total]))
    with open(tmp_path / 'd.pkl', 'wb') as f:
        pickle.dump(dict(annotations=[dict(frame_dir='clip_1', keypoint=Counter())]), f)
    with pytest.raises(LabelFileError, match=r'd\.pkl: not a readable skeleton pickle \(refusing to load '
                       r'collections\.Counter'):
        import_skeleton_pickle(corpus, str(tmp_path / 'd.pkl'))
    (tmp_path / 'e.pkl').write_bytes(b'not a pickle')
    with pytest.raises(LabelFileError, match=r'e\.pkl: not a readable skeleton pickle'):
        import_skeleton_pickle(corpus, str(tmp_path / 'e.pkl'))
