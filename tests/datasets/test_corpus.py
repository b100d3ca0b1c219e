"""Corpus reader/writer: exact round trips, validation messages that name the file and field, atomic writes."""
from __future__ import annotations

import json
import os
import os.path as osp

import numpy as np
import pytest

from vpd_mm.corpus.corpus import (FORMAT_VERSION, Action, Corpus, CorpusFormatError, CorpusMeta, FeatureTrack,
                                    PoseTrack, Track, atomic_write_bytes)

CLASSES = ['jump', 'wave', 'spin']


def _pose(n: int = 3, offset: float = 0.0) -> PoseTrack:
    """A small pose track with exactly representable values (hand-checkable)."""
    frames = np.array([0, 2, 5][:n], dtype=np.int64)
    keypoints = (np.arange(n * 17 * 2, dtype=np.float64).reshape(n, 17, 2) * 0.25 + offset)
    scores = np.linspace(0.0, 1.0, n * 17).reshape(n, 17)
    boxes = np.array([[1.5, 2.5, 30.0, 60.0], [2.0, 3.0, 31.0, 61.0], [2.5, 3.5, 32.0, 62.0]][:n])
    return PoseTrack(frames, keypoints, scores, boxes)


def _corpus_with_meta(tmp_path, classes=CLASSES) -> Corpus:
    corpus = Corpus(str(tmp_path))
    corpus.write_meta(CorpusMeta(sport='test', classes=list(classes)))
    return corpus


def _actions() -> list[Action]:
    return [Action('a0', 'v0', 0, 10, 'jump', 'train'),
            Action('a1', 'v0', 12, 20, 'wave', 'train'),
            Action('a2', 'v1', 3, 9, 'spin', 'val'),
            Action('a3', 'v2', 0, 1, 'jump', 'test'),
            Action('a4', 'v1', 10, 14, 'wave', 'val')]


def _write_raw_json(path: str, obj) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f)


def _meta_dict(**changes) -> dict:
    raw = dict(sport='x', classes=['a', 'b'], fps=30.0, max_fps=25.0, splits=['train', 'val', 'test'],
               min_pose_score=0.5, extra={}, format_version=FORMAT_VERSION)
    raw.update(changes)
    return raw


# ---------------------------------------------------------------------------------------------------- round trips
def test_meta_round_trip(tmp_path):
    corpus = Corpus(str(tmp_path))
    meta = CorpusMeta(sport='fsjump6', classes=['axel', 'lutz', 'flip'], fps=29.97, max_fps=25.0,
                      splits=['train', 'test'], min_pose_score=0.7, extra=dict(width=1920, note='x'))
    corpus.write_meta(meta)
    assert corpus.read_meta() == meta
    raw = json.load(open(corpus.path('meta.json')))
    assert raw['format_version'] == FORMAT_VERSION == 1
    assert raw['classes'] == ['axel', 'lutz', 'flip']


def test_meta_defaults(tmp_path):
    corpus = Corpus(str(tmp_path))
    _write_raw_json(corpus.path('meta.json'), dict(sport='s', classes=['a'], format_version=1))
    meta = corpus.read_meta()
    assert (meta.fps, meta.max_fps, meta.min_pose_score) == (25.0, 25.0, 0.5)
    assert meta.splits == ['train', 'val', 'test'] and meta.extra == {}


def test_track_round_trip(tmp_path):
    corpus = Corpus(str(tmp_path))
    frames = np.array([3, 4, 10], dtype=np.int64)
    boxes = np.array([[10.5, 20.25, 30.125, 40.0], [11.0, 21.0, 31.0, 41.0], [0.0, 0.0, 0.0, 0.0]],
                     dtype=np.float64)
    corpus.write_track('vid', Track(frames, boxes))
    track = corpus.read_track('vid')
    assert track.frames.dtype == np.int32 and track.boxes.dtype == np.float32
    np.testing.assert_array_equal(track.frames, [3, 4, 10])
    np.testing.assert_array_equal(track.boxes, boxes.astype(np.float32))
    # the JSON layout is [[frame, x, y, w, h], ...]
    assert json.load(open(corpus.path('tracks', 'vid.json'))) == [
        [3, 10.5, 20.25, 30.125, 40.0], [4, 11.0, 21.0, 31.0, 41.0], [10, 0.0, 0.0, 0.0, 0.0]]
    assert corpus.video_ids() == ['vid']


def test_track_boxes_rounded_to_millipixels(tmp_path):
    corpus = Corpus(str(tmp_path))
    corpus.write_track('vid', Track(np.array([0]), np.array([[1.23456, 2.0004, 3.9996, 4.0]])))
    np.testing.assert_array_equal(corpus.read_track('vid').boxes,
                                  np.array([[1.235, 2.0, 4.0, 4.0]], dtype=np.float32))


def test_empty_track_round_trip(tmp_path):
    corpus = Corpus(str(tmp_path))
    corpus.write_track('empty', Track(np.zeros(0, np.int32), np.zeros((0, 4), np.float32)))
    track = corpus.read_track('empty')
    assert track.frames.shape == (0,) and track.boxes.shape == (0, 4)


def test_pose_round_trip(tmp_path):
    corpus = Corpus(str(tmp_path))
    pose = _pose()
    corpus.write_pose('vid', pose)
    back = corpus.read_pose('vid')
    assert back.frames.dtype == np.int32
    for name in ('keypoints', 'scores', 'boxes'):
        assert getattr(back, name).dtype == np.float32, name
    np.testing.assert_array_equal(back.frames, [0, 2, 5])
    np.testing.assert_array_equal(back.keypoints, pose.keypoints.astype(np.float32))
    assert back.keypoints[2, 16, 1] == (2 * 34 + 33) * 0.25  # hand-computed: index 101 * 0.25
    np.testing.assert_array_equal(back.scores, pose.scores.astype(np.float32))
    np.testing.assert_array_equal(back.boxes, pose.boxes.astype(np.float32))
    assert [vid for vid, _ in corpus.iter_pose()] == ['vid']


def test_pose_nan_keypoints_survive(tmp_path):
    corpus = Corpus(str(tmp_path))
    pose = _pose()
    pose.keypoints[1, 3] = np.nan
    pose.keypoints[2] = np.nan
    pose.scores[1, 3] = np.nan
    pose.scores[2] = np.nan
    corpus.write_pose('vid', pose)
    back = corpus.read_pose('vid')
    nan = np.isnan(back.keypoints)
    assert nan[1, 3].all() and nan[2].all()
    assert nan.sum() == 2 + 34  # nothing else became NaN
    assert not (back.keypoints[2] == 0).any()  # NaN, not zeros
    assert np.isnan(back.scores[1, 3]) and np.isnan(back.scores[2]).all()
    np.testing.assert_array_equal(back.keypoints, pose.keypoints.astype(np.float32))  # NaN == NaN here


@pytest.mark.parametrize('kind', ['teacher', 'features'])
def test_features_round_trip(tmp_path, kind):
    corpus = Corpus(str(tmp_path))
    rng = np.random.default_rng(3)
    feats = rng.normal(size=(4, 2, 5))  # float64 in, float32 stored
    scores = np.array([0.5, np.nan, 1.0, 0.25])
    corpus.write_features(kind, 'vpd', 'vid', FeatureTrack(np.array([1, 2, 7, 9]), feats, scores))
    assert osp.isfile(osp.join(str(tmp_path), kind, 'vpd', 'vid.npz'))
    back = corpus.read_features(kind, 'vpd', 'vid')
    assert back.frames.dtype == np.int32 and back.feats.dtype == np.float32 and back.scores.dtype == np.float32
    np.testing.assert_array_equal(back.frames, [1, 2, 7, 9])
    np.testing.assert_array_equal(back.feats, feats.astype(np.float32))
    np.testing.assert_array_equal(back.scores, scores.astype(np.float32))
    assert back.dim == 5
    assert corpus.feature_ids(kind, 'vpd') == ['vid']
    other = 'features' if kind == 'teacher' else 'teacher'
    assert corpus.feature_ids(other, 'vpd') == []


def test_features_bad_kind_and_shape(tmp_path):
    corpus = Corpus(str(tmp_path))
    with pytest.raises(ValueError, match='kind'):
        corpus.feature_path('student', 'vpd', 'vid')
    with pytest.raises(CorpusFormatError) as info:
        corpus.write_features('teacher', 'vpd', 'vid',
                              FeatureTrack(np.array([0, 1]), np.zeros((2, 3, 4)), np.zeros(2)))
    assert info.value.field == 'feats' and '(2, 2, ?)' in str(info.value)


def test_actions_round_trip_and_split_filter(tmp_path):
    corpus = _corpus_with_meta(tmp_path)
    actions = _actions()
    corpus.write_actions(actions)
    assert corpus.read_actions() == actions
    assert [a.id for a in corpus.read_actions(split='val')] == ['a2', 'a4']
    assert [a.id for a in corpus.read_actions(split='train')] == ['a0', 'a1']
    assert [a.id for a in corpus.read_actions(split='test')] == ['a3']
    with pytest.raises(ValueError, match="'dev'"):
        corpus.read_actions(split='dev')


def test_actions_explicit_classes_without_meta(tmp_path):
    corpus = Corpus(str(tmp_path))
    corpus.write_actions([Action('x', 'v', 0, 2, 'p', 'train')], classes=['p', 'q'])
    raw = json.load(open(corpus.path('annotations', 'actions.json')))
    assert raw == [dict(id='x', video_id='v', start=0, end=2, label='p', split='train')]


def test_id_list_round_trip(tmp_path):
    corpus = Corpus(str(tmp_path))
    path = corpus.fewshot_path(5, 2)
    assert path == osp.join(str(tmp_path), 'annotations', 'fewshot', '5_2.txt')
    corpus.write_id_list(path, ['a0', 'b1', 'c2'])
    assert open(path).read() == 'a0\nb1\nc2\n'
    assert corpus.read_id_list(path) == ['a0', 'b1', 'c2']


def test_read_id_list_tolerates_blank_lines_and_missing_newline(tmp_path):
    corpus = Corpus(str(tmp_path))
    path = str(tmp_path / 'ids.txt')
    with open(path, 'w') as f:
        f.write('a\n\nb  \n\n  c\n\nd')
    assert corpus.read_id_list(path) == ['a', 'b', 'c', 'd']
    with pytest.raises(CorpusFormatError, match='does not exist'):
        corpus.read_id_list(str(tmp_path / 'nope.txt'))


def test_npz_files_have_no_pickled_objects(tmp_path):
    corpus = Corpus(str(tmp_path))
    corpus.write_pose('vid', _pose())
    corpus.write_features('teacher', 't', 'vid', FeatureTrack(np.array([0]), np.ones((1, 2, 3)), np.ones(1)))
    for path, names in ((corpus.path('pose', 'vid.npz'), {'frames', 'keypoints', 'scores', 'boxes'}),
                        (corpus.feature_path('teacher', 't', 'vid'), {'frames', 'feats', 'scores'})):
        with np.load(path, allow_pickle=False) as data:
            assert set(data.files) == names
            for name in data.files:
                array = data[name]  # would raise ValueError for an object array
                assert array.dtype != object


# ---------------------------------------------------------------------------------------------------- validation
def _raises(call, field_fragment: str, *fragments: str) -> CorpusFormatError:
    with pytest.raises(CorpusFormatError) as info:
        call()
    message = str(info.value)
    assert field_fragment in info.value.field, (info.value.field, message)
    assert info.value.path in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return info.value


def test_frames_not_strictly_increasing(tmp_path):
    corpus = Corpus(str(tmp_path))
    pose = _pose()
    pose.frames = np.array([0, 4, 4])
    error = _raises(lambda: corpus.write_pose('vid', pose), 'frames', 'index 2', '4 then 4')
    assert error.path == corpus.path('pose', 'vid.npz')
    assert not osp.exists(corpus.path('pose', 'vid.npz'))  # nothing written
    # and on read: a track file with decreasing frames
    path = corpus.path('tracks', 'bad.json')
    _write_raw_json(path, [[5, 0, 0, 1, 1], [3, 0, 0, 1, 1]])
    error = _raises(lambda: corpus.read_track('bad'), 'frames', path, '5 then 3')
    assert error.path == path


def test_negative_and_float_frames(tmp_path):
    corpus = Corpus(str(tmp_path))
    _raises(lambda: corpus.write_track('v', Track(np.array([-1, 0]), np.ones((2, 4)))), 'frames', 'negative')
    _raises(lambda: corpus.write_track('v', Track(np.array([0.0, 1.5]), np.ones((2, 4)))), 'frames', 'integers')
    _write_raw_json(corpus.path('tracks', 'f.json'), [[0.5, 0, 0, 1, 1]])
    _raises(lambda: corpus.read_track('f'), 'frames', 'integers')


def test_wrong_keypoints_shape(tmp_path):
    corpus = Corpus(str(tmp_path))
    pose = _pose()
    pose.keypoints = np.zeros((3, 17, 3))
    _raises(lambda: corpus.write_pose('vid', pose), 'keypoints', '(3, 17, 2)', '(3, 17, 3)')
    pose = _pose()
    pose.scores = np.zeros((2, 17))
    _raises(lambda: corpus.write_pose('vid', pose), 'scores', '(3, 17)')


def test_nan_box_in_track(tmp_path):
    corpus = Corpus(str(tmp_path))
    boxes = np.ones((3, 4))
    boxes[1, 2] = np.nan
    _raises(lambda: corpus.write_track('vid', Track(np.arange(3), boxes)), 'boxes', 'index 1')
    path = corpus.path('tracks', 'raw.json')
    os.makedirs(osp.dirname(path))
    with open(path, 'w') as f:
        f.write('[[0, 1, 2, 3, 4], [1, NaN, 2, 3, 4]]')  # Python's json reads NaN
    _raises(lambda: corpus.read_track('raw'), 'boxes', path, 'non-finite', 'index 1')


def test_negative_box_size_and_bad_track_rows(tmp_path):
    corpus = Corpus(str(tmp_path))
    _raises(lambda: corpus.write_track('v', Track(np.arange(2), np.array([[0, 0, 1, 1], [0, 0, 1, -1.0]]))),
            'boxes', 'negative', 'index 1')
    _write_raw_json(corpus.path('tracks', 'short.json'), [[0, 1, 2, 3]])
    _raises(lambda: corpus.read_track('short'), 'rows')
    _write_raw_json(corpus.path('tracks', 'text.json'), [[0, 'a', 2, 3, 4]])
    _raises(lambda: corpus.read_track('text'), 'rows')


def test_scores_outside_unit_interval(tmp_path):
    corpus = Corpus(str(tmp_path))
    for bad in (1.5, -0.25):
        pose = _pose()
        pose.scores[0, 4] = bad
        _raises(lambda: corpus.write_pose('vid', pose), 'scores', '[0, 1]', str(bad))
    # the same check on read, for a file written without the corpus writer
    pose = _pose()
    pose.scores[2, 0] = 2.0
    os.makedirs(corpus.path('pose'))
    np.savez(corpus.path('pose', 'raw.npz'), frames=pose.frames, keypoints=pose.keypoints,
             scores=pose.scores, boxes=pose.boxes)
    _raises(lambda: corpus.read_pose('raw'), 'scores', corpus.path('pose', 'raw.npz'))


def test_npz_missing_field(tmp_path):
    corpus = Corpus(str(tmp_path))
    pose = _pose()
    os.makedirs(corpus.path('pose'))
    np.savez(corpus.path('pose', 'nobox.npz'), frames=pose.frames, keypoints=pose.keypoints, scores=pose.scores)
    error = _raises(lambda: corpus.read_pose('nobox'), 'boxes', 'missing')
    assert error.field == 'boxes'


def test_unknown_label_in_actions(tmp_path):
    corpus = _corpus_with_meta(tmp_path)
    actions = _actions() + [Action('a9', 'v3', 0, 5, 'salchow', 'train')]
    error = _raises(lambda: corpus.write_actions(actions), 'label', "'salchow'", "'a9'")
    assert error.field == "[5] (id 'a9').label"
    assert not osp.exists(corpus.path('annotations', 'actions.json'))
    # on read, the label is checked against meta.json
    path = corpus.path('annotations', 'actions.json')
    _write_raw_json(path, [dict(id='x', video_id='v', start=0, end=3, label='axel', split='train')])
    _raises(lambda: corpus.read_actions(), 'label', path, "'axel'")


def test_duplicate_action_id(tmp_path):
    corpus = _corpus_with_meta(tmp_path)
    actions = _actions() + [Action('a1', 'v5', 0, 5, 'jump', 'test')]
    error = _raises(lambda: corpus.write_actions(actions), 'id', 'duplicate')
    assert error.field == "[5] (id 'a1').id"


@pytest.mark.parametrize('start,end', [(5, 5), (6, 5)])
def test_action_start_not_before_end(tmp_path, start, end):
    corpus = _corpus_with_meta(tmp_path)
    actions = [Action('a', 'v', start, end, 'jump', 'train')]
    _raises(lambda: corpus.write_actions(actions), 'start/end', f'{start}, {end}')


def test_action_non_integer_frames_on_read(tmp_path):
    corpus = _corpus_with_meta(tmp_path)
    _write_raw_json(corpus.path('annotations', 'actions.json'),
                    [dict(id='x', video_id='v', start=0.5, end=3, label='jump', split='train')])
    _raises(lambda: corpus.read_actions(), 'start/end', 'integer')


def test_action_unknown_split(tmp_path):
    corpus = _corpus_with_meta(tmp_path)
    _raises(lambda: corpus.write_actions([Action('a', 'v', 0, 4, 'jump', 'dev')]), 'split', "'dev'")


def test_action_bad_record(tmp_path):
    corpus = _corpus_with_meta(tmp_path)
    path = corpus.path('annotations', 'actions.json')
    _write_raw_json(path, [dict(id='x', video_id='v', start=0, end=3, label='jump')])  # no split
    _raises(lambda: corpus.read_actions(), '[0]', 'bad action record')
    _write_raw_json(path, {'id': 'x'})
    _raises(lambda: corpus.read_actions(), 'file', 'list')


def test_meta_wrong_format_version(tmp_path):
    corpus = Corpus(str(tmp_path))
    _write_raw_json(corpus.path('meta.json'), _meta_dict(format_version=2))
    _raises(lambda: corpus.read_meta(), 'format_version', 'version 1', '2')
    _write_raw_json(corpus.path('meta.json'), {k: v for k, v in _meta_dict().items() if k != 'format_version'})
    _raises(lambda: corpus.read_meta(), 'format_version', 'None')


def test_meta_unknown_field(tmp_path):
    corpus = Corpus(str(tmp_path))
    _write_raw_json(corpus.path('meta.json'), _meta_dict(colour='red'))
    error = _raises(lambda: corpus.read_meta(), 'colour', 'unknown field')
    assert error.field == 'colour'


def test_meta_duplicate_and_missing_classes(tmp_path):
    corpus = Corpus(str(tmp_path))
    _write_raw_json(corpus.path('meta.json'), _meta_dict(classes=['a', 'b', 'a']))
    _raises(lambda: corpus.read_meta(), 'classes', 'duplicate')
    _write_raw_json(corpus.path('meta.json'), _meta_dict(classes=['a', 3]))
    _raises(lambda: corpus.read_meta(), 'classes', 'list of class names')
    raw = _meta_dict()
    del raw['sport']
    _write_raw_json(corpus.path('meta.json'), raw)
    _raises(lambda: corpus.read_meta(), 'sport', 'missing')
    _write_raw_json(corpus.path('meta.json'), ['not', 'an', 'object'])
    _raises(lambda: corpus.read_meta(), 'file', 'JSON object')


def test_missing_files(tmp_path):
    corpus = Corpus(str(tmp_path))
    for call, path in ((corpus.read_meta, corpus.path('meta.json')),
                       (lambda: corpus.read_track('v'), corpus.path('tracks', 'v.json')),
                       (lambda: corpus.read_pose('v'), corpus.path('pose', 'v.npz')),
                       (lambda: corpus.read_features('teacher', 't', 'v'), corpus.path('teacher', 't', 'v.npz')),
                       (corpus.read_actions, corpus.path('annotations', 'actions.json'))):
        error = _raises(call, 'file', 'does not exist')
        assert error.path == path
    _raises(lambda: corpus.video_path('v'), 'file', 'no video')


def test_video_path_any_extension(tmp_path):
    corpus = Corpus(str(tmp_path))
    os.makedirs(corpus.path('videos'))
    open(corpus.path('videos', 'clip.mkv'), 'wb').close()
    assert corpus.video_path('clip') == corpus.path('videos', 'clip.mkv')


@pytest.mark.parametrize('garbage', [b'this is not a zip file at all', b'', b'PK\x03\x04truncated'])
def test_corrupt_npz(tmp_path, garbage):
    corpus = Corpus(str(tmp_path))
    path = corpus.path('pose', 'x.npz')
    os.makedirs(osp.dirname(path))
    with open(path, 'wb') as f:
        f.write(garbage)
    error = _raises(lambda: corpus.read_pose('x'), 'file', path, 'npz')
    assert error.path == path


def test_truncated_npz(tmp_path):
    corpus = Corpus(str(tmp_path))
    corpus.write_pose('x', _pose())
    path = corpus.path('pose', 'x.npz')
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    _raises(lambda: corpus.read_pose('x'), 'file', path)


def test_pickled_npz_refused(tmp_path):
    corpus = Corpus(str(tmp_path))
    pose = _pose()
    path = corpus.path('pose', 'obj.npz')
    os.makedirs(osp.dirname(path))
    np.savez(path, frames=pose.frames, keypoints=np.array([{'evil': 1}], dtype=object), scores=pose.scores,
             boxes=pose.boxes)
    _raises(lambda: corpus.read_pose('obj'), 'file', path)


def test_invalid_json(tmp_path):
    corpus = Corpus(str(tmp_path))
    path = corpus.path('meta.json')
    with open(path, 'w') as f:
        f.write('{"sport": "x", "classes": [')
    _raises(corpus.read_meta, 'file', path, 'not valid JSON')
    with open(path, 'wb') as f:
        f.write(b'\xff\xfe\x00garbage')
    _raises(corpus.read_meta, 'file', 'not valid JSON')


# ---------------------------------------------------------------------------------------------------- atomic writes
@pytest.mark.parametrize('exc', [RuntimeError, KeyboardInterrupt])
def test_atomic_write_failure_keeps_old_content(tmp_path, exc):
    path = str(tmp_path / 'data.bin')
    atomic_write_bytes(path, lambda f: f.write(b'old content'))

    def failing(fileobj):
        fileobj.write(b'new partial')
        raise exc('killed midway')

    with pytest.raises(exc, match='killed midway'):
        atomic_write_bytes(path, failing)
    assert open(path, 'rb').read() == b'old content'
    assert os.listdir(str(tmp_path)) == ['data.bin']


def test_atomic_write_failure_creates_nothing(tmp_path):
    path = str(tmp_path / 'sub' / 'new.bin')

    def failing(fileobj):
        fileobj.write(b'x')
        raise OSError('disk full')

    with pytest.raises(OSError, match='disk full'):
        atomic_write_bytes(path, failing)
    assert os.listdir(str(tmp_path / 'sub')) == []


def test_atomic_write_overwrite(tmp_path):
    path = str(tmp_path / 'data.bin')
    atomic_write_bytes(path, lambda f: f.write(b'first version, long'))
    atomic_write_bytes(path, lambda f: f.write(b'second'))
    assert open(path, 'rb').read() == b'second'
    assert os.listdir(str(tmp_path)) == ['data.bin']


def test_failed_validation_keeps_previous_pose(tmp_path):
    corpus = Corpus(str(tmp_path))
    corpus.write_pose('vid', _pose())
    bad = _pose(offset=1.0)
    bad.scores[0, 0] = 3.0
    with pytest.raises(CorpusFormatError):
        corpus.write_pose('vid', bad)
    np.testing.assert_array_equal(corpus.read_pose('vid').keypoints, _pose().keypoints.astype(np.float32))
    assert os.listdir(corpus.path('pose')) == ['vid.npz']


def test_list_ids_ignores_hidden_temporary_files(tmp_path):
    corpus = Corpus(str(tmp_path))
    corpus.write_pose('b', _pose())
    corpus.write_pose('a', _pose())
    open(corpus.path('pose', '.c.npz'), 'wb').close()  # a leftover temporary file
    open(corpus.path('pose', 'notes.txt'), 'wb').close()
    assert corpus.list_ids('pose', '.npz') == ['a', 'b']
    assert corpus.list_ids('nothing_here', '.npz') == []
