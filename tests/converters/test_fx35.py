"""FX35 converter on hand-written FineGym v1.1 fixtures (annotation JSON, Gym99 element lists, categories)."""
from __future__ import annotations

import pytest

from vpd_mm.corpus import Action, Corpus
from vpd_mm.datasets.converters import LabelFileError, element_frames, prepare_corpus
from vpd_mm.datasets.converters.fewshot_lists import read_excluded

from .conftest import data_dir, replace_line, write_reference_video_meta

E1 = '0LtLS9wROrk_E_000615_000710'
E2 = 'zWxuuGOJEm4_E_000100_000170'
FX_NAMES = ['switch leap with 0.5 turn', 'switch leap with 1 turn', 'salto forward tucked',
            'double salto backward stretched', 'double salto backward piked']  # Clabel 6, 7, 25, 31, 40

# 25 fps (no videos, no fx.video_meta.pkl): [floor(t0 * 25), ceil(t1 * 25) + 1)
EXPECTED_25 = [
    Action(f'{E1}_A_0003_0005', E1, 80, 136, FX_NAMES[0], 'train'),     # [3.2, 5.4] s
    Action(f'{E1}_A_0010_0012', E1, 250, 308, FX_NAMES[2], 'train'),    # [10.0, 12.28]
    Action(f'{E1}_A_0020_0022', E1, 513, 551, FX_NAMES[3], 'train'),    # [20.52, 22.0]
    Action(f'{E1}_A_0040_0042', E1, 1000, 1051, FX_NAMES[0], 'train'),  # [40.0, 42.0]
    Action(f'{E2}_A_0001_0002', E2, 28, 56, FX_NAMES[0], 'train'),      # [1.12, 2.2]: 2.2 x 25 = 55.00000000000001
    Action(f'{E2}_A_0050_0052', E2, 1250, 1301, FX_NAMES[0], 'train'),  # [50.0, 52.0]
    Action(f'{E1}_A_0030_0032', E1, 750, 801, FX_NAMES[4], 'test'),     # [30.0, 32.0]
    Action(f'{E2}_A_0040_0041', E2, 1002, 1039, FX_NAMES[2], 'test'),   # [40.1, 41.5] -> 1002.5, 1037.5
]


def test_element_frames():
    assert element_frames(3.2, 5.4, 25) == (80, 136)
    assert element_frames(3.2, 5.4, 29.97) == (95, 163)  # 95.904 -> 95, 161.838 -> 162 (+1, end exclusive)
    assert element_frames(1.12, 2.2, 25) == (28, 56)     # the float artefact 55.00000000000001 is not frame 56


def test_convert_fixture_without_videos(tmp_path):
    summary = prepare_corpus('fx35', data_dir('fx35'), str(tmp_path / 'fx'), val_fraction=0)
    corpus = Corpus(str(tmp_path / 'fx'))
    assert corpus.read_actions() == EXPECTED_25
    meta = corpus.read_meta()
    assert meta.classes == FX_NAMES and meta.extra['gym99_clabels'] == [6, 7, 25, 31, 40]
    assert meta.extra['fps_assumed_videos'] == 2 and 'fps unknown for 2 event videos' in summary.conversion.notes[0]
    assert read_excluded(corpus) == {
        '0LtLS9wROrk_E_001000_001050_A_0001_0003': 'Gym99 class 80 (UB) is not floor exercise',
        f'{E2}_A_0060_0062': 'no timestamps (element not in the annotation file)',
        'zWxuuGOJEm4_E_000300_000350_A_0001_0002': 'event type 3 is not floor exercise (2)'}
    assert summary.action_skips.counts == {'no timestamps in finegym_annotation_info_v1.1.json': 1,
                                           'labelled as a floor class but its event is not floor exercise': 1}


def test_fps_and_video_set_from_reference_cache(copy_labels, tmp_path):
    labels = copy_labels('fx35')
    write_reference_video_meta(labels + '/fx.video_meta.pkl', {E1: (29.97, 2900, 1280, 720)})
    summary = prepare_corpus('fx35', labels, str(tmp_path / 'fx'), val_fraction=0)
    actions = {a.id: a for a in Corpus(str(tmp_path / 'fx')).read_actions()}
    assert (actions[f'{E1}_A_0003_0005'].start, actions[f'{E1}_A_0003_0005'].end) == (95, 163)
    assert (actions[f'{E1}_A_0030_0032'].start, actions[f'{E1}_A_0030_0032'].end) == (899, 961)  # 899.1, 959.04 (+1)
    # the cache is the video set: E2 is not in it, so its 3 elements are left out
    assert sorted(actions) == sorted(a.id for a in EXPECTED_25 if a.video_id == E1)
    assert summary.action_skips.counts['video missing (not in video_meta.pkl)'] == 3
    assert Corpus(str(tmp_path / 'fx')).read_meta().extra['video_fps'] == {E1: 29.97}


def test_full_gym99_categories_keep_the_35_floor_classes(copy_labels, tmp_path):
    labels = copy_labels('fx35')
    events = ['VT'] * 6 + ['FX'] * 35 + ['BB'] * 33 + ['UB'] * 25  # Gym99: Clabel 0-5, 6-40, 41-73, 74-98
    with open(labels + '/gym99_categories.txt', 'w') as f:
        for clabel, event in enumerate(events):
            f.write(f'Clabel: {clabel:3d}; set: 1; Glabel: {clabel + 1:3d}; ({event}) element {clabel}\n')
    prepare_corpus('fx35', labels, str(tmp_path / 'fx'), val_fraction=0)
    meta = Corpus(str(tmp_path / 'fx')).read_meta()
    assert len(meta.classes) == 35 and meta.extra['gym99_clabels'] == list(range(6, 41))
    assert meta.classes[0] == 'element 6' and meta.classes[-1] == 'element 40'
    labels_used = {a.label for a in Corpus(str(tmp_path / 'fx')).read_actions()}
    assert labels_used == {'element 6', 'element 25', 'element 31', 'element 40'}


def test_carved_validation_split(tmp_path):
    def splits(seed: int, out: str) -> dict[str, str]:
        prepare_corpus('fx35', data_dir('fx35'), str(tmp_path / out), val_fraction=0.5, seed=seed)
        return {a.id: a.split for a in Corpus(str(tmp_path / out)).read_actions()}

    native = {a.id: a.split for a in EXPECTED_25}
    first = splits(0, 'a')
    assert splits(0, 'b') == first  # deterministic per seed
    val = {i for i, s in first.items() if s == 'val'}
    # class 'switch leap with 0.5 turn' has 4 training actions -> round(0.5 x 4) = 2 carved; the classes with one
    # training action keep it in train; test actions never move
    assert len(val) == 2 and all(native[i] == 'train' for i in val)
    assert {i for i, s in first.items() if s == 'test'} == {i for i, s in native.items() if s == 'test'}
    assert {i for i, s in first.items() if s == 'train'} == {i for i, s in native.items() if s == 'train'} - val
    carved = {frozenset(i for i, s in splits(seed, f's{seed}').items() if s == 'val') for seed in range(1, 8)}
    assert len(carved | {frozenset(val)}) > 1  # other seeds carve other subsets (6 possible pairs)
    meta = Corpus(str(tmp_path / 'a')).read_meta()
    assert meta.extra['val_split'].startswith('carved from train: round(0.5 x n)')


@pytest.mark.parametrize('name, line, text, message', [
    ('gym99_train_element_v1.1.txt', 2, f'{E1}_A_0010_0012 99', r'gym99_train_element_v1\.1\.txt:2: unknown Gym99 '
     r'label 99'),
    ('gym99_train_element_v1.1.txt', 3, f'{E1}_A_0020_0022', r'gym99_train_element_v1\.1\.txt:3: expected'),
    ('gym99_val_element.txt', 1, f'{E1}_A_0003_0005 6', r'gym99_val_element\.txt:1: .*_A_0003_0005 is also listed '
     r'in gym99_train_element_v1\.1\.txt'),
    ('gym99_categories.txt', 3, 'Clabel 7 (FX) switch leap', r'gym99_categories\.txt:3: expected "Clabel'),
])
def test_bad_lines(copy_labels, tmp_path, name, line, text, message):
    labels = copy_labels('fx35')
    replace_line(f'{labels}/{name}', line, text)
    with pytest.raises(LabelFileError, match=message):
        prepare_corpus('fx35', labels, str(tmp_path / 'fx'))


def test_bad_annotation_file(copy_labels, tmp_path):
    labels = copy_labels('fx35', exclude=('gym99_categories.txt',))
    with pytest.raises(LabelFileError, match=r"gym99_categories\.txt: missing \(Gym99 categories"):
        prepare_corpus('fx35', labels, str(tmp_path / 'fx'))
    labels = copy_labels('fx35')
    with open(labels + '/finegym_annotation_info_v1.1.json', 'w') as f:
        f.write('{"0LtLS9wROrk": {"E_000615_000710": {"event": 2, "segments": {"A_0003_0005": {"timestamps": 3}}}}}')
    with pytest.raises(LabelFileError, match=r"finegym_annotation_info_v1\.1\.json:\['0LtLS9wROrk'\]"
                       r"\['E_000615_000710'\]\[segments\]\['A_0003_0005'\]: expected \"timestamps\""):
        prepare_corpus('fx35', labels, str(tmp_path / 'fx'))
