"""The layer rules of design.md section 3, checked on the parsed imports of every module of ``vpd_mm``.

Layers, lowest first; a package may import its own layer and the layers below, never one above:

0. ``compat``, ``utils``, ``pose``: import nothing of ours but each other (``pose`` nothing at all)
1. ``corpus``, ``mocap``: the corpus layout and DeepMimic
2. ``models``, ``evaluation``, ``engine``, ``teachers``, ``datasets``
3. ``mocap_sports``, ``stages``, ``protocols``: compose the layers below
4. ``apis``, ``testing`` and the package root
"""
from __future__ import annotations

import ast
import os
import os.path as osp
from collections import defaultdict

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PACKAGE = osp.join(REPO, 'vpd_mm')
LAYER = dict(compat=0, utils=0, pose=0, corpus=1, mocap=1, models=2, evaluation=2, engine=2, teachers=2,
             datasets=2, mocap_sports=3, stages=3, protocols=3, apis=4, testing=4)
LAYER[''] = 4  # vpd_mm/__init__.py


def _modules() -> dict[str, tuple[str, ast.Module]]:
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                path = osp.join(folder, name)
                dotted = osp.relpath(path, REPO)[:-3].replace(os.sep, '.')
                module = dotted[:-len('.__init__')] if name == '__init__.py' else dotted
                with open(path) as f:
                    found[module] = (path, ast.parse(f.read(), path))
    return found


MODULES = _modules()


def _imports(module: str, tree: ast.Module) -> set[str]:
    """Every ``vpd_mm`` module or name imported anywhere in the module (module level and inside functions)."""
    package = module if MODULES[module][0].endswith('__init__.py') else module.rpartition('.')[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[:len(package.split('.')) - (node.level - 1)]
                target = '.'.join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ''
            if target.split('.')[0] == 'vpd_mm':
                for alias in node.names:  # `from .x import y`: y may be a submodule
                    sub = f'{target}.{alias.name}'
                    out.add(sub if sub in MODULES else target)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split('.')[0] == 'vpd_mm')
    return out


def _package(module: str) -> str:
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def _third_party(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.update({node.module} | {f'{node.module}.{a.name}' for a in node.names})
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def _calls(tree: ast.Module) -> set[str]:
    """Dotted names of every call, e.g. ``np.load``, ``open``, ``MODELS.build``."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            parts, func = [], node.func
            while isinstance(func, ast.Attribute):
                parts.append(func.attr)
                func = func.value
            if isinstance(func, ast.Name):
                out.add('.'.join([func.id] + parts[::-1]))
            elif parts:
                out.add('.'.join(parts[::-1]))  # e.g. ``loss.backward()`` on an expression
    return out


GRAPH = {m: _imports(m, tree) for m, (_, tree) in MODULES.items()}


def test_every_package_has_a_layer():
    assert {_package(m) for m in MODULES} <= set(LAYER), 'a new package needs its place in LAYER and design.md'


def test_no_package_imports_a_higher_layer():
    broken = sorted(f'{m} -> {t}' for m, targets in GRAPH.items() for t in targets
                    if LAYER[_package(t)] > LAYER[_package(m)])
    assert not broken, broken


def test_pose_imports_nothing_of_ours():
    broken = sorted(f'{m} -> {t}' for m, targets in GRAPH.items() if _package(m) == 'pose' for t in targets
                    if _package(t) != 'pose')
    assert not broken, broken


FILE_READS = {'open', 'np.load', 'numpy.load', 'json.load', 'cv2.imread', 'cv2.VideoCapture', 'decord.VideoReader',
              'zipfile.ZipFile', 'pickle.load', 'os.listdir', 'glob.glob'}


def test_models_read_no_files():
    """Models get arrays and tensors; the only file a model touches is an init checkpoint of its weights
    (``init_cfg``/``pretrained``, loaded under ``weights_only``), never a corpus or a data file."""
    for module, (path, tree) in MODULES.items():
        if _package(module) != 'models':
            continue
        assert not {t for t in GRAPH[module] if _package(t) in ('corpus', 'datasets', 'stages', 'protocols')}, path
        assert not _calls(tree) & FILE_READS, f'{path} reads files: {sorted(_calls(tree) & FILE_READS)}'


def test_datasets_build_no_models():
    for module, (path, tree) in MODULES.items():
        if _package(module) != 'datasets':
            continue
        ours = {_package(t) for t in GRAPH[module]}
        assert not ours & {'models', 'teachers', 'engine', 'stages', 'protocols'}, f'{path} imports {ours}'
        theirs = _third_party(tree)
        assert not {n for n in theirs if n.endswith('.MODELS') or n.startswith(('torchvision.models', 'mmpose.apis'))}, \
            f'{path} builds models: {sorted(theirs)}'
        assert not any(c.endswith('MODELS.build') for c in _calls(tree)), path


def test_evaluation_never_trains():
    for module, (path, tree) in MODULES.items():
        if _package(module) != 'evaluation':
            continue
        ours = {_package(t) for t in GRAPH[module]}
        assert not ours & {'datasets', 'stages', 'protocols', 'engine', 'teachers'}, f'{path} imports {ours}'
        theirs = _third_party(tree)
        assert not {n for n in theirs if n.startswith(('mmengine.runner', 'torch.optim', 'mmengine.optim'))}, \
            f'{path} trains: {sorted(theirs)}'
        assert not {c for c in _calls(tree) if c.endswith(('.backward', '.train', 'Runner', 'Runner.from_cfg'))}, \
            path


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_modules():
    # a package's __init__ re-exporting its own modules is not a cycle of the design: leave those edges out
    graph = {m: {t for t in targets if not (MODULES[t][0].endswith('__init__.py') and m.startswith(t + '.'))
                 and t != m}
             for m, targets in GRAPH.items()}
    graph = {m: {t for t in targets if t in MODULES} for m, targets in graph.items()}
    assert _cycles(graph) == []


@pytest.mark.parametrize('edge, rule', [
    ({'vpd_mm.pose.skeleton': {'vpd_mm.corpus.corpus'}}, 'pose'),
    ({'vpd_mm.corpus.corpus': {'vpd_mm.stages.crops'}}, 'layer'),
    ({'vpd_mm.stages.crops': {'vpd_mm.stages.flow'}, 'vpd_mm.stages.flow': {'vpd_mm.stages.crops'}}, 'cycle'),
])
def test_the_checks_catch_a_planted_violation(edge, rule):
    """Each rule fails on a graph with one planted bad edge (the checks are not vacuous)."""
    graph = {m: set(t) for m, t in GRAPH.items()}
    for module, targets in edge.items():
        graph[module] = graph[module] | targets
    if rule == 'pose':
        assert any(_package(t) != 'pose' for m, ts in graph.items() if _package(m) == 'pose' for t in ts)
    elif rule == 'layer':
        assert any(LAYER[_package(t)] > LAYER[_package(m)] for m, ts in graph.items() for t in ts)
    else:
        clean = {m: {t for t in ts if t in MODULES and t != m and not (MODULES[t][0].endswith('__init__.py')
                                                                      and m.startswith(t + '.'))}
                 for m, ts in graph.items()}
        assert ['vpd_mm.stages.crops', 'vpd_mm.stages.flow'] in _cycles(clean)
