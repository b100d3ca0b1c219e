"""The one error path of the tools (``vpd_mm.utils.cli``), corpus checks, stale temporaries and unreadable
checkpoints, on hand-made cases."""
from __future__ import annotations

import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch

from vpd_mm.compat import CheckpointReadError, UnsafeCheckpointError, load_checkpoint_file
from vpd_mm.corpus import Action, Corpus, CorpusFormatError, CorpusMeta, MissingStageError
from vpd_mm.corpus.atomic import atomic_write_bytes, remove_stale_temps, temp_prefix
from vpd_mm.utils.cli import InputError, ToolParser, fail, tool_main

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


# ------------------------------------------------------------------------------------------------ cli
def _tool():
    parser = ToolParser(description='x')
    parser.add_argument('path')

    @tool_main
    def main(argv=None):
        args = parser.parse_args(argv)
        raise InputError(args.path, 'is broken', hint='run fix.py first')
    return main


def test_input_error_becomes_one_line_and_status_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        _tool()(['data/x.json'])
    assert exit_.value.code == 2
    assert str(exit_.value) == 'error: data/x.json: is broken (run fix.py first)'
    assert capsys.readouterr().err == 'error: data/x.json: is broken (run fix.py first)\n'


def test_debug_flag_and_environment_show_the_traceback(monkeypatch):
    with pytest.raises(InputError, match='is broken'):
        _tool()(['data/x.json', '--debug'])
    monkeypatch.setenv('VPD_MM_DEBUG', '1')
    with pytest.raises(InputError):
        _tool()(['data/x.json'])
    monkeypatch.setenv('VPD_MM_DEBUG', '0')
    with pytest.raises(SystemExit):
        _tool()(['data/x.json'])


def test_bugs_keep_their_traceback():
    @tool_main
    def main(argv=None):
        raise KeyError('a bug')
    with pytest.raises(KeyError):
        main([])


def test_fail_folds_lines_and_adds_path_and_hint(capsys):
    with pytest.raises(SystemExit) as exit_:
        fail('two\nlines', path='a.pth', hint='do this')
    assert str(exit_.value) == 'error: a.pth: two lines (do this)' and exit_.value.code == 2


def test_every_tool_has_debug_and_the_error_wrapper():
    tools = [osp.join(d, f) for d in ('tools', 'tools/data') for f in os.listdir(osp.join(REPO, d))
             if f.endswith('.py')]
    assert len(tools) >= 25
    for tool in tools:
        text = open(osp.join(REPO, tool)).read()
        assert '@tool_main' in text, tool
        assert 'raise SystemExit(' not in text and 'argparse.ArgumentParser(' not in text, tool


def test_a_real_tool_prints_one_line_and_debug_prints_the_traceback(tmp_path):
    args = [sys.executable, 'tools/data/extract_crops.py', str(tmp_path / 'nowhere')]
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    plain = subprocess.run(args, cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert plain.returncode == 2 and 'Traceback' not in plain.stderr
    assert plain.stderr.strip().splitlines()[-1] == (
        f'error: {tmp_path / "nowhere"}: folder: does not exist (make one with tools/data/prepare_videos.py or a '
        'tools/data/prepare_<dataset>.py tool)')
    debug = subprocess.run(args + ['--debug'], cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert debug.returncode == 1 and 'Traceback (most recent call last)' in debug.stderr
    assert 'CorpusFormatError' in debug.stderr


# ------------------------------------------------------------------------------------------------ corpus
def _corpus(tmp_path, frames: int | None = 50) -> Corpus:
    corpus = Corpus(str(tmp_path / 'c'))
    extra = {'video_frames': {'v0': frames}} if frames else {}
    corpus.write_meta(CorpusMeta(sport='s', classes=['a', 'b'], extra=extra))
    return corpus


def test_open_checks_folder_meta_and_version(tmp_path):
    with pytest.raises(CorpusFormatError, match='folder: does not exist'):
        Corpus.open(str(tmp_path / 'none'))
    os.makedirs(tmp_path / 'empty')
    with pytest.raises(CorpusFormatError, match='meta.json: file: missing: this folder is not a corpus'):
        Corpus.open(str(tmp_path / 'empty'))
    corpus = _corpus(tmp_path)
    assert Corpus.open(corpus.root).read_meta().classes == ['a', 'b']
    meta = json.load(open(corpus.path('meta.json')))
    json.dump({**meta, 'format_version': 2}, open(corpus.path('meta.json'), 'w'))
    with pytest.raises(CorpusFormatError, match='format_version: this vpd_mm reads version 1, the file has 2'):
        Corpus.open(corpus.root)


def test_require_names_the_tool(tmp_path):
    corpus = _corpus(tmp_path)
    with pytest.raises(MissingStageError) as error:
        corpus.require('crops')
    assert error.value.tool == 'tools/data/extract_crops.py CORPUS'
    assert str(error.value) == f'{corpus.path("crops")}: folder: no crops (run tools/data/extract_crops.py CORPUS first)'
    os.makedirs(corpus.path('crops', '.v0.tmp1-x'))  # only a temporary: still missing
    with pytest.raises(MissingStageError):
        corpus.require('crops')
    os.makedirs(corpus.path('crops', 'v0'))
    corpus.require('crops')
    with pytest.raises(MissingStageError, match='tools/extract_features.py'):
        corpus.require('features/vi_vpd')


@pytest.mark.parametrize('start,end,problem', [(-5, 10, 'start: negative frame -5'),
                                               (10, 51, "end: frame 51 is past the end of video 'v0' (50 frames"),
                                               (10, 10, 'start/end: need integer frames with start < end')])
def test_actions_are_validated_in_full(tmp_path, start, end, problem):
    corpus = _corpus(tmp_path)
    with pytest.raises(CorpusFormatError, match=problem.replace('(', r'\(')):
        corpus.write_actions([Action('x', 'v0', start, end, 'a', 'train')])


def test_actions_up_to_the_last_frame_and_of_unknown_length_pass(tmp_path):
    corpus = _corpus(tmp_path)
    corpus.write_actions([Action('x', 'v0', 0, 50, 'a', 'train'), Action('y', 'v1', 0, 10_000, 'b', 'test')])
    assert [a.end for a in corpus.read_actions()] == [50, 10_000]


# ------------------------------------------------------------------------------------------------ temporaries
def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True,
                          text=True).stdout.strip()
    folder = tmp_path / 'out'
    folder.mkdir()
    (folder / f'.v0.npz.tmp{dead}-abc').write_bytes(b'partial')
    (folder / f'.v1.tmp{dead}-x').mkdir()
    (folder / f'.v1.tmp{dead}-x' / 'data.raw').write_bytes(b'partial')
    (folder / f'.v2.npz.tmp{dead}-video.mp4').write_bytes(b'partial')
    live = folder / f'.v3.npz.tmp{os.getpid()}-abc'  # a write in progress (this process)
    live.write_bytes(b'writing')
    (folder / 'v4.npz').write_bytes(b'done')
    (folder / '.hidden').write_bytes(b'not ours')
    assert remove_stale_temps(str(folder)) == 3
    assert sorted(os.listdir(folder)) == sorted([live.name, 'v4.npz', '.hidden'])
    assert remove_stale_temps(str(tmp_path / 'missing')) == 0


def test_atomic_writes_use_the_named_temporaries(tmp_path, monkeypatch):
    seen = []
    atomic_write_bytes(str(tmp_path / 'a.json'), lambda f: seen.append(os.listdir(tmp_path)) or f.write(b'{}'))
    assert seen[0][0].startswith(temp_prefix(str(tmp_path / 'a.json')))
    assert os.listdir(tmp_path) == ['a.json']


# ------------------------------------------------------------------------------------------------ checkpoints
def test_unreadable_checkpoints_are_one_line_errors(tmp_path):
    good = tmp_path / 'good.pth'
    torch.save({'w': torch.arange(3.0)}, good)
    data = good.read_bytes()
    cases = {'empty.pth': b'', 'half.pth': data[:len(data) // 2], 'noise.pth': np.random.default_rng(0).bytes(999),
             'text.pth': b'hello\n'}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointReadError) as error:
            load_checkpoint_file(str(tmp_path / name))
        assert str(error.value).startswith(f'{tmp_path / name}: ') and '\n' not in str(error.value)
        assert isinstance(error.value, InputError)
    assert torch.equal(load_checkpoint_file(str(good))['w'], torch.arange(3.0))
    legacy = tmp_path / 'legacy.pth'
    torch.save({'w': torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    assert torch.equal(load_checkpoint_file(str(legacy))['w'], torch.ones(2))


def test_legacy_checkpoint_with_code_is_refused_not_run(tmp_path):
    marker = tmp_path / 'MARKER'

    class Planted:
        def __reduce__(self):
            return os.system, (f'touch {marker}',)
    path = tmp_path / 'evil.pth'
    torch.save({'x': Planted()}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(UnsafeCheckpointError, match='posix.system'):
        load_checkpoint_file(str(path))
    assert not marker.exists()
