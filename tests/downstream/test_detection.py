"""The detection protocol: video selection, folds, thresholds, and tools/detect.py end to end."""
from __future__ import annotations

import os.path as osp

import numpy as np
import pytest
from conftest import run_python

from downstream.conftest import ONE_THREAD, SYNTH_DETECTION, load_tool, loader_options, read_json
from vpd_mm.corpus import CorpusFormatError
from vpd_mm.protocols.detection import default_thresholds, kfold_videos, select_detection_videos


def test_select_detection_videos(pose2d_corpus, tmp_path):
    train, test = select_detection_videos(pose2d_corpus)
    assert train == [f'tiny_{i:03d}' for i in range(7)] and test == ['tiny_007', 'tiny_008']
    few = select_detection_videos(pose2d_corpus, num_videos=3, trial=1, seed=0)[0]
    assert len(few) == 3 and set(few) <= set(train)
    assert few == select_detection_videos(pose2d_corpus, num_videos=3, trial=1, seed=0)[0]
    draws = {tuple(select_detection_videos(pose2d_corpus, num_videos=3, trial=t, seed=0)[0]) for t in range(5)}
    assert len(draws) > 1
    listed = tmp_path / 'train.localize.0.txt'
    listed.write_text('tiny_004\ntiny_001\ntiny_006')
    assert select_detection_videos(pose2d_corpus, num_videos=2, video_list=str(listed))[0] == ['tiny_004',
                                                                                                'tiny_001']
    listed.write_text('tiny_004\ntiny_008\n')
    with pytest.raises(CorpusFormatError, match=r"not training videos .* \['tiny_008'\]"):
        select_detection_videos(pose2d_corpus, video_list=str(listed))
    listed.write_text('')
    with pytest.raises(CorpusFormatError, match='the video list is empty'):
        select_detection_videos(pose2d_corpus, video_list=str(listed))


def test_kfold_videos():
    videos = [f'v{i}' for i in range(7)]
    folds = kfold_videos(videos, 5, seed=0)
    assert len(folds) == 5 and sorted(v for f in folds for v in f) == videos
    assert sorted(len(f) for f in folds) == [1, 1, 1, 2, 2]
    assert folds == kfold_videos(videos, 5, seed=0) != kfold_videos(videos, 5, seed=1)
    assert len(kfold_videos(videos[:3], 5, seed=0)) == 3  # one fold per video when there are fewer
    with pytest.raises(ValueError, match='at least 2 training videos'):
        kfold_videos(['v0'], 5, seed=0)


def test_default_thresholds():
    np.testing.assert_allclose(default_thresholds('fsjump6'), np.linspace(0.1, 0.9, 9))
    np.testing.assert_allclose(default_thresholds('tennis7'), np.linspace(0.05, 0.5, 10))


@pytest.mark.slow
def test_detect_tool_end_to_end(pose2d_corpus, tmp_path):
    work = str(tmp_path / 'det')
    result = run_python(['tools/detect.py', SYNTH_DETECTION, '--folds', '2', '--seed', '0', '--work-dir', work,
                         *loader_options(pose2d_corpus.root), 'train_cfg.max_epochs=6'], env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    doc = read_json(osp.join(work, 'detection.json'))
    assert osp.getsize(osp.join(work, 'detection.png')) > 1000
    assert doc['task'] == 'detection' and doc['folds'] == 2 and doc['features'] == 'teacher/pose2d'
    assert [float(t) for t in doc['ap']] == [0.3, 0.4, 0.5, 0.6, 0.7]
    assert all(0.0 <= v <= 1.0 for v in doc['ap'].values())
    assert doc['test_videos'] == ['tiny_007', 'tiny_008'] and doc['num_gt'] == 4
    assert not set(doc['test_videos']) & set(doc['train_videos'])
    # the threshold is the validation folds' best, and only validation APs were used to choose it
    assert doc['threshold'] in default_thresholds('synthetic')
    assert doc['val_map'][str(doc['threshold'])] == max(doc['val_map'].values())
    assert doc['mean_length'] == 16.0
    for fold in range(2):
        assert osp.isfile(osp.join(work, f'fold_{fold}', 'scores.npz'))


def test_detect_tool_bad_input_is_a_one_line_error(pose2d_corpus, tmp_path):
    detect = load_tool('detect')
    listed = tmp_path / 'videos.txt'
    listed.write_text('tiny_001\ntiny_007\n')
    with pytest.raises(SystemExit, match=r"^error: .*videos.txt: ids: 1 ids are not training videos"):
        detect.main([SYNTH_DETECTION, '--video-list', str(listed), '--work-dir', str(tmp_path / 'w'),
                     *loader_options(pose2d_corpus.root)])
    with pytest.raises(SystemExit, match=r'^error: --video-list .*nope.txt does not exist$'):
        detect.main([SYNTH_DETECTION, '--video-list', str(tmp_path / 'nope.txt')])
