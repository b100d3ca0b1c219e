"""Build script for ``pip install -e .`` / ``mim install -e .`` (the OpenMMLab way) and ``python setup.py develop``.

The metadata lives in ``pyproject.toml`` ([project]); setuptools >= 61 reads it from there and this file only calls
``setup()``. Older setuptools (OpenMMLab environments often hold setuptools 60.2, pinned by openmim's openxlab
dependency) ignore that table: ``pip install --no-build-isolation -e .`` would then install a nameless package
without dependencies, so for them this file passes the same metadata itself, read from ``pyproject.toml``.
"""
from __future__ import annotations

import os.path as osp
import re
import sys

import setuptools

HERE = osp.dirname(osp.abspath(__file__))


def _setuptools_major() -> int:
    match = re.match(r'\d+', setuptools.__version__)
    return int(match.group()) if match else 0


def pyproject_metadata(path: str = osp.join(HERE, 'pyproject.toml')) -> dict:
    """``setup()`` keyword arguments equal to the ``[project]`` table of ``pyproject.toml``.

    Returns:
        dict: ``name``, ``version``, ``description``, ``python_requires``, ``install_requires``, ``extras_require``,
        ``packages`` (``vpd_mm`` and its subpackages).
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: tomli, or the copy pip vendors
        try:
            import tomli as tomllib
        except ImportError:
            from pip._vendor import tomli as tomllib  # type: ignore[no-redef]
    with open(path, 'rb') as f:
        project = tomllib.load(f)['project']
    return dict(name=project['name'], version=project['version'], description=project['description'],
                python_requires=project['requires-python'], install_requires=list(project['dependencies']),
                extras_require={k: list(v) for k, v in project.get('optional-dependencies', {}).items()},
                packages=setuptools.find_packages(HERE, include=['vpd_mm', 'vpd_mm.*']))


if __name__ == '__main__':
    setuptools.setup(**(pyproject_metadata() if _setuptools_major() < 61 else {}))
