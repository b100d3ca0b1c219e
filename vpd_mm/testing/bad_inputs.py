"""The bad-input catalogue: the wrong files a new user or an attacker can hand the tools, run as cases.

Every case copies a small valid workspace (:func:`build_workspace`: the tiny synthetic corpus with pose, crops,
flow, 2D-joint teacher features, a student, a BiGRU and a VIPE* checkpoint), breaks one thing in it, runs one
tool's ``main`` in this process and classifies what happened (:func:`run_case`):

- ``ok``: the expected outcome: exit status 2 with one ``error:`` line that names the bad file (``expect='error'``),
  or, for one bad video among good ones, the others written and the bad one counted and named
  (``expect='skip'``);
- ``traceback``: an exception escaped ``main`` (the user would see a Python traceback);
- ``silent``: exit status 0 where an error was due (the bad input was accepted or ignored);
- ``unclear``: an error, but not one line naming the file;
- ``code_executed``: planted code ran (it creates the workspace's ``MARKER`` file);
- ``data_lost``: a file that existed before the run was changed or removed;
- ``wrote``: an error case left new files in the corpus (outputs of a refused run).

The kill-and-rerun cases (:data:`KILL_CASES`, :func:`run_kill_case`) run a stage in a subprocess, kill it
(SIGKILL) once its first output exists, rerun it, and compare every output with an uninterrupted run.
``benchmarks/bad_inputs.py`` runs everything and prints the tally; ``tests/robustness/`` runs the same cases.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import os.path as osp
import pickle
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

__all__ = ['Workspace', 'Case', 'Outcome', 'CATALOGUE', 'KILL_CASES', 'build_workspace', 'run_case',
           'run_kill_case', 'tally', 'REPO']

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
"""The repository (tools are run from its ``tools/`` folder)."""

STUDENT_CONFIG = 'configs/vpd/2d_vpd_synthetic.py'
BIGRU_CONFIG = 'configs/recognition/bigru_pose2d_synthetic.py'
STGCN_CONFIG = 'configs/baselines/stgcn_coco2d_synthetic.py'
VIPE_SPEC = dict(type='VIPEEmbedder', embed_dim=8, hidden=16, num_blocks=1, dropout=0.0, decoder_hidden=8)
SCRATCH = 'scratch'  # work dirs and logs of a case (not part of the checked workspace)


# ------------------------------------------------------------------------------------------------ workspace
@dataclass
class Workspace:
    """One case's folder: ``corpus/`` (a valid corpus), checkpoints, ``MARKER`` (created by planted code).

    Args:
        root (str): the folder.
    """

    root: str

    def path(self, *parts: str) -> str:
        """A path inside the workspace."""
        return osp.join(self.root, *parts)

    @property
    def corpus(self) -> str:
        """The corpus folder."""
        return self.path('corpus')

    @property
    def marker(self) -> str:
        """The file planted code creates."""
        return self.path('MARKER')

    def loader_options(self, corpus: str | None = None) -> list[str]:
        """``--cfg-options`` pointing a synthetic config's three dataloaders at the corpus."""
        root = corpus or self.corpus
        return ['--cfg-options', *(f'{loader}.dataset.data_root={root}'
                                   for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'))]


class _Planted:
    """Pickles as a call of ``os.system('touch MARKER')``: unpickling it runs code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return os.system, (f'touch {self.marker}',)


def _build_model(cfg_model: dict):  # noqa: ANN202
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(dict(cfg_model))


def _config_model(config: str, **changes: object) -> dict:
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config))
    model = cfg.model.to_dict()
    model.update(changes)
    return model


def build_workspace(folder: str) -> Workspace:
    """Write the valid workspace every case starts from (about 10 s on 2 cores).

    ``corpus/``: the tiny synthetic corpus with ``pose/``, ``crops/``, ``flow/`` and ``teacher/pose2d``;
    ``student.pth`` (the 2D-VPD synthetic config's student), ``bigru.pth`` (its BiGRU), ``stgcn.pth`` (another
    model), ``vipe.pth`` (VIPE* with a data-only model description). Weights are freshly initialised: the
    cases test loading, not accuracy.
    """
    import torch

    from ..corpus import Corpus
    from ..engine.checkpoint import model_spec_json
    from ..pose import keypoint_score, pose2d_feature
    from ..corpus import FeatureTrack
    from .synthetic import add_crops_and_flow, make_tiny_corpus
    space = Workspace(folder)
    os.makedirs(folder, exist_ok=True)
    corpus = make_tiny_corpus(space.corpus, seed=0)
    add_crops_and_flow(corpus)
    for video_id, pose in Corpus(space.corpus).iter_pose():
        feats = np.stack([pose2d_feature(pose.keypoints), pose2d_feature(pose.keypoints, flip=True)], axis=1)
        corpus.write_features('teacher', 'pose2d', video_id,
                              FeatureTrack(pose.frames, feats, keypoint_score(pose.scores).astype(np.float32)))
    torch.manual_seed(0)
    for name, config in (('student', STUDENT_CONFIG), ('bigru', BIGRU_CONFIG), ('stgcn', STGCN_CONFIG)):
        model = _build_model(_config_model(config))
        torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 1}}, space.path(f'{name}.pth'))
    vipe = _build_model(VIPE_SPEC)
    torch.save({'state_dict': vipe.state_dict(), 'meta': {'model_spec': model_spec_json(VIPE_SPEC)}},
               space.path('vipe.pth'))
    return space


# ------------------------------------------------------------------------------------------------ bad files
def _write(path: str, data: bytes | str) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


def _edit_json(path: str, edit: Callable[[object], object]) -> str:
    with open(path) as f:
        data = json.load(f)
    return _write(path, json.dumps(edit(data)))


def _evil_checkpoint(space: Workspace, path: str, legacy: bool = False) -> str:
    import torch
    weights = torch.load(space.path('bigru.pth'), weights_only=True)
    weights['meta']['planted'] = _Planted(space.marker)
    torch.save(weights, path, _use_new_zipfile_serialization=not legacy)
    return path


def _plain_pickle(space: Workspace, path: str) -> str:
    return _write(path, pickle.dumps({'state_dict': {}, 'planted': _Planted(space.marker)}))


def _truncated(space: Workspace, path: str, source: str = 'bigru.pth') -> str:
    with open(space.path(source), 'rb') as f:
        data = f.read()
    return _write(path, data[:len(data) // 2])


def _first_video(space: Workspace) -> str:
    return sorted(os.listdir(osp.join(space.corpus, 'tracks')))[0][:-len('.json')]


def _remove(space: Workspace, *parts: str) -> None:
    path = osp.join(space.corpus, *parts)
    if osp.isdir(path):
        shutil.rmtree(path)
    elif osp.exists(path):
        os.remove(path)


# ------------------------------------------------------------------------------------------------ cases
@dataclass(frozen=True)
class Case:
    """One bad input.

    Args:
        name (str): what is wrong, for the tally.
        tool (str): the tool, relative to the repository (``tools/...py``).
        setup (Callable[[Workspace], list[str]]): breaks the workspace and returns the tool's argv.
        names (Callable[[Workspace], str]): the text (a file) the error line must contain.
        expect (str): ``'error'`` or ``'skip'`` (module docstring).
    """

    name: str
    tool: str
    setup: Callable[[Workspace], list[str]]
    names: Callable[[Workspace], str]
    expect: str = 'error'


@dataclass
class Outcome:
    """What one case did: ``verdict`` (module docstring), the exit status and the last stderr line."""

    case: str
    tool: str
    verdict: str
    exit_code: int | None
    message: str
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)


def _corpus_tools() -> list[tuple[str, Callable[[Workspace, str], list[str]]]]:
    """The tools that read a corpus, each with the argv that points it at one."""
    return [
        ('tools/data/extract_crops.py', lambda s, c: [c]),
        ('tools/data/extract_flow.py', lambda s, c: [c]),
        ('tools/data/extract_pose_mediapipe.py', lambda s, c: [c, '--workers', '1', '--no-progress']),
        ('tools/extract_teacher.py', lambda s, c: [c, '--teacher', 'pose2d', '--name', 'again']),
        ('tools/extract_features.py', lambda s, c: [STUDENT_CONFIG, s.path('student.pth'), '--corpus', c,
                                                    '--name', 'student']),
        ('tools/retrieve.py', lambda s, c: [c, '--name', 'pose2d', '--out', s.path(SCRATCH, 'r.json')]),
        ('tools/data/export_pose_dataset.py', lambda s, c: [c, '--out', s.path(SCRATCH, 'p.pkl')]),
        ('tools/teacher_pck.py', lambda s, c: [c, '--out', s.path(SCRATCH, 'pck.json')]),
    ]


def _meta_cases() -> list[Case]:
    cases = []
    for tool, argv in _corpus_tools():
        short = osp.basename(tool)
        cases += [
            Case(f'{short}: corpus folder does not exist', tool,
                 lambda s, a=argv: a(s, s.path('nowhere')), lambda s: s.path('nowhere')),
            Case(f'{short}: folder without meta.json', tool,
                 lambda s, a=argv: (_remove(s, 'meta.json'), a(s, s.corpus))[1],
                 lambda s: osp.join(s.corpus, 'meta.json')),
            Case(f'{short}: meta.json is not JSON', tool,
                 lambda s, a=argv: (_write(osp.join(s.corpus, 'meta.json'), '{"sport": '), a(s, s.corpus))[1],
                 lambda s: osp.join(s.corpus, 'meta.json')),
            Case(f'{short}: meta.json of another format version', tool,
                 lambda s, a=argv: (_edit_json(osp.join(s.corpus, 'meta.json'),
                                               lambda m: {**m, 'format_version': 99}), a(s, s.corpus))[1],
                 lambda s: osp.join(s.corpus, 'meta.json')),
        ]
    return cases


def _actions(space: Workspace, edit: Callable[[list], list]) -> None:
    _edit_json(osp.join(space.corpus, 'annotations', 'actions.json'), edit)


def _first_action(edit: Callable[[dict], dict]) -> Callable[[list], list]:
    return lambda actions: [edit(dict(actions[0])), *actions[1:]]


def _fewshot_argv(space: Workspace, *extra: str) -> list[str]:
    return [BIGRU_CONFIG, '--k', '1', '--trials', '1', '--method', 'dtw', '--work-dir', space.path(SCRATCH, 'fs'),
            *extra, *space.loader_options()]


def _test_argv(space: Workspace, checkpoint: str, config: str = BIGRU_CONFIG) -> list[str]:
    return [config, checkpoint, '--work-dir', space.path(SCRATCH, 'test'), *space.loader_options()]


def _action_cases() -> list[Case]:
    actions = lambda s: osp.join(s.corpus, 'annotations', 'actions.json')  # noqa: E731
    return [
        Case('fewshot.py: an action starts at frame -5', 'tools/fewshot.py',
             lambda s: (_actions(s, _first_action(lambda a: {**a, 'start': -5})), _fewshot_argv(s))[1], actions),
        Case('fewshot.py: an action ends past its video', 'tools/fewshot.py',
             lambda s: (_actions(s, _first_action(lambda a: {**a, 'end': 10_000})), _fewshot_argv(s))[1], actions),
        Case('fewshot.py: an action with start >= end', 'tools/fewshot.py',
             lambda s: (_actions(s, _first_action(lambda a: {**a, 'end': a['start']})), _fewshot_argv(s))[1],
             actions),
        Case('fewshot.py: actions.json is not JSON', 'tools/fewshot.py',
             lambda s: (_write(actions(s), '[{"id": '), _fewshot_argv(s))[1], actions),
        Case('fewshot.py: an action of an unknown class', 'tools/fewshot.py',
             lambda s: (_actions(s, _first_action(lambda a: {**a, 'label': 'quad_axel'})), _fewshot_argv(s))[1],
             actions),
        Case('fewshot.py: two actions with one id', 'tools/fewshot.py',
             lambda s: (_actions(s, lambda a: [*a, a[0]]), _fewshot_argv(s))[1], actions),
        Case('export_pose_dataset.py: an action starts at frame -5', 'tools/data/export_pose_dataset.py',
             lambda s: (_actions(s, _first_action(lambda a: {**a, 'start': -5})),
                        [s.corpus, '--out', s.path(SCRATCH, 'p.pkl')])[1], actions),
        Case('fewshot.py: a few-shot list naming unknown actions', 'tools/fewshot.py',
             lambda s: (_write(s.path('lists', '1_0.txt'), 'no_such_action\n'),
                        _fewshot_argv(s, '--fewshot-dir', s.path('lists')))[1], lambda s: s.path('lists', '1_0.txt')),
    ]


def _stage_cases() -> list[Case]:
    return [
        Case('extract_crops.py: no tracks/', 'tools/data/extract_crops.py',
             lambda s: (_remove(s, 'tracks'), _remove(s, 'crops'), [s.corpus])[2],
             lambda s: osp.join(s.corpus, 'tracks')),
        Case('extract_flow.py: no crops/', 'tools/data/extract_flow.py',
             lambda s: (_remove(s, 'crops'), _remove(s, 'flow'), [s.corpus])[2],
             lambda s: osp.join(s.corpus, 'crops')),
        Case('extract_features.py: no crops/', 'tools/extract_features.py',
             lambda s: (_remove(s, 'crops'), [STUDENT_CONFIG, s.path('student.pth'), '--corpus', s.corpus,
                                              '--name', 'student'])[1], lambda s: osp.join(s.corpus, 'crops')),
        Case('extract_features.py: no flow/ for a student that uses flow', 'tools/extract_features.py',
             lambda s: (_remove(s, 'flow'), [STUDENT_CONFIG, s.path('student.pth'), '--corpus', s.corpus,
                                             '--name', 'student'])[1], lambda s: osp.join(s.corpus, 'flow')),
        Case('extract_teacher.py: no pose/', 'tools/extract_teacher.py',
             lambda s: (_remove(s, 'pose'), [s.corpus, '--teacher', 'pose2d', '--name', 'again'])[1],
             lambda s: osp.join(s.corpus, 'pose')),
        Case('extract_teacher.py: --concat of a missing feature set', 'tools/extract_teacher.py',
             lambda s: [s.corpus, '--concat', 'pose2d', 'features/nope', '--name', 'cat'],
             lambda s: osp.join(s.corpus, 'features', 'nope')),
        Case('fewshot.py: the config\'s feature set does not exist', 'tools/fewshot.py',
             lambda s: (_remove(s, 'teacher'), _fewshot_argv(s))[1], lambda s: osp.join(s.corpus, 'teacher')),
        Case('retrieve.py: the feature set does not exist', 'tools/retrieve.py',
             lambda s: [s.corpus, '--name', 'nope', '--out', s.path(SCRATCH, 'r.json')],
             lambda s: osp.join(s.corpus, 'features', 'nope')),
        Case('train.py: distillation without its teacher features', 'tools/train.py',
             lambda s: (_remove(s, 'teacher'), [STUDENT_CONFIG, '--work-dir', s.path(SCRATCH, 'train'),
                                                *s.loader_options(), 'train_cfg.max_epochs=1'])[1],
             lambda s: osp.join(s.corpus, 'teacher', 'pose2d')),
    ]


def _checkpoint_cases() -> list[Case]:
    def bad(path: str) -> Callable[[Workspace], str]:
        return lambda s: s.path(path)

    cases = []
    makers: list[tuple[str, Callable[[Workspace, str], str]]] = [
        ('a pickled os.system call (zip checkpoint)', _evil_checkpoint),
        ('a pickled os.system call (legacy format)', lambda s, p: _evil_checkpoint(s, p, legacy=True)),
        ('a plain pickle with code', _plain_pickle),
        ('random bytes', lambda s, p: _write(p, np.random.default_rng(0).bytes(4096))),
        ('a truncated file', _truncated),
        ('an empty file', lambda s, p: _write(p, b'')),
        ('a text file', lambda s, p: _write(p, 'not a checkpoint\n')),
    ]
    for what, make in makers:
        cases.append(Case(f'test.py: checkpoint is {what}', 'tools/test.py',
                          lambda s, m=make: _test_argv(s, m(s, s.path('bad.pth'))), bad('bad.pth')))
    for what, make in makers[:5:2]:
        cases.append(Case(f'extract_features.py: checkpoint is {what}', 'tools/extract_features.py',
                          lambda s, m=make: [STUDENT_CONFIG, m(s, s.path('bad.pth')), '--corpus', s.corpus,
                                             '--name', 'student'], bad('bad.pth')))
        cases.append(Case(f'extract_teacher.py --teacher vipe: checkpoint is {what}', 'tools/extract_teacher.py',
                          lambda s, m=make: [s.corpus, '--teacher', 'vipe', '--checkpoint', m(s, s.path('bad.pth'))],
                          bad('bad.pth')))
        cases.append(Case(f'train.py --resume: checkpoint is {what}', 'tools/train.py',
                          lambda s, m=make: [BIGRU_CONFIG, '--work-dir', s.path(SCRATCH, 'train'), '--resume',
                                             m(s, s.path('bad.pth')), *s.loader_options()], bad('bad.pth')))
    cases += [
        Case('test.py: checkpoint of another model (ST-GCN weights, BiGRU config)', 'tools/test.py',
             lambda s: _test_argv(s, s.path('stgcn.pth')), bad('stgcn.pth')),
        Case('test.py: checkpoint of the same model with other shapes', 'tools/test.py',
             lambda s: (_save_model(s, 'wide.pth', _config_model(BIGRU_CONFIG, hidden_channels=32)),
                        _test_argv(s, s.path('wide.pth')))[1], bad('wide.pth')),
        Case('test.py: checkpoint does not exist', 'tools/test.py',
             lambda s: _test_argv(s, s.path('missing.pth')), bad('missing.pth')),
        Case('extract_features.py: checkpoint of another model', 'tools/extract_features.py',
             lambda s: [STUDENT_CONFIG, s.path('bigru.pth'), '--corpus', s.corpus, '--name', 'student'],
             bad('bigru.pth')),
        Case('train.py: load_from a checkpoint of another model', 'tools/train.py',
             lambda s: [BIGRU_CONFIG, '--work-dir', s.path(SCRATCH, 'train'), *s.loader_options(),
                        f'load_from={s.path("stgcn.pth")}', 'train_cfg.max_epochs=1'], bad('stgcn.pth')),
        Case('extract_teacher.py --teacher vipe: meta.cfg with code, no model description', 'tools/extract_teacher.py',
             lambda s: [s.corpus, '--teacher', 'vipe', '--checkpoint', _vipe_with(s, cfg=True)], bad('vipe_bad.pth')),
        Case('extract_teacher.py --teacher vipe: model description of a type off the allow-list',
             'tools/extract_teacher.py',
             lambda s: [s.corpus, '--teacher', 'vipe', '--checkpoint', _vipe_with(s, spec_type='os.system')],
             bad('vipe_bad.pth')),
        Case('extract_teacher.py --teacher vipe: checkpoint of another model', 'tools/extract_teacher.py',
             lambda s: [s.corpus, '--teacher', 'vipe', '--checkpoint', s.path('bigru.pth')], bad('bigru.pth')),
        Case('extract_flow.py --method raft: weights are random bytes', 'tools/data/extract_flow.py',
             lambda s: (_remove(s, 'flow'), [s.corpus, '--method', 'raft', '--raft-weights',
                                             _write(s.path('raft.pth'), np.random.default_rng(1).bytes(2048))])[1],
             bad('raft.pth')),
        Case('extract_flow.py --method raft: weights are a pickled os.system call', 'tools/data/extract_flow.py',
             lambda s: (_remove(s, 'flow'), [s.corpus, '--method', 'raft', '--raft-weights',
                                             _evil_checkpoint(s, s.path('raft.pth'))])[1], bad('raft.pth')),
    ]
    return cases


def _save_model(space: Workspace, name: str, cfg_model: dict) -> str:
    import torch
    torch.save({'state_dict': _build_model(cfg_model).state_dict(), 'meta': {}}, space.path(name))
    return space.path(name)


def _vipe_with(space: Workspace, cfg: bool = False, spec_type: str | None = None) -> str:
    import torch
    saved = torch.load(space.path('vipe.pth'), weights_only=True)
    meta = {}
    if cfg:
        meta['cfg'] = f'__import__("os").system("touch {space.marker}")\nmodel = {VIPE_SPEC!r}\n'
    if spec_type is not None:
        meta['model_spec'] = json.dumps({**VIPE_SPEC, 'type': spec_type})
    torch.save({'state_dict': saved['state_dict'], 'meta': meta}, space.path('vipe_bad.pth'))
    return space.path('vipe_bad.pth')


def _data_cases() -> list[Case]:
    def pose_file(s: Workspace) -> str:
        return osp.join(s.corpus, 'pose', _first_video(s) + '.npz')

    def object_pose(s: Workspace) -> list[str]:
        path = pose_file(s)
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        arrays['keypoints'] = np.array([_Planted(s.marker)], dtype=object)
        with open(path, 'wb') as f:
            np.savez(f, **arrays)
        return [s.corpus, '--teacher', 'pose2d', '--name', 'again']

    def wide_features(s: Workspace) -> list[str]:
        from ..corpus import Corpus, FeatureTrack
        corpus = Corpus(s.corpus)
        for video_id in corpus.feature_ids('teacher', 'pose2d'):
            track = corpus.read_features('teacher', 'pose2d', video_id)
            wide = np.concatenate([track.feats, track.feats, track.feats[..., :12]], axis=-1)
            corpus.write_features('teacher', 'pose2d', video_id, FeatureTrack(track.frames, wide, track.scores))
        return [BIGRU_CONFIG, '--k', '1', '--trials', '1', '--work-dir', s.path(SCRATCH, 'fs'), *s.loader_options(),
                'train_cfg.max_epochs=1']

    def corrupt_video(s: Workspace) -> list[str]:
        video = osp.join(s.corpus, 'videos', _first_video(s) + '.mp4')
        with open(video, 'rb') as f:
            data = f.read()
        _write(video, data[:len(data) // 3])
        _remove(s, 'crops')
        return [s.corpus]

    def bad_track(s: Workspace) -> list[str]:
        _write(osp.join(s.corpus, 'tracks', _first_video(s) + '.json'), '[[0, 1, 2]]')
        _remove(s, 'crops')
        return [s.corpus]

    def broken_crops(s: Workspace) -> list[str]:
        video = _first_video(s)
        _write(osp.join(s.corpus, 'crops', video, 'data.npy'), b'\x93NUMPY garbage')
        _remove(s, 'flow')
        return [s.corpus]

    def fsjump6(s: Workspace, pickle_name: str | None, tracks_pickle: bool = False) -> list[str]:
        labels = s.path('fsjump6_labels')
        shutil.copytree(osp.join(REPO, 'tests', 'data', 'fsjump6'), labels,
                        ignore=shutil.ignore_patterns('published_pose'))
        argv = ['--labels', labels, '--out', s.path(SCRATCH, 'fsjump6')]
        if pickle_name is not None:
            _write(osp.join(labels, pickle_name), pickle.dumps({'v': _Planted(s.marker)}))
        if tracks_pickle:
            argv += ['--tracks', _write(s.path('skeleton.pkl'), pickle.dumps({'annotations': [_Planted(s.marker)]}))]
        return argv

    first_video = lambda name: lambda s: osp.join(s.corpus, name, _first_video(s))  # noqa: E731
    return [
        Case('extract_teacher.py: a pose file holding a pickled object array', 'tools/extract_teacher.py',
             object_pose, pose_file, expect='skip'),
        Case('fewshot.py: 64-d features under a 26-d BiGRU config', 'tools/fewshot.py', wide_features,
             lambda s: osp.join(s.corpus, 'teacher', 'pose2d')),
        Case('extract_crops.py: one truncated video among good ones', 'tools/data/extract_crops.py', corrupt_video,
             lambda s: osp.join(s.corpus, 'videos', _first_video(s) + '.mp4'), expect='skip'),
        Case('extract_crops.py: one malformed track file', 'tools/data/extract_crops.py', bad_track,
             lambda s: osp.join(s.corpus, 'tracks', _first_video(s) + '.json'), expect='skip'),
        Case('extract_flow.py: one video with corrupt crops', 'tools/data/extract_flow.py', broken_crops,
             first_video('crops'), expect='skip'),
        Case('prepare_fsjump6.py: the reference video_meta.pkl holds code', 'tools/data/prepare_fsjump6.py',
             lambda s: fsjump6(s, 'fs.video_meta.pkl'), lambda s: s.path('fsjump6_labels', 'fs.video_meta.pkl')),
        Case('prepare_fsjump6.py: a skeleton .pkl holds code', 'tools/data/prepare_fsjump6.py',
             lambda s: fsjump6(s, None, tracks_pickle=True), lambda s: s.path('skeleton.pkl')),
        Case('prepare_fsjump6.py: the labels folder does not exist', 'tools/data/prepare_fsjump6.py',
             lambda s: ['--labels', s.path('nowhere'), '--out', s.path(SCRATCH, 'fsjump6')],
             lambda s: s.path('nowhere')),
    ]


def _argument_cases() -> list[Case]:
    return [
        Case('fewshot.py: config file does not exist', 'tools/fewshot.py',
             lambda s: ['configs/nope.py', '--work-dir', s.path(SCRATCH, 'fs')], lambda s: 'configs/nope.py'),
        Case('extract_crops.py: --size 2', 'tools/data/extract_crops.py', lambda s: [s.corpus, '--size', '2'],
             lambda s: '--size'),
        Case('extract_flow.py: --method raft without weights', 'tools/data/extract_flow.py',
             lambda s: [s.corpus, '--method', 'raft'], lambda s: '--raft-weights'),
        Case('extract_features.py: --batch-size 0', 'tools/extract_features.py',
             lambda s: [STUDENT_CONFIG, s.path('student.pth'), '--corpus', s.corpus, '--name', 'x',
                        '--batch-size', '0'], lambda s: '--batch-size'),
        Case('train.py: config file does not exist', 'tools/train.py',
             lambda s: ['configs/nope.py', '--work-dir', s.path(SCRATCH, 'train')], lambda s: 'configs/nope.py'),
    ]


CATALOGUE: list[Case] = [*_meta_cases(), *_action_cases(), *_stage_cases(), *_checkpoint_cases(), *_data_cases(),
                         *_argument_cases()]
"""Every bad input (see the module docstring)."""


# ------------------------------------------------------------------------------------------------ running
def _snapshot(folder: str) -> dict[str, str]:
    found = {}
    for parent, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if osp.join(parent, d) != osp.join(folder, SCRATCH)]
        for name in files:
            path = osp.join(parent, name)
            if osp.islink(path) or path == osp.join(folder, 'MARKER'):
                continue
            try:
                with open(path, 'rb') as f:
                    found[osp.relpath(path, folder)] = hashlib.sha1(f.read()).hexdigest()
            except FileNotFoundError:  # a temporary renamed by a running stage
                continue
    return found


def _has_output(folder: str) -> bool:
    """Whether a stage's output folder holds a finished (not hidden) entry."""
    return osp.isdir(folder) and any(not name.startswith('.') for name in os.listdir(folder))


_TOOLS: dict[str, object] = {}


def _tool(path: str):  # noqa: ANN202
    if path not in _TOOLS:
        full = osp.join(REPO, path)
        if not osp.isfile(full):
            raise FileNotFoundError(f'{full}: the catalogue runs the tools of a repository checkout')
        spec = importlib.util.spec_from_file_location('vpd_tool_' + osp.basename(path)[:-3], full)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        _TOOLS[path] = module
    return _TOOLS[path]


def _fresh_process_state() -> None:
    """Forget mmengine's per-process singletons (visualizer, message hub) of the previous case, as a new
    process would: a Runner built in the same second would otherwise reuse the last case's deleted folders."""
    from mmengine.logging import MessageHub
    from mmengine.visualization import Visualizer
    pending = [Visualizer, MessageHub]
    while pending:  # each subclass (mmaction2's ActionVisualizer, ...) keeps its own instances
        manager = pending.pop()
        manager._instance_dict.clear()
        pending += manager.__subclasses__()


def run_case(case: Case, base: Workspace, scratch: str) -> Outcome:
    """Copy ``base`` to ``scratch``, break it as ``case`` says, run the tool in this process, classify."""
    _fresh_process_state()
    if osp.exists(scratch):
        shutil.rmtree(scratch)
    shutil.copytree(base.root, scratch, symlinks=True)
    space = Workspace(scratch)
    os.makedirs(space.path(SCRATCH), exist_ok=True)
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        argv = case.setup(space)
        before = _snapshot(scratch)
        stderr, stdout = io.StringIO(), io.StringIO()
        begin = time.perf_counter()
        code: int | None = 0
        escaped = None
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            try:
                _tool(case.tool).main(list(argv))
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            except Exception as error:  # noqa: BLE001  (what the user would see as a traceback)
                escaped = error
        seconds = time.perf_counter() - begin
        after = _snapshot(scratch)
    finally:
        os.chdir(cwd)
    lines = [line for line in stderr.getvalue().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith('error: ')]
    message = errors[-1] if errors else (lines[-1] if lines else '')
    expected = case.names(space)
    changed = sorted(p for p, digest in before.items() if after.get(p) != digest)
    new = sorted(set(after) - set(before))
    details = []
    if escaped is not None:
        verdict, code, message = 'traceback', None, f'{type(escaped).__name__}: {escaped}'
    elif osp.exists(space.marker):
        verdict = 'code_executed'
    elif changed:
        verdict, details = 'data_lost', changed
    elif code == 0 and case.expect == 'error':
        verdict = 'silent'
    elif code != 2 or not errors or expected not in message or '\n' in message:
        verdict = 'unclear'
    elif case.expect == 'error' and new:
        verdict, details = 'wrote', new
    else:
        verdict = 'ok'
    return Outcome(case.name, case.tool, verdict, code, message[:400], seconds, details)


# ------------------------------------------------------------------------------------------------ kill and rerun
@dataclass(frozen=True)
class KillCase:
    """A per-video stage killed after its first output and rerun.

    Args:
        name (str): the stage.
        argv (Callable[[Workspace], list[str]]): the command (``python ARGV``), after clearing its outputs.
        outputs (tuple[str, ...]): its output folders, relative to the corpus.
    """

    name: str
    argv: Callable[[Workspace], list[str]]
    outputs: tuple[str, ...]


KILL_CASES: list[KillCase] = [
    KillCase('crops', lambda s: ['tools/data/extract_crops.py', s.corpus], ('crops',)),
    KillCase('flow', lambda s: ['tools/data/extract_flow.py', s.corpus], ('flow',)),
    KillCase('teacher pose2d', lambda s: ['tools/extract_teacher.py', s.corpus, '--teacher', 'pose2d', '--name',
                                          'again'], ('teacher/again',)),
    KillCase('student features', lambda s: ['tools/extract_features.py', STUDENT_CONFIG, s.path('student.pth'),
                                            '--corpus', s.corpus, '--name', 'student'], ('features/student',)),
    KillCase('MediaPipe pose', lambda s: ['tools/data/extract_pose_mediapipe.py', s.corpus, '--workers', '1',
                                          '--no-progress'], ('pose',)),
]
"""The per-video stages of a corpus, as their tools run them."""


def _tree(folder: str) -> dict[str, str]:
    return _snapshot(folder) if osp.isdir(folder) else {}


def run_kill_case(case: KillCase, base: Workspace, scratch: str, timeout: float = 300) -> Outcome:
    """Run ``case`` uninterrupted, then killed after its first output and rerun; ``ok`` when the rerun's outputs
    equal the uninterrupted run's byte for byte and no temporary file is left."""
    outputs: list[dict[str, str]] = []
    killed = False
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    begin = time.perf_counter()
    for interrupt in (False, True):
        if osp.exists(scratch):
            shutil.rmtree(scratch)
        shutil.copytree(base.root, scratch, symlinks=True)
        space = Workspace(scratch)
        for folder in case.outputs:
            _remove(space, folder)
        argv = [sys.executable, *case.argv(space)]
        if interrupt:
            process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            deadline = time.time() + timeout
            while process.poll() is None and time.time() < deadline:
                if any(_has_output(osp.join(space.corpus, f)) for f in case.outputs):
                    process.send_signal(signal.SIGKILL)
                    killed = True
                    break
                time.sleep(0.01)
            process.wait()
        result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, env=env, timeout=timeout)
        if result.returncode != 0:
            return Outcome(case.name, 'kill-and-rerun', 'traceback' if 'Traceback' in result.stderr else 'unclear',
                           result.returncode, result.stderr.strip().splitlines()[-1:][0] if result.stderr.strip()
                           else '', time.perf_counter() - begin)
        outputs.append({f'{f}/{k}': v for f in case.outputs for k, v in _tree(osp.join(space.corpus, f)).items()})
    leftovers = [p for p in outputs[1] if any(part.startswith('.') for part in p.split('/'))]
    same = outputs[0] == outputs[1]
    verdict = 'ok' if same and not leftovers and outputs[0] else 'data_lost'
    details = leftovers + sorted(set(outputs[0]) ^ set(outputs[1]))[:5]
    message = f'{"killed after the first output" if killed else "finished before the kill"}; ' \
              f'{len(outputs[1])} files, {"identical" if same else "different"} to an uninterrupted run'
    return Outcome(case.name, 'kill-and-rerun', verdict, 0, message, time.perf_counter() - begin, details)


def tally(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """``tried`` and the count of every verdict (0 for those that did not occur)."""
    verdicts = ('ok', 'traceback', 'silent', 'unclear', 'code_executed', 'data_lost', 'wrote')
    counts = {'tried': len(outcomes), **{v: 0 for v in verdicts}}
    for outcome in outcomes:
        counts[outcome.verdict] = counts.get(outcome.verdict, 0) + 1
    return counts
