"""Helpers for the converter tests: the hand-written fixture files under tests/data/<sport>/."""
from __future__ import annotations

import importlib.util
import os.path as osp
import shutil
from types import ModuleType

import pytest

DATA = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'data')
REPO = osp.dirname(osp.dirname(DATA))


def load_tool(name: str) -> ModuleType:
    """Import ``tools/data/<name>.py`` as a module (its ``main(argv)`` runs in-process, fast)."""
    spec = importlib.util.spec_from_file_location(f'tool_{name}', osp.join(REPO, 'tools', 'data', name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data_dir(sport: str) -> str:
    """The fixture folder of one sport (read-only: copy it before changing anything)."""
    return osp.join(DATA, sport)


@pytest.fixture
def copy_labels(tmp_path):
    """``copy_labels(sport, exclude=())`` -> a writable copy of the sport's fixture folder."""
    count = [0]

    def _copy(sport: str, exclude: tuple[str, ...] = ()) -> str:
        count[0] += 1
        target = tmp_path / f'labels_{sport}_{count[0]}'
        shutil.copytree(data_dir(sport), target, ignore=shutil.ignore_patterns(*exclude) if exclude else None)
        return str(target)
    return _copy


def replace_line(path: str, number: int, text: str) -> None:
    """Replace line ``number`` (1-based) of a text file."""
    with open(path) as f:
        lines = f.read().split('\n')
    lines[number - 1] = text
    with open(path, 'w') as f:
        f.write('\n'.join(lines))


def write_reference_video_meta(path: str, records: dict[str, tuple[float, int, int, int]]) -> None:
    """Write a reference ``<sport>.video_meta.pkl`` by hand as pickle protocol-0 text: a dict
    ``name -> util.video.VideoMetadata(fps, num_frames, width, height)`` (third-party input for the tests).
    Opcodes: ``(d`` empty dict, ``V`` key, ``c`` the class, ``(F I I I t`` the argument tuple, ``R`` call,
    ``s`` set item, ``.`` stop."""
    parts = ['(dp0\n']
    for name, (fps, frames, width, height) in records.items():
        parts.append(f'V{name}\ncutil.video\nVideoMetadata\n(F{float(fps)!r}\nI{frames}\nI{width}\nI{height}\ntRs')
    parts.append('.')
    with open(path, 'w') as f:
        f.write(''.join(parts))
