"""The video stage of the converters (decord probing, video set, links, resume) and the prepare tools."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from vpd_mm.corpus import Corpus
from vpd_mm.datasets.converters import prepare_corpus
from vpd_mm.datasets.converters import video_meta
from vpd_mm.datasets.converters.fewshot_lists import read_excluded

from .conftest import data_dir, load_tool


def _write_video(path: str, frames: int, fps: float, size: tuple[int, int] = (32, 24)) -> None:
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), (i * 3) % 255, np.uint8))
    writer.release()


@pytest.fixture
def diving_videos(tmp_path) -> str:
    """Videos for the Diving48 fixture: one missing, one too short, one corrupt, one at 30 fps, one larger."""
    folder = tmp_path / 'videos'
    folder.mkdir()
    lengths = {'-mmq0PT-u8k_00089': 52, '-mmq0PT-u8k_00090': 47, '0fRkbZjzQmQ_00001': 60, '0fRkbZjzQmQ_00002': 38,
               '0fRkbZjzQmQ_00003': 70,  # the label says end_frame 75
               '1x7aJhW8d1s_00010': 41, '1x7aJhW8d1s_00011': 66, '9Zc0pX4_aWs_00005': 33, '9Zc0pX4_aWs_00006': 58}
    for name, frames in lengths.items():
        _write_video(str(folder / f'{name}.mp4'), frames, 30.0 if name == '-mmq0PT-u8k_00089' else 25.0,
                     (48, 32) if name == '0fRkbZjzQmQ_00001' else (32, 24))
    (folder / '1x7aJhW8d1s_00012.mp4').write_bytes(b'\x00not a video' * 10)
    (folder / 'notes.txt').write_text('not a video file')
    return str(folder)                                            # 9Zc0pX4_aWs_00007 has no video


def test_video_stage(diving_videos, tmp_path, monkeypatch):
    out = str(tmp_path / 'd')
    summary = prepare_corpus('diving48', data_dir('diving48'), out, videos_dir=diving_videos, val_fraction=0)
    corpus = Corpus(out)
    assert len(corpus.read_actions()) == 8
    assert read_excluded(corpus) == {'0fRkbZjzQmQ_00003': 'ends past the last frame of its video (70 frames)',
                                     '1x7aJhW8d1s_00012': 'video unreadable',
                                     '9Zc0pX4_aWs_00007': 'video missing (not in --videos)'}
    assert summary.video_skips.total == 1 and '1x7aJhW8d1s_00012.mp4: unreadable video' in \
        next(iter(summary.video_skips.counts))
    extra = corpus.read_meta().extra
    assert len(extra['video_fps']) == 9 and extra['video_fps']['-mmq0PT-u8k_00089'] == 30.0
    assert {v for k, v in extra['video_fps'].items() if k != '-mmq0PT-u8k_00089'} == {25.0}
    assert (extra['height'], extra['width'], extra['frame_size_source']) == (24, 32, 'videos')
    assert extra['video_size'] == {'0fRkbZjzQmQ_00001': [32, 48]}
    links = sorted(os.listdir(corpus.path('videos')))
    assert len(links) == 9 and corpus.video_path('0fRkbZjzQmQ_00003').endswith('0fRkbZjzQmQ_00003.mp4')
    assert os.path.realpath(corpus.video_path('0fRkbZjzQmQ_00002')) == os.path.join(diving_videos,
                                                                                      '0fRkbZjzQmQ_00002.mp4')
    # a second run reads nothing again: the probe cache answers (a probe now would fail the test)
    def no_probe(path):
        raise AssertionError(f'probed {path} again')
    monkeypatch.setattr(video_meta, 'probe_video', no_probe)
    again = prepare_corpus('diving48', data_dir('diving48'), out, videos_dir=diving_videos, val_fraction=0)
    assert Corpus(out).read_actions() == corpus.read_actions() and again.videos_linked == 9


def test_tennis_clip_videos_link_both_players(tmp_path, copy_labels):
    labels = copy_labels('tennis7', exclude=('tennis.video_meta.pkl',))
    folder = tmp_path / 'videos'
    folder.mkdir()
    _write_video(str(folder / 'usopen_2019_mens_final_medvedev_nadal_1348_2256.mp4'), 190, 30.0)
    corpus = Corpus(str(tmp_path / 'tn'))
    prepare_corpus('tennis7', labels, corpus.root, videos_dir=str(folder))
    # contact frames 1460 and 1530 fall in the 190-frame clip (frames 112, 182); 2230 (frame 882) is past its end
    assert [a.id for a in corpus.read_actions()] == ['usopen_2019_mens_final_medvedev_nadal:back:1460',
                                                      'usopen_2019_mens_final_medvedev_nadal:front:1530']
    assert sorted(os.listdir(corpus.path('videos'))) == [
        'back__usopen_2019_mens_final_medvedev_nadal_1348_2256.mp4',
        'front__usopen_2019_mens_final_medvedev_nadal_1348_2256.mp4']


def test_prepare_tool(tmp_path, capsys, copy_labels):
    tool = load_tool('prepare_fsjump6')
    out = str(tmp_path / 'fs')
    tool.main(['--labels', data_dir('fsjump6'), '--out', out, '--tracks', data_dir('fsjump6') + '/published_pose'])
    printed = capsys.readouterr().out
    assert printed.startswith('fsjump6: 6 classes, 8 actions (train 4, val 2, test 2), 0 labelled items left out')
    assert '1 videos imported, 0 already present, 0 skipped' in printed
    tool.main(['--labels', data_dir('fsjump6'), '--out', out, '--tracks', data_dir('fsjump6') + '/published_pose'])
    assert '0 videos imported, 1 already present' in capsys.readouterr().out
    labels = copy_labels('fsjump6')
    with open(labels + '/all.txt', 'a') as f:
        f.write('\nmen_olympic_short_program_2010_01_00011475_00015700:10:20 quad_axel')
    with pytest.raises(SystemExit, match=r"^error: .*all\.txt:9: unknown class 'quad_axel'"):
        tool.main(['--labels', labels, '--out', out])
    with pytest.raises(SystemExit, match=r'^error: .*nowhere: labels folder does not exist'):
        load_tool('prepare_fx35').main(['--labels', str(tmp_path / 'nowhere'), '--out', str(tmp_path / 'x')])
