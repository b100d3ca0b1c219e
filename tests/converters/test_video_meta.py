"""Reading the reference's <sport>.video_meta.pkl caches (third-party pickles, restricted unpickler)."""
from __future__ import annotations

import datetime
import pickle
import sys
import types
from collections import namedtuple

import pytest

from vpd_mm.datasets.converters import LabelFileError, VideoInfo, read_reference_video_meta

from .conftest import data_dir


def test_hand_written_protocol0_cache():
    meta = read_reference_video_meta(data_dir('tennis7') + '/tennis.video_meta.pkl')
    assert meta['usopen_2019_mens_final_medvedev_nadal_1348_2256'] == VideoInfo(29.97, 909, 1920, 1080)
    assert meta['wimbledon_2019_mens_semifinal_federer_nadal_1200_1650'] == VideoInfo(25.0, 451, 1920, 1080)
    assert len(meta) == 4


def test_namedtuple_cache_as_the_reference_writes_it(tmp_path, monkeypatch):
    # the reference pickles util.video.VideoMetadata namedtuples (protocol >= 2: NEWOBJ)
    module = types.ModuleType('util.video')
    module.VideoMetadata = namedtuple('VideoMetadata', ['fps', 'num_frames', 'width', 'height'])
    module.VideoMetadata.__module__ = 'util.video'
    monkeypatch.setitem(sys.modules, 'util', types.ModuleType('util'))
    monkeypatch.setitem(sys.modules, 'util.video', module)
    path = tmp_path / 'fs.video_meta.pkl'
    for protocol in (2, 4, 5):
        path.write_bytes(pickle.dumps({'routine': module.VideoMetadata(25.0, 4225, 1920, 1080)}, protocol=protocol))
        monkeypatch.delitem(sys.modules, 'util.video')  # reading must not need the reference's module
        assert read_reference_video_meta(str(path)) == {'routine': VideoInfo(25.0, 4225, 1920, 1080)}
        monkeypatch.setitem(sys.modules, 'util.video', module)


def test_foreign_objects_are_refused(tmp_path):
    path = tmp_path / 'evil.video_meta.pkl'
    path.write_bytes(pickle.dumps({'x': datetime.date(2020, 1, 1)}))  # any other class is refused
    with pytest.raises(LabelFileError, match=r'evil\.video_meta\.pkl: not a readable video metadata cache \('
                       r'refusing to load datetime\.date'):
        read_reference_video_meta(str(path))
    path.write_bytes(pickle.dumps({'x': (25.0, 10)}))
    with pytest.raises(LabelFileError, match=r"evil\.video_meta\.pkl:entry 'x': expected \(fps, num_frames"):
        read_reference_video_meta(str(path))
