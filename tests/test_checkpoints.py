"""No checkpoint runs code, and no checkpoint of another model produces numbers.

- VIPE*: the Python config text in a checkpoint's ``meta['cfg']`` is never executed (a planted one writes a marker
  file); the model is rebuilt from the user's config or from the JSON ``meta['model_spec']``, checked against an
  allow-list of types.
- Strict loading: ``tools/test.py``, ``tools/train.py`` (``load_from``), ``load_vipe_embedder`` and
  ``load_student`` refuse missing, unexpected or mis-shaped weights with one line naming the file (exit status 2
  for the tools, no traceback, no metrics); ``--partial-load`` / ``load_from_partial=True`` allows it.
"""
from __future__ import annotations

import glob
import json
import os.path as osp
import shutil

import pytest
import torch

import vpd_mm  # noqa: F401
from vpd_mm.compat import load_checkpoint_file
from vpd_mm.engine.checkpoint import (CheckpointMismatchError, checkpoint_mismatch, load_weights, model_spec_json,
                                      read_model_spec)

from conftest import REPO, STGCN_CONFIG, data_root_options, run_python
from teachers.helpers import call_tool

VIPE_CONFIG = osp.join(REPO, 'configs', 'vipe', 'vipe_mocap.py')
STUDENT_CONFIG = osp.join(REPO, 'configs', 'vpd', '2d_vpd_synthetic.py')
VIPE_SPEC = dict(type='VIPEEmbedder', embed_dim=8, hidden=16, num_blocks=1, dropout=0.0, decoder_hidden=8)


def _build(cfg_model: dict) -> torch.nn.Module:
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(dict(cfg_model))


def _planted_cfg(marker: str, spec: dict) -> str:
    """Config text that builds a valid model and, executed by ``Config.fromstring(text, '.py')`` (what
    ``load_vipe_embedder`` did), runs ``touch marker`` (test_planted_cfg_runs_when_executed)."""
    return f'__import__("os").system("touch {marker}")\nmodel = {spec!r}\n'


def test_planted_cfg_runs_when_executed(tmp_path):
    """The hole: mmengine executes config text; the planted text really runs (so the tests below mean it)."""
    from mmengine.config import Config
    marker = tmp_path / 'MARKER'
    assert Config.fromstring(_planted_cfg(str(marker), VIPE_SPEC), file_format='.py').model == VIPE_SPEC
    assert marker.exists()


def _vipe_checkpoint(path: str, weights: dict, cfg_text: str | None = None, spec: dict | None = None) -> str:
    meta: dict = {'epoch': 1}
    if cfg_text is not None:
        meta['cfg'] = cfg_text
    if spec is not None:
        meta['model_spec'] = json.dumps(spec)
    torch.save({'state_dict': weights, 'meta': meta}, path)
    return path


@pytest.fixture(scope='module')
def vipe_weights() -> dict:
    torch.manual_seed(0)
    return _build(VIPE_SPEC).state_dict()


@pytest.fixture()
def pose_corpus(tiny_corpus, tmp_path):
    """A corpus folder with the tiny corpus' meta and pose files (teacher outputs go into the copy)."""
    root = tmp_path / 'corpus'
    root.mkdir()
    shutil.copy(tiny_corpus.path('meta.json'), root / 'meta.json')
    shutil.copytree(tiny_corpus.path('pose'), root / 'pose')
    return str(root)


# ---------------------------------------------------------------------------------------------- VIPE*: no code
def test_planted_meta_cfg_is_never_executed(tmp_path, vipe_weights, pose_corpus):
    from vpd_mm.teachers.features import load_vipe_embedder
    marker = str(tmp_path / 'MARKER')
    # the config text alone (no data-only description): refused, not executed
    path = _vipe_checkpoint(str(tmp_path / 'planted.pth'), vipe_weights, cfg_text=_planted_cfg(marker, VIPE_SPEC))
    with pytest.raises(CheckpointMismatchError, match=r"no data-only model description.*never executed"):
        load_vipe_embedder(path, device='cpu')
    message = call_tool('tools/extract_teacher.py', [pose_corpus, '--teacher', 'vipe', '--checkpoint', path])
    assert message.startswith(f'error: {path}: no data-only model description')
    assert not osp.exists(marker)
    # the same file run as a subprocess: exit status 2, one line, no traceback, nothing written
    result = run_python(['tools/extract_teacher.py', pose_corpus, '--teacher', 'vipe', '--checkpoint', path])
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == message and 'Traceback' not in result.stderr
    assert not osp.exists(marker) and not osp.exists(osp.join(pose_corpus, 'teacher', 'vipe'))

    # with the data-only description the model is built from it; the planted text is still never executed
    path = _vipe_checkpoint(str(tmp_path / 'both.pth'), vipe_weights, cfg_text=_planted_cfg(marker, VIPE_SPEC),
                            spec=VIPE_SPEC)
    model = load_vipe_embedder(path, device='cpu')
    assert model.embed_dim == 8 and not model.training
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in vipe_weights.items())
    assert call_tool('tools/extract_teacher.py', [pose_corpus, '--teacher', 'vipe', '--checkpoint', path]) is None
    assert not osp.exists(marker)


def test_model_spec_is_checked_data(tmp_path, vipe_weights):
    from vpd_mm.teachers.features import load_vipe_embedder
    cases = [
        (dict(VIPE_SPEC, type='RecognizerGCN'), r"describes 'RecognizerGCN', expected one of \['VIPEEmbedder'\]"),
        (dict(VIPE_SPEC, data_preprocessor=dict(type='ActionDataPreprocessor')), 'non-scalar arguments '
         'data_preprocessor'),
        (dict(VIPE_SPEC, hidden='__import__("os")'), 'non-scalar arguments hidden'),
        (dict(VIPE_SPEC, no_such_argument=1), 'cannot build VIPEEmbedder'),
        ([VIPE_SPEC], "describes 'list'"),
    ]
    for index, (spec, match) in enumerate(cases):
        path = _vipe_checkpoint(str(tmp_path / f'{index}.pth'), vipe_weights, spec=spec)
        with pytest.raises(ValueError, match=match) as info:
            load_vipe_embedder(path, device='cpu')
        assert str(info.value).startswith(f'{path}: ') and '\n' not in str(info.value)
    torch.save({'state_dict': vipe_weights, 'meta': {'model_spec': 'model = dict(type="VIPEEmbedder")'}},
               str(tmp_path / 'text.pth'))
    with pytest.raises(ValueError, match='is not JSON'):
        read_model_spec(torch.load(str(tmp_path / 'text.pth')), 'text.pth', ['VIPEEmbedder'])


def test_model_spec_hook_writes_json_of_the_config_model(tmp_path):
    from mmengine.config import Config

    from vpd_mm.engine import ModelSpecHook
    cfg = Config.fromfile(VIPE_CONFIG)
    assert dict(type='ModelSpecHook') in cfg.custom_hooks  # every configs/vipe checkpoint carries it

    class Runner:
        pass
    runner = Runner()
    runner.cfg = cfg
    checkpoint: dict = {'meta': {'cfg': cfg.pretty_text}}
    ModelSpecHook().before_save_checkpoint(runner, checkpoint)
    spec = read_model_spec(checkpoint, 'x.pth', ['VIPEEmbedder'])
    assert spec == dict(type='VIPEEmbedder', embed_dim=64, hidden=1024, num_blocks=2, dropout=0.2)
    assert json.loads(model_spec_json(cfg.model)) == spec


def test_user_config_instead_of_the_description(tmp_path, vipe_weights):
    from vpd_mm.teachers.features import load_vipe_embedder
    config = tmp_path / 'vipe_small.py'
    config.write_text(f"_base_ = [{VIPE_CONFIG!r}]\nmodel = dict(embed_dim=8, hidden=16, num_blocks=1, "
                      "dropout=0.0, decoder_hidden=8)\n")
    path = _vipe_checkpoint(str(tmp_path / 'plain.pth'), vipe_weights)
    model = load_vipe_embedder(path, config=str(config), device='cpu')
    assert model.embed_dim == 8
    stgcn = _vipe_checkpoint(str(tmp_path / 'stgcn.pth'), vipe_weights)
    with pytest.raises(ValueError, match=r"stgcn_coco2d_synthetic.py: the model is 'RecognizerGCN'"):
        load_vipe_embedder(stgcn, config=STGCN_CONFIG, device='cpu')


def test_vipe_weights_must_fit(tmp_path, vipe_weights):
    from vpd_mm.teachers.features import load_vipe_embedder
    wider = _vipe_checkpoint(str(tmp_path / 'wider.pth'), vipe_weights, spec=dict(VIPE_SPEC, hidden=32))
    with pytest.raises(ValueError) as info:
        load_vipe_embedder(wider, device='cpu')
    message = str(info.value)
    assert message.startswith(f'{wider}: the weights do not fit VIPEEmbedder: shape mismatch: ')
    assert '(16, 39) in the checkpoint, (32, 39) in the model' in message and '\n' not in message
    weights = dict(vipe_weights)
    del weights['encoder.stem.0.weight']
    weights['extra.weight'] = torch.zeros(1)
    other = _vipe_checkpoint(str(tmp_path / 'other.pth'), weights, spec=VIPE_SPEC)
    with pytest.raises(ValueError, match=r'missing keys: encoder\.stem\.0\.weight; unexpected keys: extra\.weight'):
        load_vipe_embedder(other, device='cpu')


def test_checkpoint_mismatch_by_hand():
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    state = model.state_dict()
    assert checkpoint_mismatch(model, state) is None
    del state['1.num_batches_tracked']  # old checkpoints lack it; mmengine and torch ignore it too
    assert checkpoint_mismatch(model, state) is None
    state['0.weight'] = torch.zeros(4, 2)
    state['2.weight'] = torch.zeros(1)
    del state['0.bias']
    assert checkpoint_mismatch(model, state) == ('missing keys: 0.bias; unexpected keys: 2.weight; shape mismatch: '
                                                 '0.weight (4, 2) in the checkpoint, (3, 2) in the model')
    before = model.state_dict()['0.weight'].clone()
    with pytest.raises(CheckpointMismatchError, match=r'^f\.pth: the weights do not fit Sequential: missing'):
        load_weights(model, state, 'f.pth')
    assert torch.equal(model.state_dict()['0.weight'], before)  # nothing loaded
    many = {f'x{i}': torch.zeros(1) for i in range(5)}
    assert 'unexpected keys: x0, x1, x2, ... (5 in all)' in checkpoint_mismatch(model, {**model.state_dict(), **many})


# ---------------------------------------------------------------------------------------------- the student
def test_student_weights_must_fit(tmp_path):
    from mmengine.config import Config

    from vpd_mm.stages.student_features import load_student
    cfg = Config.fromfile(STUDENT_CONFIG)
    student = _build(cfg.model.backbone)
    weights = {f'backbone.{k}': v for k, v in student.state_dict().items()}
    good = str(tmp_path / 'good.pth')
    torch.save({'state_dict': weights}, good)
    loaded, _ = load_student(cfg, good)
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in student.state_dict().items())
    name, value = next((k, v) for k, v in weights.items() if v.dim() == 2)
    bad = str(tmp_path / 'bad.pth')
    torch.save({'state_dict': {**weights, name: torch.zeros(value.shape[0] + 1, value.shape[1])}}, bad)
    with pytest.raises(ValueError) as info:
        load_student(cfg, bad)
    assert str(info.value).startswith(f'{bad}: the weights do not fit ') and 'shape mismatch: ' in str(info.value)
    # the tool: exit status 2, one line naming the file, no traceback
    corpus = tmp_path / 'corpus'
    (corpus / 'crops' / 'v0').mkdir(parents=True)  # the tool checks the corpus and its crops first
    from vpd_mm.corpus import Corpus, CorpusMeta
    Corpus(str(corpus)).write_meta(CorpusMeta(sport='synthetic', classes=['a']))
    result = run_python(['tools/extract_features.py', STUDENT_CONFIG, bad, '--corpus', str(corpus), '--name', 'x'])
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1].startswith(f'error: {bad}: the weights do not fit ')
    assert 'Traceback' not in result.stderr


# ---------------------------------------------------------------------------------------------- tools/test.py
@pytest.fixture(scope='module')
def stgcn_weights() -> dict:
    from mmengine.config import Config
    torch.manual_seed(0)
    return _build(Config.fromfile(STGCN_CONFIG).model).state_dict()


def _metrics_written(work_dir: str) -> bool:
    for path in glob.glob(osp.join(work_dir, '**', '*'), recursive=True):
        if osp.isfile(path) and 'acc/top1' in open(path, errors='replace').read():
            return True
    return False


def test_test_tool_refuses_checkpoint_of_another_model(tiny_pose_dataset, tmp_path, vipe_weights):
    path = str(tmp_path / 'vipe.pth')
    torch.save({'state_dict': vipe_weights, 'meta': {}}, path)
    work = str(tmp_path / 'work')
    dump = str(tmp_path / 'pred.json')
    result = run_python(['tools/test.py', STGCN_CONFIG, path, '--work-dir', work, '--dump', dump,
                         *data_root_options(tiny_pose_dataset)])
    assert result.returncode == 2, result.stderr[-3000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f'error: {path}: the weights do not fit RecognizerGCN: missing keys: ')
    assert 'unexpected keys: encoder.' in line and line.endswith('--partial-load loads only the weights that fit')
    assert 'Traceback' not in result.stderr
    assert not osp.exists(dump) and not _metrics_written(work)


def test_test_tool_refuses_mismatched_shapes_unless_partial(tiny_pose_dataset, tmp_path, stgcn_weights):
    path = str(tmp_path / 'five_classes.pth')
    weights = dict(stgcn_weights, **{'cls_head.fc.weight': torch.zeros(5, 32), 'cls_head.fc.bias': torch.zeros(5)})
    torch.save({'state_dict': weights}, path)
    work = str(tmp_path / 'work')
    args = ['tools/test.py', STGCN_CONFIG, path, '--work-dir', work, *data_root_options(tiny_pose_dataset)]
    result = run_python(args)
    assert result.returncode == 2, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == (
        f'error: {path}: the weights do not fit RecognizerGCN: shape mismatch: cls_head.fc.weight (5, 32) in the '
        'checkpoint, (3, 32) in the model, cls_head.fc.bias (5,) in the checkpoint, (3,) in the model; '
        '--partial-load loads only the weights that fit')
    assert 'Traceback' not in result.stderr and not _metrics_written(work)
    # asked for: the weights that fit are loaded, the head stays random, and the test runs
    result = run_python([*args, '--partial-load'])
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'acc/top1' in result.stdout + result.stderr and _metrics_written(work)


# ---------------------------------------------------------------------------------------------- tools/train.py
def test_train_load_from_is_strict_unless_partial(tiny_pose_dataset, tmp_path, stgcn_weights):
    path = str(tmp_path / 'pretrained.pth')
    weights = {k: v for k, v in stgcn_weights.items() if not k.startswith('cls_head.')}
    torch.save({'state_dict': dict(weights, **{'cls_head.fc.weight': torch.zeros(7, 32)})}, path)
    work = str(tmp_path / 'work')
    options = data_root_options(tiny_pose_dataset)
    args = ['tools/train.py', STGCN_CONFIG, '--work-dir', work, '--seed', '0', *options, f'load_from={path}',
            'train_cfg.max_epochs=1']
    result = run_python(args)
    assert result.returncode == 2, result.stderr[-3000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f'error: {path}: the weights do not fit RecognizerGCN: missing keys: cls_head.fc.bias; '
                           'shape mismatch: cls_head.fc.weight (7, 32) in the checkpoint, (3, 32) in the model')
    assert 'Traceback' not in result.stderr and not glob.glob(osp.join(work, 'epoch_*.pth'))
    # fine-tuning: the config key allows partial loading (the --partial-load flag sets the same)
    result = run_python([*args, 'load_from_partial=True'])
    assert result.returncode == 0, result.stderr[-3000:]
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))
    trained = load_checkpoint_file(osp.join(work, 'epoch_1.pth'))['state_dict']
    assert trained['cls_head.fc.weight'].shape == (3, 32)
    # partial loading is for load_from only
    message = call_tool('tools/train.py', [STGCN_CONFIG, '--work-dir', work, '--resume', '--partial-load'])
    assert message == 'error: --partial-load (load_from_partial) is for load_from (fine-tuning), not for --resume'
