"""Converted corpora exported to mmaction2's PoseDataset (the ST-GCN / MS-G3D input): imported poses, per-video
frame sizes and the per-sport windows."""
from __future__ import annotations

import numpy as np

from vpd_mm.corpus import Corpus, PoseTrack
from vpd_mm.datasets import corpus_to_pose_dataset, write_pose_dataset
from vpd_mm.datasets.converters import prepare_corpus

from .conftest import data_dir

R1 = 'men_olympic_short_program_2010_01_00011475_00015700'


def _fill_poses(corpus: Corpus, value: float = 5.0) -> None:
    """A constant pose on frames 0..1999 of every action video that has none."""
    for video_id in sorted({a.video_id for a in corpus.read_actions()}):
        if video_id not in corpus.list_ids('pose', '.npz'):
            n = 2000
            corpus.write_pose(video_id, PoseTrack(np.arange(n, dtype=np.int32), np.full((n, 17, 2), value),
                                                  np.full((n, 17), 0.6), np.tile([0, 0, 10, 10], (n, 1))))


def test_imported_published_poses_reach_the_pose_dataset(tmp_path):
    out = str(tmp_path / 'fs')
    prepare_corpus('fsjump6', data_dir('fsjump6'), out, tracks=[data_dir('fsjump6') + '/published_pose'])
    corpus = Corpus(out)
    _fill_poses(corpus)
    data = write_pose_dataset(corpus, str(tmp_path / 'fs.pkl'))
    ann = next(a for a in data['annotations'] if a['frame_dir'] == f'{R1}:925:972')
    assert (ann['label'], ann['total_frames'], ann['img_shape']) == (0, 47, (1080, 1920))
    assert f'{R1}:925:972' in data['split']['val'] and len(data['split']['test']) == 2
    kp, sc = ann['keypoint'][0], ann['keypoint_score'][0]
    j = np.arange(17)
    np.testing.assert_allclose(kp[0], np.stack([100 + 2 * j, 200 + 7 * j], 1))      # frame 925
    np.testing.assert_allclose(kp[1], np.stack([102 + 2 * j, 201 + 7 * j], 1))      # frame 926
    assert not kp[2:4].any() and not sc[2:4].any()   # 927 (no detection: NaN) and 928 (not tracked) -> absent
    assert sc[4, 0] == 1.0 and not kp[5:].any()      # 929 (score clipped), then no pose after the fixture's frames

    from mmaction.datasets import PoseDataset
    val = PoseDataset(ann_file=str(tmp_path / 'fs.pkl'), pipeline=[], split='val')
    assert sorted(val[i]['frame_dir'] for i in range(len(val))) == sorted(data['split']['val'])


def test_sport_windows_and_per_video_sizes(tmp_path):
    out = str(tmp_path / 'tn')
    prepare_corpus('tennis7', data_dir('tennis7'), out)
    corpus = Corpus(out)
    _fill_poses(corpus)
    meta = corpus.read_meta()
    video = 'back__usopen_2019_mens_final_medvedev_nadal_1348_2256'
    meta.extra['video_size'] = {video: [720, 1280]}
    corpus.write_meta(meta)
    plain = {a['frame_dir']: a for a in corpus_to_pose_dataset(corpus)['annotations']}
    windows = {a['frame_dir']: a for a in corpus_to_pose_dataset(corpus, window='sport')['annotations']}
    swing = 'usopen_2019_mens_final_medvedev_nadal:back:1460'  # contact frame 112 of a 29.97 fps clip
    assert plain[swing]['total_frames'] == 1 and plain[swing]['img_shape'] == (720, 1280)
    # [int(112 - 0.5 x 29.97), int(112 + 0.5 x 29.97)) = [97, 126)
    assert windows[swing]['total_frames'] == 29 and windows[swing]['keypoint'].shape == (1, 29, 17, 2)
    assert (windows[swing]['keypoint'] == 5.0).all()
    test_swing = 'wimbledon_2019_mens_semifinal_federer_nadal:front:1237'  # contact 37 at 25 fps: [24, 49)
    assert windows[test_swing]['total_frames'] == 25 and windows[test_swing]['img_shape'] == (1080, 1920)
