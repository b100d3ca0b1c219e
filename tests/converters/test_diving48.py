"""Diving48 converter on hand-written V2 label JSON / vocabulary fixtures."""
from __future__ import annotations

import json

import pytest

from vpd_mm.corpus import Action, Corpus
from vpd_mm.datasets.converters import LabelFileError, prepare_corpus

from .conftest import data_dir

NAMES = ['Back 15som 05Twis FREE', 'Back 15som 15Twis FREE', 'Back 15som 25Twis FREE', 'Back 15som NoTwis PIKE',
         'Back 15som NoTwis TUCK']
NATIVE = [  # (vid_name, class, end_frame, split) of Diving48_V2_train.json then Diving48_V2_test.json
    ('-mmq0PT-u8k_00089', 0, 52, 'train'), ('-mmq0PT-u8k_00090', 0, 47, 'train'),
    ('0fRkbZjzQmQ_00001', 0, 60, 'train'), ('0fRkbZjzQmQ_00002', 1, 38, 'train'),
    ('0fRkbZjzQmQ_00003', 1, 75, 'train'), ('1x7aJhW8d1s_00010', 1, 41, 'train'),
    ('1x7aJhW8d1s_00011', 3, 66, 'train'), ('1x7aJhW8d1s_00012', 3, 29, 'train'),
    ('9Zc0pX4_aWs_00005', 0, 33, 'test'), ('9Zc0pX4_aWs_00006', 1, 58, 'test'), ('9Zc0pX4_aWs_00007', 4, 44, 'test'),
]


def test_convert_fixture(tmp_path):
    prepare_corpus('diving48', data_dir('diving48'), str(tmp_path / 'd'), val_fraction=0)
    corpus = Corpus(str(tmp_path / 'd'))
    assert corpus.read_actions() == [Action(v, v, 0, end, NAMES[c], s) for v, c, end, s in NATIVE]
    meta = corpus.read_meta()
    assert meta.classes == NAMES and meta.sport == 'diving48' and meta.min_pose_score == 0.5
    assert meta.extra['classes_without_actions'] == ['Back 15som 25Twis FREE']
    assert (meta.extra['height'], meta.extra['width']) == (480, 640)
    assert meta.extra['val_split'].startswith('none')


def test_carved_validation_is_seeded_and_from_train_only(tmp_path):
    def carve(seed: int, out: str) -> list[Action]:
        prepare_corpus('diving48', data_dir('diving48'), str(tmp_path / out), val_fraction=0.34, seed=seed)
        return Corpus(str(tmp_path / out)).read_actions()

    first = carve(3, 'a')
    assert carve(3, 'b') == first
    val = [a for a in first if a.split == 'val']
    # per class round(0.34 n): class 0 (3 train) -> 1, class 1 (3) -> 1, class 3 (2) -> 1
    assert sorted(a.label for a in val) == [NAMES[0], NAMES[1], NAMES[3]]
    native = {v: s for v, _, _, s in NATIVE}
    assert all(native[a.id] == 'train' for a in val)
    assert [a.id for a in first if a.split == 'test'] == [v for v, _, _, s in NATIVE if s == 'test']
    assert len({a.id for a in first}) == len(first) == 11  # every action in exactly one split
    others = {tuple(a.id for a in carve(seed, f's{seed}') if a.split == 'val') for seed in range(4, 10)}
    assert len(others | {tuple(a.id for a in val)}) > 1


@pytest.mark.parametrize('entry, message', [
    ({'vid_name': 'x_1', 'label': 5, 'start_frame': 0, 'end_frame': 9}, 'entry 1: label 5 of x_1 outside the 5'),
    ({'vid_name': 'x_1', 'label': 2, 'start_frame': 9, 'end_frame': 9}, 'entry 1: need 0 <= start_frame < end_frame'),
    ({'vid_name': 'x_1', 'label': 2, 'start_frame': 0}, 'entry 1: expected vid_name, label, start_frame, end_frame'),
    ({'vid_name': '-mmq0PT-u8k_00089', 'label': 2, 'start_frame': 0, 'end_frame': 9},
     'entry 1: clip -mmq0PT-u8k_00089 is also listed in Diving48_V2_train.json'),
])
def test_bad_entries(copy_labels, tmp_path, entry, message):
    labels = copy_labels('diving48')
    with open(labels + '/Diving48_V2_test.json') as f:
        data = json.load(f)
    data[1] = entry
    with open(labels + '/Diving48_V2_test.json', 'w') as f:
        json.dump(data, f)
    with pytest.raises(LabelFileError, match=r'Diving48_V2_test\.json:' + message.replace('(', r'\(')):
        prepare_corpus('diving48', labels, str(tmp_path / 'd'))


def test_bad_vocabulary(copy_labels, tmp_path):
    labels = copy_labels('diving48')
    with open(labels + '/Diving48_vocab.json', 'w') as f:
        f.write('[["Back", "15som"], ["Back", "15som"]')
    with pytest.raises(LabelFileError, match=r'Diving48_vocab\.json: not valid JSON'):
        prepare_corpus('diving48', labels, str(tmp_path / 'd'))
    with open(labels + '/Diving48_vocab.json', 'w') as f:
        f.write('[["Back", "15som"], ["Back", "15som"]]')
    with pytest.raises(LabelFileError, match=r"Diving48_vocab\.json:entry 1: duplicate class 'Back 15som'"):
        prepare_corpus('diving48', labels, str(tmp_path / 'd'))
