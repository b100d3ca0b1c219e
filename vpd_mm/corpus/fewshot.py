"""Training subsets for the few-shot protocol: seeded draws, id lists, and a validation subset carved from train.

The paper (section 4.1.1) trains on k examples per class, five fixed random subsets per k, and tests on the full
test set. The reference pre-generated those subsets into files without recording a seed (its bug 12); here every
draw is a pure function of ``(seed, k, trial)``, and published lists (one action id per line, e.g.
``annotations/fewshot/<k>_<trial>.txt`` or the reference's ``train_<k>_<trial>.ids.txt``) read back with checks:
an empty list, an id the corpus does not know, or an id from the val or test split is an error naming the file.

FX35 and Diving48 have no validation split in their native labels, and the reference validates (model selection,
early stopping) on the test set for them (its bug 6). :func:`carve_validation` instead takes a seeded,
class-stratified fraction of the training actions as the validation subset; few-shot draws never come from it.
"""
from __future__ import annotations

import os.path as osp
from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np

from .corpus import Action, Corpus, CorpusFormatError

__all__ = ['draw_fewshot', 'carve_validation', 'read_fewshot_ids', 'fewshot_list_path', 'write_fewshot_lists']


def _by_class(actions: Iterable[Action]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for action in actions:
        groups[action.label].append(action.id)
    return {label: sorted(ids) for label, ids in sorted(groups.items())}


def draw_fewshot(actions: Sequence[Action], k: int, trial: int, seed: int,
                 exclude: Iterable[str] = ()) -> list[str]:
    """Draw ``k`` training actions per class (all of them when a class has fewer).

    Only actions of the ``train`` split are drawn, minus ``exclude`` (e.g. a carved validation subset). The draw
    depends on ``(seed, k, trial)`` only (``numpy.random.default_rng([seed, k, trial])``, classes and ids in sorted
    order), so it is the same on every run and machine; draws for different ``k`` are independent, as in the
    reference (lists are not nested across ``k``).

    Args:
        actions (Sequence[Action]): the corpus actions (any splits; only ``train`` ones are used).
        k (int): examples per class, >= 1.
        trial (int): trial index, >= 0.
        seed (int): base seed.
        exclude (Iterable[str]): action ids never drawn.

    Returns:
        list[str]: the drawn action ids, sorted.
    """
    if k < 1:
        raise ValueError(f'k must be >= 1, got {k}')
    if trial < 0:
        raise ValueError(f'trial must be >= 0, got {trial}')
    excluded = set(exclude)
    pool = [a for a in actions if a.split == 'train' and a.id not in excluded]
    if not pool:
        raise ValueError('no training actions to draw from')
    rng = np.random.default_rng([int(seed), int(k), int(trial)])
    chosen: list[str] = []
    for _, ids in _by_class(pool).items():
        if len(ids) <= k:
            chosen.extend(ids)
        else:
            picks = rng.choice(len(ids), size=k, replace=False)
            chosen.extend(ids[i] for i in picks)
    return sorted(chosen)


def carve_validation(actions: Sequence[Action], fraction: float, seed: int = 0) -> list[str]:
    """A seeded, class-stratified validation subset of the training actions.

    Per class, ``round(fraction * n)`` of its ``n`` training actions go to validation, but always at least one
    stays in train (a class with one training action gives none). Used for FX35 and Diving48, whose native
    labels have no validation split (the reference validates those on the test set instead).

    Args:
        actions (Sequence[Action]): the corpus actions (only ``train`` ones are used).
        fraction (float): in (0, 1).
        seed (int): seed of the draw.

    Returns:
        list[str]: the validation action ids, sorted.
    """
    if not 0 < fraction < 1:
        raise ValueError(f'fraction must be in (0, 1), got {fraction}')
    rng = np.random.default_rng([int(seed), 7919])
    chosen: list[str] = []
    for _, ids in _by_class(a for a in actions if a.split == 'train').items():
        n_val = min(int(round(fraction * len(ids))), len(ids) - 1)
        if n_val > 0:
            chosen.extend(ids[i] for i in rng.choice(len(ids), size=n_val, replace=False))
    return sorted(chosen)


def read_fewshot_ids(path: str, actions: Sequence[Action]) -> list[str]:
    """Read a few-shot id list (one action id per line) and check it against the corpus actions.

    Args:
        path (str): the list file.
        actions (Sequence[Action]): the corpus actions.

    Returns:
        list[str]: the ids, in file order, without duplicates.

    Raises:
        CorpusFormatError: the file is missing or empty, names ids the corpus does not have, or names actions of
            the val or test split.
    """
    ids = list(dict.fromkeys(Corpus('').read_id_list(path)))
    if not ids:
        raise CorpusFormatError(path, 'ids', 'the few-shot list is empty')
    by_id = {a.id: a for a in actions}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise CorpusFormatError(path, 'ids', f'{len(unknown)} of {len(ids)} ids are not actions of the corpus, '
                                f'e.g. {unknown[:3]}')
    held_out = [i for i in ids if by_id[i].split != 'train']
    if held_out:
        raise CorpusFormatError(path, 'ids', f'{len(held_out)} ids are val/test actions (a few-shot list may only '
                                f'name training actions), e.g. {held_out[:3]}')
    return ids


def fewshot_list_path(folder: str, k: int, trial: int) -> str:
    """``<folder>/<k>_<trial>.txt`` (the corpus naming), or the reference's ``train_<k>_<trial>.ids.txt`` when
    only that one exists."""
    ours = osp.join(folder, f'{k}_{trial}.txt')
    reference = osp.join(folder, f'train_{k}_{trial}.ids.txt')
    if not osp.exists(ours) and osp.exists(reference):
        return reference
    return ours


def write_fewshot_lists(corpus: Corpus, ks: Sequence[int], trials: int, seed: int,
                        exclude: Iterable[str] = (), folder: str | None = None) -> list[str]:
    """Draw and write ``<folder>/<k>_<trial>.txt`` for every ``k`` and trial (default folder:
    ``annotations/fewshot/`` of the corpus); existing files are kept.

    Returns:
        list[str]: the paths, in (k, trial) order.
    """
    folder = folder or osp.dirname(corpus.fewshot_path(0, 0))
    actions = corpus.read_actions()
    exclude = list(exclude)
    paths = []
    for k in ks:
        for trial in range(trials):
            path = osp.join(folder, f'{k}_{trial}.txt')
            if not osp.exists(path):
                corpus.write_id_list(path, draw_fewshot(actions, k, trial, seed, exclude))
            paths.append(path)
    return paths
