"""FSJump6 converter on hand-written all.txt / segments.csv / val.ids.txt fixtures."""
from __future__ import annotations

import pytest

from vpd_mm.corpus import Action, Corpus
from vpd_mm.datasets.converters import FS_CLASSES, LabelFileError, prepare_corpus, routine_name
from vpd_mm.datasets.converters.fsjump6 import parse_hms, read_segments

from .conftest import data_dir, replace_line

R1 = 'men_olympic_short_program_2010_01_00011475_00015700'
R2 = 'men_olympic_short_program_2010_06_00072025_00076250'
R3 = 'women_world_short_program_2017_03_00045500_00049750'
R4 = 'men_world_short_program_2018_11_00176550_00180875'

EXPECTED = [  # hand-checked from tests/data/fsjump6 (R4 is a 2018 routine -> test; val.ids.txt names 2 jumps)
    Action(f'{R1}:925:972', R1, 925, 972, 'axel', 'val'),
    Action(f'{R1}:1400:1450', R1, 1400, 1450, 'toe_loop', 'train'),
    Action(f'{R2}:1175:1225', R2, 1175, 1225, 'toe_loop', 'val'),
    Action(f'{R2}:859:901', R2, 859, 901, 'lutz', 'train'),
    Action(f'{R3}:409:437', R3, 409, 437, 'axel', 'train'),
    Action(f'{R3}:846:878', R3, 846, 878, 'flip', 'train'),
    Action(f'{R4}:656:692', R4, 656, 692, 'toe_loop', 'test'),
    Action(f'{R4}:1492:1524', R4, 1492, 1524, 'axel', 'test'),
]


def test_routine_naming():
    # reference example: 0:07:39 -> 459 s -> frame 11475; (0:10:27 + 1 s) -> 628 s -> frame 15700
    assert parse_hms('0:07:39') == 459 and parse_hms('1:57:42') == 7062
    assert routine_name('men_olympic_short_program_2010', 1, 459, 627) == R1
    routines = read_segments(data_dir('fsjump6') + '/segments.csv')
    assert sorted(routines) == sorted([R1, R2, R3, R4])
    assert routines[R4] == dict(video='men_world_short_program_2018', order=11, start_frame=176550, end_frame=180875)


def test_convert_fixture(tmp_path):
    summary = prepare_corpus('fsjump6', data_dir('fsjump6'), str(tmp_path / 'fs'))
    corpus = Corpus(str(tmp_path / 'fs'))
    assert corpus.read_actions() == EXPECTED
    meta = corpus.read_meta()
    assert (meta.sport, meta.classes, meta.fps, meta.max_fps, meta.min_pose_score) == \
        ('fsjump6', ['axel', 'lutz', 'flip', 'loop', 'salchow', 'toe_loop'], 25.0, 25.0, 0.5)
    assert FS_CLASSES == meta.classes
    assert meta.extra['split_counts'] == summary.split_counts == {'train': 4, 'val': 2, 'test': 2}
    assert sorted(meta.extra['routines']) == sorted([R1, R2, R3, R4])
    assert (meta.extra['height'], meta.extra['width']) == (1080, 1920)
    with open(corpus.path('annotations', 'classes.txt')) as f:
        assert f.read().split('\n')[:-1] == FS_CLASSES
    assert summary.action_skips.total == 0


@pytest.mark.parametrize('line, text, message', [
    (3, f'{R2}:1175:1225 triple_axel', "all.txt:3: unknown class 'triple_axel'"),
    (2, f'{R1}:1400-1450 toe_loop', 'all.txt:2: expected "<routine>:<start>:<end> <label>"'),
    (4, f'{R2}:901:859 lutz', "all.txt:4: bad frames '901':'859'"),
    (5, 'women_world_short_program_2017_04_00054450_00058775:409:437 axel',
     "all.txt:5: routine 'women_world_short_program_2017_04_00054450_00058775' is not in segments.csv"),
    (1, f'{R1}:1400:1450 axel', 'all.txt:2: ' + f'{R1}:1400:1450 labelled ' + "'axel' earlier"),
])
def test_bad_label_lines(copy_labels, tmp_path, line, text, message):
    labels = copy_labels('fsjump6')
    replace_line(labels + '/all.txt', line, text)
    with pytest.raises(LabelFileError, match=message.replace('(', r'\(').replace(')', r'\)')):
        prepare_corpus('fsjump6', labels, str(tmp_path / 'fs'))


def test_duplicate_line_is_a_counted_skip(copy_labels, tmp_path):
    labels = copy_labels('fsjump6')
    replace_line(labels + '/all.txt', 6, f'{R3}:409:437 axel')  # line 6 repeats line 5
    summary = prepare_corpus('fsjump6', labels, str(tmp_path / 'fs'))
    assert summary.action_skips.counts == {'duplicate line in all.txt': 1}
    assert len(Corpus(str(tmp_path / 'fs')).read_actions()) == 7


def test_missing_and_bad_files(copy_labels, tmp_path):
    labels = copy_labels('fsjump6', exclude=('val.ids.txt',))
    with pytest.raises(LabelFileError, match=r"val\.ids\.txt: missing \(validation ids"):
        prepare_corpus('fsjump6', labels, str(tmp_path / 'a'))
    labels = copy_labels('fsjump6')
    replace_line(labels + '/segments.csv', 3, 'men_olympic_short_program_2010,6,0:48:0x,0:50:49,0:02:48')
    with pytest.raises(LabelFileError, match=r"segments\.csv:3: bad row"):
        prepare_corpus('fsjump6', labels, str(tmp_path / 'b'))
    with open(labels + '/segments.csv', 'w') as f:
        f.write('video,order,start\n')
    with pytest.raises(LabelFileError, match=r"segments\.csv:1: header lacks \['end'\]"):
        prepare_corpus('fsjump6', labels, str(tmp_path / 'c'))


def test_unknown_val_id_and_wrong_sport(copy_labels, tmp_path):
    labels = copy_labels('fsjump6')
    with open(labels + '/val.ids.txt', 'a') as f:
        f.write(f'\n{R1}:1:2')
    with pytest.raises(LabelFileError, match=r'val\.ids\.txt: 1 ids are not jumps of all\.txt'):
        prepare_corpus('fsjump6', labels, str(tmp_path / 'fs'))
    prepare_corpus('fsjump6', data_dir('fsjump6'), str(tmp_path / 'fs'))
    with pytest.raises(ValueError, match="holds a 'fsjump6' corpus, not 'diving48'"):
        prepare_corpus('diving48', data_dir('diving48'), str(tmp_path / 'fs'))
