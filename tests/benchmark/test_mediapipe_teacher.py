"""The MediaPipe Pose teacher: BlazePose-33 -> COCO-17 mapping, and a real run writing valid pose files."""
from __future__ import annotations

import numpy as np
import pytest

from tests.benchmark.conftest import load_tool
from vpd_mm.stages.pose_mediapipe import (BLAZEPOSE_TO_COCO17, MediaPipePose, blazepose_to_coco17,
                                                estimate_frames, run_mediapipe)
from vpd_mm.corpus.corpus import Corpus, CorpusFormatError
from vpd_mm.pose import COCO17_NAMES


def test_mapping_matches_mediapipe_landmark_names():
    """Each COCO-17 joint takes the BlazePose landmark of the same name (the eye centres, not the corners)."""
    import mediapipe
    PoseLandmark = mediapipe.solutions.pose.PoseLandmark
    assert len(BLAZEPOSE_TO_COCO17) == 17
    for coco, blaze in enumerate(BLAZEPOSE_TO_COCO17):
        assert PoseLandmark(blaze).name.lower() == COCO17_NAMES[coco]
    # hand-checked indices: nose 0, left eye 2, right eye 5, left hip 23, right ankle 28
    assert BLAZEPOSE_TO_COCO17[0] == 0 and BLAZEPOSE_TO_COCO17[1] == 2 and BLAZEPOSE_TO_COCO17[2] == 5
    assert BLAZEPOSE_TO_COCO17[11] == 23 and BLAZEPOSE_TO_COCO17[16] == 28


def test_blazepose_to_coco17_pixels_and_scores():
    landmarks = np.stack([np.arange(33) / 100, np.arange(33) / 200], axis=1)  # landmark i at (i/100, i/200)
    visibility = np.linspace(-0.5, 1.5, 33)
    keypoints, scores = blazepose_to_coco17(landmarks, visibility, width=200, height=100)
    assert keypoints.shape == (17, 2) and keypoints.dtype == np.float32
    np.testing.assert_allclose(keypoints[5], [11 / 100 * 200, 11 / 200 * 100])  # left shoulder = landmark 11
    np.testing.assert_allclose(keypoints[16], [28 * 2, 28 / 2])  # right ankle = landmark 28
    assert scores.min() >= 0 and scores.max() <= 1 and scores[0] == 0.0  # clipped visibility
    with pytest.raises(ValueError, match=r'\(33, 2\)'):
        blazepose_to_coco17(landmarks[:17], visibility[:17], 10, 10)


def test_run_on_tiny_frames_writes_valid_pose_with_nan_misses(tiny_mocap, tmp_path):
    import shutil
    from vpd_mm.stages.pose_mediapipe import _read_video
    corpus = Corpus(shutil.copytree(tiny_mocap.root, str(tmp_path / 'corpus')))  # the fixture stays teacher-free
    video = corpus.video_ids()[0]
    frames = list(_read_video(corpus.video_path(video)))[:6]
    blank = np.full_like(frames[0], 128)  # nobody there
    with MediaPipePose(static=True) as teacher:
        track = estimate_frames([blank, *frames, blank], teacher)
        with pytest.raises(ValueError, match='uint8 RGB'):
            teacher(blank.astype(np.float32))
    assert len(track.frames) == 8
    assert np.isnan(track.keypoints[0]).all() and (track.scores[0] == 0).all()
    assert np.isnan(track.keypoints[-1]).all() and (track.scores[-1] == 0).all()
    found = np.isfinite(track.keypoints).all(axis=(1, 2))
    assert found[1:-1].sum() >= 4  # the rendered athlete is found on most frames
    np.testing.assert_array_equal(track.boxes[0], [0, 0, 128, 128])

    # the corpus run (tracking mode) writes pose/ files that Corpus reads back; then it skips them
    stats = run_mediapipe(corpus, workers=1, progress=False, video_ids=corpus.video_ids()[:2])
    assert stats['videos'] == 2 and stats['frames'] > 0 and 0 < stats['detected'] <= stats['frames']
    for video_id in corpus.video_ids()[:2]:
        pose = corpus.read_pose(video_id)
        gt_frames = np.load(corpus.path('gt_pose', video_id + '.npz'))['frames']
        np.testing.assert_array_equal(pose.frames, gt_frames)
        missed = ~np.isfinite(pose.keypoints).all(axis=(1, 2))
        assert (pose.scores[missed] == 0).all()
        assert (pose.scores[~missed] >= 0).all() and (pose.scores[~missed] <= 1).all()
    again = run_mediapipe(corpus, workers=1, progress=False, video_ids=corpus.video_ids()[:2])
    assert again['videos'] == 2 and again['written'] == 0 and again['skipped'] == 2


def test_missing_video_is_named(tmp_path):
    corpus = Corpus(str(tmp_path))
    with pytest.raises(CorpusFormatError, match='no videos with a track'):
        run_mediapipe(corpus, progress=False)
    with pytest.raises(SystemExit, match='nothing: folder: does not exist'):
        load_tool('tools/data/extract_pose_mediapipe.py').main([str(tmp_path / 'nothing')])
