"""The one per-video runner every stage uses: skip, resume, overwrite, error policy, counters, pool."""
from __future__ import annotations

import json
import os
import os.path as osp
from functools import partial

import pytest

from vpd_mm.corpus import CorpusFormatError
from vpd_mm.stages.runner import StageError, for_each_video, summary_line

IDS = ['a', 'b', 'c', 'd']


def _done(folder: str, video_id: str) -> bool:
    return osp.exists(osp.join(folder, video_id + '.json'))


def _work(folder: str, video_id: str) -> dict[str, int]:
    """Writes ``<id>.json`` holding the number of times it ran; 'bad' videos fail, 'bug' videos crash."""
    if video_id.startswith('bad'):
        raise StageError(f'{video_id}.mp4: cannot decode')
    if video_id.startswith('corrupt'):
        raise CorpusFormatError(f'{video_id}.npz', 'frames', 'not increasing')
    if video_id.startswith('bug'):
        raise KeyError(video_id)
    path = osp.join(folder, video_id + '.json')
    runs = json.load(open(path))['runs'] + 1 if osp.exists(path) else 1
    with open(path, 'w') as f:
        json.dump(dict(runs=runs), f)
    return dict(frames=10 * len(video_id), runs=1)


def _runs(folder: str) -> dict[str, int]:
    return {name[:-5]: json.load(open(osp.join(folder, name)))['runs'] for name in sorted(os.listdir(folder))}


def _run(folder, ids, **kwargs):
    return for_each_video(ids, partial(_work, folder), done=partial(_done, folder), progress=False, **kwargs)


def test_writes_every_video_and_sums_counters(tmp_path):
    result = _run(str(tmp_path), IDS)
    assert result['videos'] == 4 and result['written'] == 4 and result['skipped'] == 0 and result['errors'] == 0
    assert result['frames'] == 40 and result['runs'] == 4 and result['failed'] == []
    assert _runs(str(tmp_path)) == dict(a=1, b=1, c=1, d=1)


def test_resume_skips_complete_videos_and_overwrite_redoes_them(tmp_path):
    folder = str(tmp_path)
    _run(folder, IDS[:2])  # a "killed" run that got through two videos
    again = _run(folder, IDS)
    assert (again['written'], again['skipped'], again['frames']) == (2, 2, 20)
    assert _runs(folder) == dict(a=1, b=1, c=1, d=1)  # nothing recomputed
    redo = _run(folder, IDS, overwrite=True)
    assert (redo['written'], redo['skipped']) == (4, 0)
    assert _runs(folder) == dict(a=2, b=2, c=2, d=2)


def test_count_policy_counts_and_goes_on(tmp_path):
    result = _run(str(tmp_path), ['a', 'bad1', 'corrupt2', 'b'])
    assert (result['written'], result['errors']) == (2, 2)
    assert result['failed'] == ['bad1.mp4: cannot decode', 'corrupt2.npz: frames: not increasing']
    assert _runs(str(tmp_path)) == dict(a=1, b=1)


def test_raise_policy_stops_at_the_first_failure_and_keeps_what_was_written(tmp_path):
    with pytest.raises(CorpusFormatError, match='corrupt2.npz'):
        _run(str(tmp_path), ['a', 'corrupt2', 'b'], on_error='raise')
    assert _runs(str(tmp_path)) == dict(a=1)  # written before the failure, kept


def test_a_bug_is_never_counted_as_a_bad_video(tmp_path):
    with pytest.raises(KeyError):
        _run(str(tmp_path), ['a', 'bug1', 'b'])


def test_done_may_report_a_conflicting_output(tmp_path):
    def done(video_id: str) -> bool:
        if video_id == 'b':
            raise StageError('b: holds flow of another method')
        return False

    result = for_each_video(IDS, partial(_work, str(tmp_path)), done=done, progress=False)
    assert (result['written'], result['skipped'], result['errors']) == (3, 0, 1)
    assert result['failed'] == ['b: holds flow of another method']
    with pytest.raises(StageError):
        for_each_video(IDS, partial(_work, str(tmp_path)), done=done, progress=False, on_error='raise')


def test_counters_exist_when_nothing_was_written(tmp_path):
    result = for_each_video([], partial(_work, str(tmp_path)), progress=False, counters=('frames',))
    assert result['frames'] == 0 and result['videos'] == 0
    assert summary_line(result) == 'wrote 0 of 0 videos, 0 already complete, 0 failed; frames 0'


def test_worker_pool_gives_the_same_result(tmp_path):
    inline, pooled = tmp_path / 'inline', tmp_path / 'pooled'
    inline.mkdir(), pooled.mkdir()
    ids = ['a', 'bad1', 'bb', 'ccc', 'corrupt', 'dddd']
    one = _run(str(inline), ids)
    two = _run(str(pooled), ids, workers=2)
    for key in ('videos', 'written', 'skipped', 'errors', 'frames', 'runs'):
        assert one[key] == two[key], key
    assert sorted(one['failed']) == sorted(two['failed'])  # CorpusFormatError's message survives the process hop
    assert _runs(str(inline)) == _runs(str(pooled))
    with pytest.raises(StageError, match='bad1.mp4'):
        _run(str(tmp_path / 'pooled'), ['bad1', 'zz'], workers=2, on_error='raise')


def test_unknown_policy_is_refused(tmp_path):
    with pytest.raises(ValueError, match='on_error'):
        _run(str(tmp_path), IDS, on_error='ignore')
