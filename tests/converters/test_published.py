"""Import of athlete tracks and poses in the reference's published format (boxes.json, coco_keypoints.json.gz)."""
from __future__ import annotations

import gzip
import json
import os
import shutil

import numpy as np

from vpd_mm.corpus import Corpus
from vpd_mm.datasets.converters import import_published, read_boxes_json, read_coco_keypoints

from .conftest import data_dir

R1 = 'men_olympic_short_program_2010_01_00011475_00015700'
POSE_DIR = data_dir('fsjump6') + '/published_pose'


def test_read_fixture_by_hand():
    track = read_boxes_json(f'{POSE_DIR}/{R1}/boxes.json')
    np.testing.assert_array_equal(track.frames, [925, 926, 927, 929])
    np.testing.assert_array_equal(track.boxes[2], [104, 202, 51, 121])
    pose, left_out, clipped = read_coco_keypoints(f'{POSE_DIR}/{R1}/coco_keypoints.json.gz', track)
    # frame 928 has no detection and no tracked box: left out; 927 has no detection: NaN with the tracked box
    np.testing.assert_array_equal(pose.frames, [925, 926, 927, 929])
    assert (left_out, clipped) == (1, 1)
    j = np.arange(17)
    # joint j of the first detection is (box_x + 2 j, box_y + 7 j) with score 0.9 - 0.01 j
    np.testing.assert_allclose(pose.keypoints[0], np.stack([100 + 2 * j, 200 + 7 * j], 1))
    np.testing.assert_allclose(pose.scores[0], 0.9 - 0.01 * j, atol=1e-6)
    np.testing.assert_allclose(pose.keypoints[1], np.stack([102 + 2 * j, 201 + 7 * j], 1))  # first of 2 detections
    np.testing.assert_array_equal(pose.boxes[1], [102, 201, 50, 121])
    assert np.isnan(pose.keypoints[2]).all() and np.isnan(pose.scores[2]).all()
    np.testing.assert_array_equal(pose.boxes[2], [104, 202, 51, 121])
    assert pose.scores[3, 0] == 1.0  # 1.02 clipped
    np.testing.assert_allclose(pose.scores[3, 1:], 0.9 - 0.01 * j[1:], atol=1e-6)


def test_import_resumes_and_overwrites(tmp_path):
    corpus = Corpus(str(tmp_path / 'c'))
    summary = import_published(corpus, POSE_DIR)
    assert summary.written == [R1] and summary.frames_left_out == 1 and summary.scores_clipped == 1
    assert corpus.video_ids() == [R1]
    np.testing.assert_array_equal(corpus.read_pose(R1).frames, [925, 926, 927, 929])
    again = import_published(corpus, POSE_DIR)
    assert again.written == [] and again.existing == [R1]
    assert import_published(corpus, POSE_DIR, overwrite=True).written == [R1]


def _write_published(folder: str, track, pose) -> None:
    os.makedirs(folder)
    with open(f'{folder}/boxes.json', 'w') as f:
        json.dump([[int(t), [float(v) for v in b]] for t, b in zip(track.frames, track.boxes)], f)
    rows = []
    for t, kp, sc, box in zip(pose.frames, pose.keypoints, pose.scores, pose.boxes):
        joints = [[float(x), float(y), float(s)] for (x, y), s in zip(kp, sc)]
        rows.append([int(t), [[0.9, [float(v) for v in box], joints]]])
    with gzip.open(f'{folder}/coco_keypoints.json.gz', 'wt', encoding='ascii') as f:
        json.dump(rows, f)


def test_round_trip_of_the_tiny_corpus(tiny_corpus, tmp_path):
    # write every tiny-corpus video in the published format, import it, get the same tracks and poses back
    for video_id in tiny_corpus.video_ids():
        _write_published(str(tmp_path / 'published' / video_id), tiny_corpus.read_track(video_id),
                         tiny_corpus.read_pose(video_id))
    corpus = Corpus(str(tmp_path / 'c'))
    summary = import_published(corpus, str(tmp_path / 'published'))
    assert sorted(summary.written) == tiny_corpus.video_ids() and summary.skips.total == 0
    for video_id in tiny_corpus.video_ids():
        original, imported = tiny_corpus.read_pose(video_id), corpus.read_pose(video_id)
        for name in ('frames', 'keypoints', 'scores', 'boxes'):
            np.testing.assert_array_equal(getattr(imported, name), getattr(original, name))
        np.testing.assert_array_equal(corpus.read_track(video_id).boxes, tiny_corpus.read_track(video_id).boxes)


def test_bad_files_are_counted_skips(tmp_path):
    folder = tmp_path / 'published'
    shutil.copytree(f'{POSE_DIR}/{R1}', folder / 'good')
    shutil.copytree(f'{POSE_DIR}/{R1}', folder / 'bad_boxes')
    with open(folder / 'bad_boxes' / 'boxes.json', 'w') as f:
        f.write('[[925, [1, 2, 3, 4]], [926, [1, 2, -3, 4]]]')
    shutil.copytree(f'{POSE_DIR}/{R1}', folder / 'truncated')
    data = (folder / 'truncated' / 'coco_keypoints.json.gz').read_bytes()
    (folder / 'truncated' / 'coco_keypoints.json.gz').write_bytes(data[:len(data) // 2])
    shutil.copytree(f'{POSE_DIR}/{R1}', folder / 'fourteen_joints')
    with gzip.open(folder / 'fourteen_joints' / 'coco_keypoints.json.gz', 'wt') as f:
        json.dump([[925, [[0.9, [1, 2, 3, 4], [[1, 2, 0.5]] * 14]]]], f)
    summary = import_published(Corpus(str(tmp_path / 'c')), str(folder))
    assert summary.written == ['good'] and summary.skips.total == 3
    reasons = ' | '.join(summary.skips.counts)
    assert 'bad_boxes/boxes.json:entry 1: expected [frame, [x, y, w, h]]' in reasons
    assert 'truncated/coco_keypoints.json.gz: not readable gzip JSON' in reasons
    assert 'fourteen_joints/coco_keypoints.json.gz:entry 0: expected 17 keypoints' in reasons
