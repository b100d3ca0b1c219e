"""Packaging: the declared dependencies (built wheel and sdist metadata) against requirements/*.txt, setup.py for
old setuptools, and the stock tools reading our configs in a fresh interpreter that has not imported vpd_mm.

Without pkg_resources (setuptools >= 82), mmengine 0.10.7 cannot resolve `mmaction::` bases; it resolves every base
before it runs `custom_imports`, so every config lists ``configs/_base_/import_vpd_mm.py`` before its `mmaction::`
base (see that file). The subprocesses below hide pkg_resources whatever setuptools the environment has.
"""
from __future__ import annotations

import email.parser
import glob
import importlib.metadata
import importlib.util
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import tarfile
import types

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import REPO, STGCN_CONFIG, data_root_options, run_python

if sys.version_info >= (3, 11):
    import tomllib
else:
    from pip._vendor import tomli as tomllib

NO_PKG_RESOURCES = 'import sys\nsys.modules["pkg_resources"] = None  # as with setuptools >= 82\n'
BOOTSTRAP = osp.join(REPO, 'configs', '_base_', 'import_vpd_mm.py')

# Entries of requirements/*.txt that pyproject.toml does not declare, and why. "by <dist>": a dependency that the
# named (declared or make-installed) distribution declares itself; the test checks that it does.
NOT_DECLARED = {
    'setuptools': 'build tool (make install builds xtcocotools and this package without isolation)',
    'wheel': 'build tool',
    'cython': 'build tool (xtcocotools is built from its sdist against numpy 2)',
    'opencv-python-headless': 'cv2 provider: every OpenMMLab environment has one (pyproject.toml, "opencv")',
    'mmcv-lite': 'mmcv provider: mmcv or mmcv-lite, the environment has one (pyproject.toml, "mmcv")',
    'mediapipe': 'its metadata pins numpy<2 (pyproject.toml, "mediapipe")',
    'addict': 'by mmengine', 'rich': 'by mmengine', 'termcolor': 'by mmengine', 'yapf': 'by mmengine',
    'einops': 'by mmaction2', 'json-tricks': 'by mmpose', 'munkres': 'by mmpose',
    'protobuf': 'by mediapipe', 'absl-py': 'by mediapipe', 'attrs': 'by mediapipe', 'flatbuffers': 'by mediapipe',
    'defusedxml': 'by supervision',
}


def _requirement_files() -> dict[str, Requirement]:
    """``{canonical name: Requirement}`` of every line of requirements/*.txt."""
    found = {}
    for path in sorted(glob.glob(osp.join(REPO, 'requirements', '*.txt'))):
        for line in open(path):
            line = line.split('#')[0].strip()
            if line:
                requirement = Requirement(line)
                found[canonicalize_name(requirement.name)] = requirement
    return found


def _pin(requirement: Requirement) -> str | None:
    pins = [s.version for s in requirement.specifier if s.operator == '==']
    return pins[0] if pins else None


def _project_copy(tmp_path) -> str:
    """The files a build reads, copied, so that building leaves nothing (egg-info) in the checkout."""
    root = str(tmp_path / 'project')
    shutil.copytree(osp.join(REPO, 'vpd_mm'), osp.join(root, 'vpd_mm'),
                    ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    for name in ('pyproject.toml', 'setup.py', 'README.md'):
        shutil.copy(osp.join(REPO, name), root)
    return root


def _build(root: str, hook: str, out: str) -> str:
    """Run a PEP 517 hook of setuptools' backend in ``root`` (as pip does); returns the name it reports."""
    os.makedirs(out, exist_ok=True)
    code = f'from setuptools import build_meta\nprint(build_meta.{hook}({out!r}))'
    result = subprocess.run([sys.executable, '-c', code], cwd=root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def _declared(metadata_text: str) -> tuple[dict[str, Requirement], dict[str, dict[str, Requirement]], object]:
    """Requires-Dist of a METADATA / PKG-INFO text: (base requirements, {extra: requirements}, the message)."""
    message = email.parser.Parser().parsestr(metadata_text)
    base: dict[str, Requirement] = {}
    extras: dict[str, dict[str, Requirement]] = {}
    for line in message.get_all('Requires-Dist') or []:
        requirement = Requirement(line)
        extra = re.search(r'extra\s*==\s*"([^"]+)"', str(requirement.marker or ''))
        target = extras.setdefault(extra.group(1), {}) if extra else base
        target[canonicalize_name(requirement.name)] = requirement
    return base, extras, message


@pytest.fixture(scope='module')
def wheel_metadata(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp('metadata')
    root = _project_copy(tmp)
    out = str(tmp / 'out')
    name = _build(root, 'prepare_metadata_for_build_wheel', out)
    with open(osp.join(out, name, 'METADATA')) as f:
        return f.read()


def test_wheel_metadata_declares_runtime_dependencies_matching_the_pins(wheel_metadata):
    base, extras, message = _declared(wheel_metadata)
    assert message['Name'] == 'vpd_mm' and message['Requires-Python'] == '>=3.10'
    # importing vpd_mm needs these (the OpenMMLab stack and what vpd_mm imports itself)
    assert {'torch', 'torchvision', 'numpy', 'scipy', 'mmengine', 'mmaction2', 'numba', 'decord'} <= set(base)
    assert set(extras) == {'mmpose', 'tracking', 'demo', 'tests', 'benchmarks'}
    pinned = _requirement_files()
    declared = dict(base)
    for extra in extras.values():
        declared.update(extra)
    for name, requirement in declared.items():
        assert name in pinned, f'{name} is declared but not in requirements/*.txt'
        pin = _pin(pinned[name])
        if pin is not None:
            assert requirement.specifier.contains(pin, prereleases=True), \
                f'{name}: requirements/ pins {pin}, outside the declared {requirement.specifier}'
    # every requirement line is declared, or left out for a stated reason
    for name in pinned:
        assert (name in declared) != (name in NOT_DECLARED), \
            f'{name} (requirements/*.txt): declare it in pyproject.toml or give the reason in NOT_DECLARED'
    assert set(NOT_DECLARED) <= set(pinned)


def test_undeclared_dependencies_come_with_the_packages_that_need_them():
    """"by <dist>" in NOT_DECLARED is true of the installed distributions' own metadata."""
    for name, reason in NOT_DECLARED.items():
        if reason.startswith('by '):
            owner = reason[3:]
            requires = {canonicalize_name(Requirement(r).name) for r in importlib.metadata.requires(owner) or []}
            assert name in requires, f'{owner} does not declare {name}'


def test_sdist_holds_setup_py_and_the_same_metadata(tmp_path, wheel_metadata):
    root = _project_copy(tmp_path)
    out = str(tmp_path / 'dist')
    name = _build(root, 'build_sdist', out)
    with tarfile.open(osp.join(out, name)) as tar:
        names = {n.split('/', 1)[1] for n in tar.getnames() if '/' in n}
        pkg_info = tar.extractfile(f'{name[:-len(".tar.gz")]}/PKG-INFO').read().decode()
    assert {'setup.py', 'pyproject.toml', 'vpd_mm/__init__.py', 'vpd_mm/compat.py'} <= names
    sdist_base, sdist_extras, _ = _declared(pkg_info)
    wheel_base, wheel_extras, _ = _declared(wheel_metadata)
    assert {k: str(v) for k, v in sdist_base.items()} == {k: str(v) for k, v in wheel_base.items()}
    assert sdist_extras.keys() == wheel_extras.keys()


def _run_setup_py(setuptools_version: str) -> dict:
    """Run setup.py as pip's legacy path does (``__name__ == '__main__'``) against a stand-in setuptools of the
    given version; returns the keyword arguments it passed to ``setup()``."""
    import setuptools
    calls: list[dict] = []
    fake = types.ModuleType('setuptools')
    fake.__version__ = setuptools_version
    fake.find_packages = setuptools.find_packages
    fake.setup = lambda **kwargs: calls.append(kwargs)
    saved = sys.modules.get('setuptools')
    sys.modules['setuptools'] = fake
    try:
        code = compile(open(osp.join(REPO, 'setup.py')).read(), osp.join(REPO, 'setup.py'), 'exec')
        exec(code, {'__name__': '__main__', '__file__': osp.join(REPO, 'setup.py')})
    finally:
        sys.modules['setuptools'] = saved
    assert len(calls) == 1
    return calls[0]


def test_setup_py_passes_pyproject_metadata_only_to_setuptools_without_pep621():
    with open(osp.join(REPO, 'pyproject.toml'), 'rb') as f:
        project = tomllib.load(f)['project']
    assert _run_setup_py('69.5.1') == {}  # setuptools >= 61 reads pyproject.toml itself
    legacy = _run_setup_py('60.2.0')  # what openmim's openxlab dependency pins
    assert legacy['name'] == project['name'] and legacy['version'] == project['version']
    assert legacy['install_requires'] == project['dependencies']
    assert legacy['extras_require'] == project['optional-dependencies']
    assert legacy['python_requires'] == project['requires-python']
    assert 'vpd_mm' in legacy['packages'] and 'vpd_mm.models' in legacy['packages']
    assert not any(p.startswith(('tests', 'tools', 'configs')) for p in legacy['packages'])


# Configs in a fresh interpreter ---------------------------------------------------------------------------------
ALL_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True))

_LOAD_ALL = NO_PKG_RESOURCES + '''
import json
from mmengine.config import Config

paths = json.loads(sys.argv[1])
assert 'vpd_mm' not in sys.modules
resolved = []
original = Config._get_cfg_path
def recording(cfg_path, filename):
    resolved.append(cfg_path)
    return original(cfg_path, filename)
Config._get_cfg_path = staticmethod(recording)
report = {}
for path in paths:
    resolved.clear()
    fresh = 'vpd_mm' not in sys.modules
    cfg = Config.fromfile(path)
    report[path] = dict(fresh=fresh, bases=list(resolved), keys=sorted(cfg.keys()))
print(json.dumps(report))
'''


def _order_problem(bases: list[str]) -> str | None:
    """Why a config's base resolution order would fail in a fresh interpreter, or None."""
    external = [i for i, b in enumerate(bases) if '::' in b]
    if not external:
        return None
    bootstrap = [i for i, b in enumerate(bases) if osp.basename(b) == 'import_vpd_mm.py']
    if not bootstrap or bootstrap[0] > external[0]:
        return f'resolves {bases[external[0]]} before configs/_base_/import_vpd_mm.py: {bases}'
    return None


def test_every_config_loads_in_a_fresh_interpreter_without_vpd_mm():
    """One interpreter that has not imported vpd_mm and has no pkg_resources loads every config with
    ``Config.fromfile`` (the first one with nothing imported, as mmaction2's tools/train.py does); for every config,
    the base that imports vpd_mm is read before the first `mmaction::` base, so each would load first too."""
    first = osp.join(REPO, 'configs', 'baselines', 'tsn_r50_crop_fx35.py')
    paths = [first] + [p for p in ALL_CONFIGS if p != first]
    result = run_python(['-c', _LOAD_ALL, json.dumps(paths)], timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report[first]['fresh'] and any('::' in b for b in report[first]['bases'])
    problems = {osp.relpath(p, REPO): _order_problem(r['bases']) for p, r in report.items()}
    assert {p: why for p, why in problems.items() if why} == {}
    assert all(r['keys'] for p, r in report.items() if p != BOOTSTRAP)


def test_the_bootstrap_base_defines_nothing():
    from mmengine.config import Config
    cfg = Config.fromfile(BOOTSTRAP)
    assert dict(cfg) == {}


@pytest.mark.slow
def test_mmaction2_stock_train_and_test_tools_read_our_config(tiny_pose_dataset, tmp_path):
    """mmaction2's own tools/train.py and tools/test.py (shipped in its wheel, ``mmaction/.mim/tools``), in
    interpreters without pkg_resources that never import vpd_mm themselves: train one epoch of our ST-GCN config,
    then test the checkpoint (loaded with weights_only=True through vpd_mm.compat)."""
    tools = osp.join(osp.dirname(importlib.util.find_spec('mmaction').origin), '.mim', 'tools')
    work_dir = str(tmp_path / 'work')

    def stock(tool: str, *args: str) -> subprocess.CompletedProcess:
        code = (NO_PKG_RESOURCES + 'import runpy\n'
                f'sys.argv = {[osp.join(tools, tool), *args]!r}\n'
                f'runpy.run_path(sys.argv[0], run_name="__main__")\n')
        return run_python(['-c', code], timeout=600, env={'OMP_NUM_THREADS': '1'})

    options = data_root_options(tiny_pose_dataset)
    result = stock('train.py', STGCN_CONFIG, '--work-dir', work_dir, *options, 'train_cfg.max_epochs=1')
    assert result.returncode == 0, result.stderr[-3000:]
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    assert osp.isfile(checkpoint)
    result = stock('test.py', STGCN_CONFIG, checkpoint, '--work-dir', str(tmp_path / 'test'), *options)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r'Epoch\(test\).*acc/top1: [0-9.]+', result.stdout + result.stderr)
