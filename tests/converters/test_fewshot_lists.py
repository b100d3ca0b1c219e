"""Import of published few-shot id lists into annotations/fewshot/, with their checks."""
from __future__ import annotations

import os
import shutil

import pytest

from vpd_mm.corpus import Corpus
from vpd_mm.datasets.converters import LabelFileError, import_fewshot_lists, prepare_corpus

from .conftest import data_dir, load_tool

R1 = 'men_olympic_short_program_2010_01_00011475_00015700'
R2 = 'men_olympic_short_program_2010_06_00072025_00076250'
R3 = 'women_world_short_program_2017_03_00045500_00049750'
R4 = 'men_world_short_program_2018_11_00176550_00180875'
M = 'usopen_2019_mens_final_medvedev_nadal'


@pytest.fixture
def fs_corpus(tmp_path) -> Corpus:
    prepare_corpus('fsjump6', data_dir('fsjump6'), str(tmp_path / 'fs'))
    return Corpus(str(tmp_path / 'fs'))


def _lists(tmp_path, **files: str) -> str:
    folder = tmp_path / 'lists'
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / f'{name}.ids.txt').write_text(text)
    return str(folder)


def test_import_published_lists(fs_corpus):
    result = import_fewshot_lists(fs_corpus, data_dir('fsjump6'))  # train_4_0 and train_4_1, no final newline
    assert sorted(result) == [(4, 0), (4, 1)]
    assert fs_corpus.read_id_list(fs_corpus.fewshot_path(4, 0)) == [f'{R1}:1400:1450', f'{R2}:859:901',
                                                                   f'{R3}:846:878']
    assert fs_corpus.read_id_list(fs_corpus.fewshot_path(4, 1)) == [f'{R3}:409:437', f'{R2}:859:901']
    assert result[(4, 0)][1] == 3 and result[(4, 0)][2].total == 0
    only = import_fewshot_lists(fs_corpus, [data_dir('fsjump6') + '/train_4_1.ids.txt'])
    assert list(only) == [(4, 1)]


@pytest.mark.parametrize('text, message', [
    (f'{R1}:1400:1450\n{R1}:925:972', rf"train_8_0\.ids\.txt:2: id '{R1}:925:972' is a val action"),
    (f'{R1}:1400:1450\n\n{R4}:656:692\n', rf"train_8_0\.ids\.txt:3: id '{R4}:656:692' is a test action"),
    (f'{R1}:1400:1451', rf"train_8_0\.ids\.txt:1: unknown id '{R1}:1400:1451'"),
    ('\n\n', r'train_8_0\.ids\.txt: no training action left in the list \(empty few-shot split'),
])
def test_bad_lists_are_errors_and_nothing_is_written(fs_corpus, tmp_path, text, message):
    folder = _lists(tmp_path, train_4_0=f'{R1}:1400:1450', train_8_0=text)
    with pytest.raises(LabelFileError, match=message):
        import_fewshot_lists(fs_corpus, folder)
    assert not os.path.exists(fs_corpus.fewshot_path(4, 0))  # the good list is not written either


def test_duplicates_and_selection(fs_corpus, tmp_path):
    folder = _lists(tmp_path, train_4_0=f'{R1}:1400:1450\n{R1}:1400:1450\n{R3}:846:878', train_4_3=f'{R3}:846:878',
                    train_16_0=f'{R3}:846:878')
    result = import_fewshot_lists(fs_corpus, folder, ks=[4], trials=[0, 1, 2])
    assert list(result) == [(4, 0)]
    assert result[(4, 0)][1] == 2 and dict(result[(4, 0)][2].counts) == {'listed twice': 1}
    with pytest.raises(LabelFileError, match='no few-shot list'):
        import_fewshot_lists(fs_corpus, folder, ks=[32])


def test_tennis_lists_skip_the_swings_outside_tennis7(tmp_path):
    prepare_corpus('tennis7', data_dir('tennis7'), str(tmp_path / 'tn'))
    corpus = Corpus(str(tmp_path / 'tn'))
    (path, count, skips), = import_fewshot_lists(corpus, data_dir('tennis7')).values()
    # front:1400 is a serve and back:2900 lies in no point clip: both are in annotations/excluded.txt
    assert corpus.read_id_list(path) == [f'{M}:back:1460', f'{M}:front:3100'] and count == 2
    assert dict(skips.counts) == {'not a corpus action (label serve is not a Tennis7 class)': 1,
                                  'not a corpus action (no point clip contains the contact frame)': 1}


def test_finegym_lists_skip_other_apparatus(tmp_path):
    prepare_corpus('fx35', data_dir('fx35'), str(tmp_path / 'fx'), val_fraction=0)
    corpus = Corpus(str(tmp_path / 'fx'))
    (path, count, skips), = import_fewshot_lists(corpus, data_dir('fx35')).values()
    assert corpus.read_id_list(path) == ['0LtLS9wROrk_E_000615_000710_A_0003_0005',
                                         'zWxuuGOJEm4_E_000100_000170_A_0050_0052']
    assert dict(skips.counts) == {'not a corpus action (Gym99 class 80 (UB) is not floor exercise)': 1}


def test_carved_val_ids_need_drop_val(tmp_path):
    prepare_corpus('diving48', data_dir('diving48'), str(tmp_path / 'd'), val_fraction=0.34, seed=3)
    corpus = Corpus(str(tmp_path / 'd'))
    listed = corpus.read_id_list(data_dir('diving48') + '/train_4_0.ids.txt')
    val = {a.id for a in corpus.read_actions('val')}
    assert 0 < len(val & set(listed)) < len(listed)  # the fixture list names carved val clips and train clips
    with pytest.raises(LabelFileError, match=r'is a val action; few-shot lists may only name training actions; '
                       r'this corpus carved its val split from train, use --drop-val'):
        import_fewshot_lists(corpus, data_dir('diving48'))
    (path, count, skips), = import_fewshot_lists(corpus, data_dir('diving48'), drop_val=True).values()
    assert corpus.read_id_list(path) == [i for i in listed if i not in val]
    assert skips.counts == {'in the val split (--drop-val)': len(val & set(listed))}


def test_tool(fs_corpus, tmp_path, capsys):
    tool = load_tool('import_fewshot')
    tool.main([fs_corpus.root, '--lists', data_dir('fsjump6'), '--trials', '0'])
    assert capsys.readouterr().out.strip() == f'k=4 trial=0: 3 training actions -> {fs_corpus.fewshot_path(4, 0)}'
    bad = _lists(tmp_path, train_4_0=f'{R1}:925:972')
    with pytest.raises(SystemExit, match=rf"error: .*train_4_0\.ids\.txt:1: id '{R1}:925:972' is a val action"):
        tool.main([fs_corpus.root, '--lists', bad])
    with pytest.raises(SystemExit, match='nothing: folder: does not exist'):
        tool.main([str(tmp_path / 'nothing'), '--lists', bad])
    shutil.rmtree(bad)
