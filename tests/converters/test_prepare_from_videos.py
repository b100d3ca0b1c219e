"""tools/data/prepare_videos.py: any folder of videos (and an actions CSV) as a corpus; resumable."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from vpd_mm.corpus import Corpus
from vpd_mm.datasets.converters import LabelFileError, prepare_videos, read_actions_csv, video_meta
from vpd_mm.datasets.converters.fewshot_lists import read_excluded
from vpd_mm.datasets.converters.videos import parse_time

from .conftest import load_tool


def _write_video(path: str, frames: int, fps: float, size: tuple[int, int] = (32, 24)) -> None:
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), (i * 5) % 255, np.uint8))
    writer.release()


@pytest.fixture
def videos(tmp_path) -> str:
    folder = tmp_path / 'my videos'
    folder.mkdir()
    _write_video(str(folder / 'run_a.mp4'), 40, 25.0)
    _write_video(str(folder / 'run_b.mp4'), 60, 30.0, (48, 32))
    _write_video(str(folder / 'run_c.avi'), 30, 25.0)
    (folder / 'broken.mp4').write_bytes(b'\x00no video' * 8)
    (folder / 'notes.txt').write_text('ignored')
    return str(folder)


def _csv(tmp_path, text: str) -> str:
    path = tmp_path / 'actions.csv'
    path.write_text(text)
    return str(path)


def test_parse_time_frames_and_seconds():
    assert parse_time('12', 25.0, False) == 12
    assert parse_time('1.2s', 25.0, False) == 30 and parse_time('0.5', 30.0, True) == 15
    with pytest.raises(ValueError, match='whole frame number'):
        parse_time('2.5', 25.0, False)
    with pytest.raises(ValueError):
        parse_time('-1', 25.0, False)


def test_videos_and_csv_make_a_corpus(videos, tmp_path, monkeypatch):
    csv_path = _csv(tmp_path, 'video,start,end,label,split\n'
                    'run_a.mp4,5,20,jump,train\n'
                    'run_a,20,45,spin,test\n'           # ends past frame 40: cut at 40
                    'run_b,1.0s,1.5s,jump\n'            # 30 fps: frames 30..45, default split train
                    '# a comment\n\n'
                    'run_c,0,10,spin,val\n'
                    'missing,0,10,jump,train\n'         # no such video: left out, counted
                    'broken,0,10,jump,train\n')         # unreadable video: left out
    out = str(tmp_path / 'corpus')
    summary = prepare_videos(videos, out, actions_csv=csv_path, progress=False)
    corpus = Corpus(out)
    meta = corpus.read_meta()
    assert meta.sport == 'videos' and meta.classes == ['jump', 'spin'] and meta.fps == 25.0
    assert meta.extra['videos'] == ['run_a', 'run_b', 'run_c']
    assert meta.extra['video_fps'] == {'run_a': 25.0, 'run_b': 30.0, 'run_c': 25.0}
    assert meta.extra['video_size'] == {'run_b': [32, 48]} and (meta.extra['height'], meta.extra['width']) == (24, 32)
    assert meta.extra['video_frames'] == {'run_a': 40, 'run_b': 60, 'run_c': 30}
    actions = {a.id: a for a in corpus.read_actions()}
    assert sorted(actions) == ['run_a:20-45', 'run_a:5-20', 'run_b:30-45', 'run_c:0-10']
    assert (actions['run_a:20-45'].end, actions['run_a:20-45'].split) == (40, 'test')
    assert (actions['run_b:30-45'].start, actions['run_b:30-45'].split) == (30, 'train')
    assert summary.clamped == 1 and summary.action_skips.total == 2
    assert read_excluded(corpus) == {'broken': 'video unreadable', 'missing:0-10': 'video missing (not among the '
                                     'videos)', 'broken:0-10': 'video unreadable'}
    assert sorted(os.listdir(corpus.path('videos'))) == ['run_a.mp4', 'run_b.mp4', 'run_c.avi']
    assert os.path.realpath(corpus.video_path('run_c')) == os.path.join(videos, 'run_c.avi')
    assert corpus.read_id_list(corpus.path('annotations', 'classes.txt')) == ['jump', 'spin']

    # a rerun reads no video again (the probe cache answers) and gives the same corpus
    def no_probe(path):
        raise AssertionError(f'probed {path} again')
    monkeypatch.setattr(video_meta, 'probe_video', no_probe)
    again = prepare_videos(videos, out, actions_csv=csv_path, progress=False)
    assert sorted(again.videos) == ['run_a', 'run_b', 'run_c'] and Corpus(out).read_actions() == corpus.read_actions()


def test_classes_order_and_files_list(videos, tmp_path):
    csv_path = _csv(tmp_path, 'run_a,0,10,spin\n')
    out = str(tmp_path / 'c2')
    files = [os.path.join(videos, 'run_a.mp4'), os.path.join(videos, 'run_c.avi')]
    summary = prepare_videos(files, out, actions_csv=csv_path, classes=['jump', 'spin', 'flip'], sport='mine',
                             default_split='test', progress=False)
    meta = Corpus(out).read_meta()
    assert sorted(summary.videos) == ['run_a', 'run_c'] and meta.classes == ['jump', 'spin', 'flip']
    assert meta.sport == 'mine' and Corpus(out).read_actions()[0].split == 'test'
    with pytest.raises(LabelFileError, match=r"labels \['spin'\] are not among"):
        prepare_videos(files, out, actions_csv=csv_path, classes=['jump'], progress=False)
    with pytest.raises(LabelFileError, match="holds a 'mine' corpus"):
        prepare_videos(files, out, sport='other', progress=False)
    bare = prepare_videos(files, str(tmp_path / 'c3'), progress=False)   # no CSV: no actions, no classes
    assert bare.actions == [] and Corpus(str(tmp_path / 'c3')).read_meta().classes == []


@pytest.mark.parametrize('text, problem', [
    ('run_a,0,10\n', r'actions.csv:1: expected video,start,end,label\[,split\], got 3 columns'),
    ('run_a,10,5,jump\n', r'actions.csv:1: end \(5\) must come after start \(10\)'),
    ('run_a,0,10,jump,holdout\n', r"actions.csv:1: unknown split 'holdout'"),
    ('video,start,end,label\nrun_a,0,2.5,jump\n', r"actions.csv:2: '2.5' is not a whole frame number"),
    ('run_a,0,10,jump\nrun_a,0,10,jump\n', r'actions.csv:2: duplicate action run_a:0-10'),
])
def test_bad_csv_rows_name_file_and_line(tmp_path, text, problem):
    from vpd_mm.datasets.converters import VideoInfo
    with pytest.raises(LabelFileError, match=problem):
        read_actions_csv(_csv(tmp_path, text), {'run_a': VideoInfo(25.0, 40, 32, 24)})


def test_tool_writes_the_corpus_and_reports_bad_input_in_one_line(videos, tmp_path, capsys):
    tool = load_tool('prepare_videos')
    out = str(tmp_path / 'tool')
    tool.main(['--videos', videos, '--out', out, '--actions', _csv(tmp_path, 'run_a,0,1s,jump\n')])
    printed = capsys.readouterr().out
    assert '3 videos, 1 classes, 1 actions (train 1, val 0, test 0)' in printed
    assert Corpus(out).read_actions()[0].end == 25
    with pytest.raises(SystemExit) as stop:
        tool.main(['--videos', videos, '--out', out, '--actions', str(tmp_path / 'nope.csv')])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == f'error: {tmp_path / "nope.csv"}: actions CSV does not exist'
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(SystemExit) as stop:
        tool.main(['--videos', str(empty), '--out', str(tmp_path / 'x')])
    assert stop.value.code == 2 and 'no readable video among 0 files' in capsys.readouterr().err
