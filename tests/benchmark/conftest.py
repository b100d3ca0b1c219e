"""Fixtures of the embedded-benchmark tests: the tiny mocap_sports corpus, rendered once per session."""
from __future__ import annotations

import importlib.util
import os.path as osp
from types import ModuleType

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(path: str) -> ModuleType:
    """Import a tool script (``tools/...py``, relative to the repository) as a module, to call its ``main``."""
    spec = importlib.util.spec_from_file_location(osp.splitext(osp.basename(path))[0], osp.join(REPO, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def tiny_mocap(tmp_path_factory):
    """The ``tiny`` preset (3 classes x 3 instances, 128x128), seed 0, rendered in-process."""
    from vpd_mm.mocap_sports.plan import PRESETS
    from vpd_mm.stages.mocap_sports import make_mocap_sports
    root = str(tmp_path_factory.mktemp('mocap_tiny'))
    return make_mocap_sports(root, PRESETS['tiny'], seed=0, workers=1, progress=False, preset='tiny')


@pytest.fixture(scope='session')
def renderer():
    """One pybullet renderer for the session."""
    from vpd_mm.mocap_sports.render import Renderer
    r = Renderer()
    yield r
    r.close()
