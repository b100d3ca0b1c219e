"""The few-shot protocol: seeded draws, id lists, aggregation, and tools/fewshot.py end to end."""
from __future__ import annotations

import os
import os.path as osp
from collections import Counter

import numpy as np
import pytest
from conftest import run_python

from downstream.conftest import ONE_THREAD, SYNTH_RECOGNITION, load_tool, loader_options, read_json
from vpd_mm.corpus import Action, CorpusFormatError, carve_validation, draw_fewshot, read_fewshot_ids
from vpd_mm.corpus.fewshot import fewshot_list_path
from vpd_mm.protocols.fewshot import aggregate_fewshot, run_seed


def _actions(counts: dict[str, int], split: str = 'train') -> list[Action]:
    return [Action(id=f'{split}_{label}_{i:02d}', video_id='v', start=i, end=i + 1, label=label, split=split)
            for label, n in counts.items() for i in range(n)]


ACTIONS = _actions(dict(a=10, b=3, c=6)) + _actions(dict(a=4, b=4, c=4), 'val') + _actions(dict(a=5, c=5), 'test')


def test_draw_k_per_class_all_when_fewer_never_val_or_test():
    ids = draw_fewshot(ACTIONS, k=4, trial=0, seed=0)
    by_id = {a.id: a for a in ACTIONS}
    assert Counter(by_id[i].label for i in ids) == dict(a=4, b=3, c=4)
    assert all(by_id[i].split == 'train' for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_draws_are_deterministic_per_k_trial_seed():
    assert draw_fewshot(ACTIONS, 4, 1, 7) == draw_fewshot(list(reversed(ACTIONS)), 4, 1, 7)
    draws = {(k, t, s): tuple(draw_fewshot(ACTIONS, k, t, s)) for k in (2, 4) for t in (0, 1, 2) for s in (0, 1)}
    assert len(set(draws.values())) >= 10  # different (k, trial, seed) give different subsets
    exclude = draw_fewshot(ACTIONS, 2, 0, 0)
    assert not set(draw_fewshot(ACTIONS, 4, 0, 0, exclude=exclude)) & set(exclude)


def test_carve_validation_is_stratified_and_seeded():
    val = carve_validation(ACTIONS, 0.2, seed=3)
    labels = Counter(i.split('_')[1] for i in val)
    assert labels == dict(a=2, b=1, c=1)  # round(0.2 n) of 10, 3, 6 training actions
    assert val == carve_validation(ACTIONS, 0.2, seed=3) and all(i.startswith('train_') for i in val)
    assert carve_validation(_actions(dict(a=1)), 0.5) == []  # a class keeps at least one training action


def test_read_fewshot_ids_checks_the_list(tmp_path):
    good = tmp_path / '4_0.txt'
    good.write_text('train_a_01\ntrain_b_02\n\ntrain_a_01')  # blank lines skipped, duplicates once, no last \n
    assert read_fewshot_ids(str(good), ACTIONS) == ['train_a_01', 'train_b_02']
    empty = tmp_path / 'empty.txt'
    empty.write_text('\n')
    with pytest.raises(CorpusFormatError, match='empty.txt: ids: the few-shot list is empty'):
        read_fewshot_ids(str(empty), ACTIONS)
    unknown = tmp_path / 'unknown.txt'
    unknown.write_text('train_a_01\nnot_an_action\n')
    with pytest.raises(CorpusFormatError, match=r"1 of 2 ids are not actions of the corpus, e.g. \['not_an_action'\]"):
        read_fewshot_ids(str(unknown), ACTIONS)
    held_out = tmp_path / 'test.txt'
    held_out.write_text('test_a_00\n')
    with pytest.raises(CorpusFormatError, match='val/test actions'):
        read_fewshot_ids(str(held_out), ACTIONS)
    with pytest.raises(CorpusFormatError, match='does not exist'):
        read_fewshot_ids(str(tmp_path / 'nope.txt'), ACTIONS)
    # the reference's published names are found too
    (tmp_path / 'train_8_1.ids.txt').write_text('train_a_01')
    assert fewshot_list_path(str(tmp_path), 8, 1) == str(tmp_path / 'train_8_1.ids.txt')
    assert fewshot_list_path(str(tmp_path), 4, 0) == str(good)


def test_aggregate_mean_and_population_std():
    runs = [dict(k=4, trial=t, acc=a, num_train=12) for t, a in enumerate([0.5, 0.7, 0.9])]
    runs.append(dict(k='all', trial=0, acc=0.95, num_train=19))
    out = aggregate_fewshot(runs)
    assert out['4']['mean'] == pytest.approx(0.7)
    assert out['4']['std'] == pytest.approx(np.sqrt(((0.2 ** 2) * 2) / 3))
    assert out['all'] == dict(accs=[0.95], trials=[0], num_train=[19], mean=0.95, std=0.0)
    assert run_seed(0, 4, 1) == run_seed(0, 4, 1) != run_seed(0, 4, 2)


@pytest.mark.slow
def test_fewshot_tool_bigru_end_to_end_and_resume(pose2d_corpus, tmp_path):
    work = str(tmp_path / 'fs')
    args = ['tools/fewshot.py', SYNTH_RECOGNITION, '--k', '2', 'all', '--trials', '2', '--seed', '0',
            '--work-dir', work, *loader_options(pose2d_corpus.root), 'train_cfg.max_epochs=20']
    result = run_python(args, env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    doc = read_json(osp.join(work, 'fewshot_bigru.json'))
    assert osp.getsize(osp.join(work, 'fewshot_bigru.png')) > 1000
    assert doc['task'] == 'recognition' and doc['method'] == 'bigru' and doc['features'] == 'teacher/pose2d'
    assert set(doc['results']) == {'2', 'all'}
    assert doc['results']['2']['num_train'] == [6, 6]  # 2 per class, 3 classes
    assert doc['results']['all']['num_train'] == [10, 10]
    for entry in doc['results'].values():
        assert len(entry['accs']) == 2
        assert entry['mean'] == pytest.approx(np.mean(entry['accs']))
    assert doc['results']['all']['mean'] > 0.6  # chance is 1/3 on the 4 test actions
    ids = open(osp.join(work, 'fewshot_ids', '2_0.txt')).read().split()
    assert len(ids) == 6 and all(i in {a.id for a in pose2d_corpus.read_actions('train')} for i in ids)
    # rerun: every (k, trial) is read back, nothing is trained again
    stamps = {p: os.stat(osp.join(work, 'results', p)).st_mtime_ns for p in os.listdir(osp.join(work, 'results'))}
    again = run_python(args, env=ONE_THREAD)
    assert again.returncode == 0, again.stderr[-3000:]
    assert {p: os.stat(osp.join(work, 'results', p)).st_mtime_ns for p in stamps} == stamps
    assert read_json(osp.join(work, 'fewshot_bigru.json'))['results'] == doc['results']


@pytest.mark.slow
def test_fewshot_tool_dtw_with_published_lists(pose2d_corpus, tmp_path):
    lists = tmp_path / 'lists'
    lists.mkdir()
    train = pose2d_corpus.read_actions('train')
    for trial in range(2):
        pose2d_corpus.write_id_list(str(lists / f'1_{trial}.txt'), draw_fewshot(train, 1, trial, seed=5))
    work = str(tmp_path / 'dtw')
    result = run_python(['tools/fewshot.py', SYNTH_RECOGNITION, '--k', '1', '--trials', '2', '--method', 'dtw',
                         '--fewshot-dir', str(lists), '--work-dir', work, *loader_options(pose2d_corpus.root)],
                        env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    doc = read_json(osp.join(work, 'fewshot_dtw.json'))
    assert doc['results']['1']['num_train'] == [3, 3]
    assert doc['results']['1']['mean'] > 0.6
    assert osp.isfile(osp.join(work, 'fewshot_dtw.png'))


def test_fewshot_tool_bad_lists_are_one_line_errors(pose2d_corpus, tmp_path):
    fewshot = load_tool('fewshot')
    lists = tmp_path / 'lists'
    lists.mkdir()
    (lists / '4_0.txt').write_text('')
    base = [SYNTH_RECOGNITION, '--k', '4', '--trials', '1', '--fewshot-dir', str(lists), '--work-dir',
            str(tmp_path / 'w'), *loader_options(pose2d_corpus.root)]
    with pytest.raises(SystemExit, match=r'^error: .*4_0.txt: ids: the few-shot list is empty$'):
        fewshot.main(base)
    (lists / '4_0.txt').write_text('tiny_000_0\nno_such_action\n')
    with pytest.raises(SystemExit, match=r"^error: .*4_0.txt: ids: 1 of 2 ids are not actions of the corpus"):
        fewshot.main(base)
    with pytest.raises(SystemExit, match=r'^error: config file nope.py does not exist$'):
        fewshot.main(['nope.py'])
