"""Where a teacher's frame scores come from: the pose file, the mirrored run, the neighbouring frames."""
from __future__ import annotations

import numpy as np
import pytest

from vpd_mm.corpus import CorpusFormatError, PoseTrack
from vpd_mm.pose import keypoint_score, mirror_agreement, temporal_agreement
from vpd_mm.stages.teacher_features import scored_pose, teacher_on_corpus
from vpd_mm.teachers.features import pose2d_teacher
from vpd_mm.testing import make_tiny_corpus


@pytest.fixture()
def corpus(tmp_path):
    return make_tiny_corpus(str(tmp_path / 'c'))


def test_scores_from_each_source(corpus):
    video = corpus.video_ids()[0]
    pose = corpus.read_pose(video)
    np.testing.assert_array_equal(scored_pose(corpus, video, 'pose').scores, pose.scores)
    np.testing.assert_array_equal(scored_pose(corpus, video, 'temporal').scores, temporal_agreement(pose.keypoints))
    with pytest.raises(CorpusFormatError, match='pose_mirror'):
        scored_pose(corpus, video, 'mirror')
    shifted = pose.keypoints.copy()
    shifted[::2, 9, 0] += 40.0  # the mirrored run disagrees on one wrist in every other frame
    corpus.write_pose(video, PoseTrack(pose.frames, shifted, pose.scores, pose.boxes), folder='pose_mirror')
    mirror = scored_pose(corpus, video, 'mirror').scores
    np.testing.assert_array_equal(mirror, mirror_agreement(pose.keypoints, shifted))
    assert (mirror[::2, 9] < 1).all() and (mirror[1::2] == 1).all()
    both = scored_pose(corpus, video, 'mirror_temporal').scores
    np.testing.assert_array_equal(both, np.minimum(mirror, temporal_agreement(pose.keypoints)))
    with pytest.raises(ValueError, match='unknown score'):
        scored_pose(corpus, video, 'visibility')


def test_teacher_scores_follow_the_chosen_source(corpus):
    result = teacher_on_corpus(corpus, 'pose2d_t', pose2d_teacher, score='temporal', progress=False)
    assert result['written'] == len(corpus.video_ids()) and result['errors'] == 0
    video = corpus.video_ids()[0]
    track = corpus.read_features('teacher', 'pose2d_t', video)
    expected = keypoint_score(temporal_agreement(corpus.read_pose(video).keypoints))
    np.testing.assert_allclose(track.scores, expected, rtol=1e-6)
    missing = teacher_on_corpus(corpus, 'pose2d_m', pose2d_teacher, score='mirror', progress=False)
    assert missing['errors'] == len(corpus.video_ids()) and 'pose_mirror' in missing['failed'][0]
