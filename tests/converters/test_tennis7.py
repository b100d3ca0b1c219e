"""Tennis7 converter on hand-written all.txt / val.ids.txt / tennis.video_meta.pkl fixtures."""
from __future__ import annotations

import pytest

from vpd_mm.corpus import Action, Corpus
from vpd_mm.datasets.converters import TENNIS7_CLASSES, LabelFileError, prepare_corpus
from vpd_mm.datasets.converters.fewshot_lists import read_excluded
from vpd_mm.datasets.converters.tennis7 import parse_clip_name

from .conftest import data_dir, replace_line

M = 'usopen_2019_mens_final_medvedev_nadal'
W = 'wimbledon_2019_mens_semifinal_federer_nadal'

# Point clips of tennis.video_meta.pkl: M_1348_2256, M_2200_2800, M_3000_3500, W_1200_1650. Each action is the
# contact frame relative to the first clip (by start) containing it; 2230 lies in both M_1348_2256 and
# M_2200_2800 -> the first one, frame 2230 - 1348 = 882. W is a test match; val.ids.txt names front:1530.
EXPECTED = [
    Action(f'{M}:back:1460', f'back__{M}_1348_2256', 112, 113, 'forehand_topspin', 'train'),
    Action(f'{M}:front:1530', f'front__{M}_1348_2256', 182, 183, 'backhand_slice', 'val'),
    Action(f'{M}:front:2230', f'front__{M}_1348_2256', 882, 883, 'backhand_topspin', 'train'),
    Action(f'{M}:back:2700', f'back__{M}_2200_2800', 500, 501, 'forehand_slice', 'train'),
    Action(f'{M}:front:3100', f'front__{M}_3000_3500', 100, 101, 'forehand_volley', 'train'),
    Action(f'{M}:back:3150', f'back__{M}_3000_3500', 150, 151, 'overhead', 'train'),
    Action(f'{W}:front:1237', f'front__{W}_1200_1650', 37, 38, 'forehand_topspin', 'test'),
    Action(f'{W}:back:1300', f'back__{W}_1200_1650', 100, 101, 'backhand_volley', 'test'),
]


def test_convert_fixture(tmp_path):
    summary = prepare_corpus('tennis7', data_dir('tennis7'), str(tmp_path / 'tn'))
    corpus = Corpus(str(tmp_path / 'tn'))
    assert corpus.read_actions() == EXPECTED
    meta = corpus.read_meta()
    assert meta.classes == TENNIS7_CLASSES == ['forehand_topspin', 'forehand_slice', 'backhand_topspin',
                                               'backhand_slice', 'forehand_volley', 'backhand_volley', 'overhead']
    assert (meta.sport, meta.min_pose_score, meta.max_fps) == ('tennis7', 0.7, 25.0)
    assert read_excluded(corpus) == {f'{M}:front:1400': 'label serve is not a Tennis7 class',
                                     f'{M}:back:2900': 'no point clip contains the contact frame',
                                     f'{M}:back:100062': 'label nonshot is not a Tennis7 class'}
    assert summary.action_skips.counts == {'no point clip contains the contact frame': 1}
    # both players of all 4 clips are corpus videos, with the clips' rates from tennis.video_meta.pkl
    assert len(meta.extra['video_fps']) == 8
    assert meta.extra['video_fps'][f'back__{M}_2200_2800'] == 29.97
    assert meta.extra['video_fps'][f'front__{W}_1200_1650'] == 25.0
    assert meta.extra['frame_size_source'] == 'reference video_meta.pkl'


def test_clips_from_published_pose_folders(copy_labels, tmp_path):
    # without tennis.video_meta.pkl and videos, the clip names come from the pose folders (back__<clip>)
    labels = copy_labels('tennis7', exclude=('tennis.video_meta.pkl', 'published_pose'))
    with pytest.raises(ValueError, match='tennis7: no point clip names'):
        prepare_corpus('tennis7', labels, str(tmp_path / 'a'))
    summary = prepare_corpus('tennis7', labels, str(tmp_path / 'b'), tracks=[data_dir('tennis7') + '/published_pose'])
    actions = Corpus(str(tmp_path / 'b')).read_actions()
    assert [a.id for a in actions] == [f'{M}:back:1460', f'{M}:front:1530', f'{M}:front:2230']
    assert summary.action_skips.counts == {'no point clip contains the contact frame': 6}  # 2700 .. W:1300
    assert Corpus(str(tmp_path / 'b')).video_ids() == [f'back__{M}_1348_2256']


def test_parse_clip_name():
    assert parse_clip_name(f'{M}_1348_2256') == (M, 1348, 2256)
    assert parse_clip_name('front__x') is None and parse_clip_name('a_b_c') is None


@pytest.mark.parametrize('text, message', [
    (f'{M}:left:1460 forehand_topspin', "all.txt:2: unknown player 'left'"),
    (f'{M}:back:14x0 forehand_topspin', "all.txt:2: bad contact frame '14x0'"),
    (f'{M}:back:1460 forehand_lob', "all.txt:2: unknown label 'forehand_lob'"),
    (f'{M}:back:1460', 'all.txt:2: expected "<match>:<player>:<frame> <label>"'),
])
def test_bad_lines(copy_labels, tmp_path, text, message):
    labels = copy_labels('tennis7')
    replace_line(labels + '/all.txt', 2, text)
    with pytest.raises(LabelFileError, match=message):
        prepare_corpus('tennis7', labels, str(tmp_path / 'tn'))
