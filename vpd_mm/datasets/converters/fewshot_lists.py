"""Import published few-shot id lists into ``annotations/fewshot/<k>_<trial>.txt``.

The reference ships ``train_<k>_<trial>.ids.txt`` per benchmark (``spec/reference_vpd.md`` sections 6.4, 9.6,
11): one action id per line, the last line without a newline, k examples per class drawn from the training split.
Every id is checked against the corpus (``annotations/actions.json``):

- a training action: kept (file order, duplicates dropped and counted);
- an id the converter deliberately left out (``annotations/excluded.txt``: tennis serve/nonshot/special swings,
  FineGym elements of the other apparatus, swings outside every point clip): skipped, counted and logged;
- an id of a val or test action: an error naming the file, line and id. For FX35 and Diving48 the corpus val
  split is carved from train (the reference has none), so published lists, drawn from the full train split, may
  name carved val actions: ``drop_val=True`` leaves those out (counted), or prepare the corpus with
  ``--val-fraction 0`` and let ``ActionSequenceDataset(carve_val=...)`` carve around each list instead;
- any other id: an error naming the file, line and id.

A list with no id left is an error too (an empty few-shot split).
"""
from __future__ import annotations

import os
import os.path as osp
import re
from typing import Iterable, Sequence

from ...corpus.corpus import Action, Corpus
from .common import LabelFileError, SkipLog, read_label_lines

__all__ = ['PUBLISHED_LIST_PATTERN', 'EXCLUDED_FILE', 'find_fewshot_lists', 'read_excluded', 'write_excluded',
           'validate_fewshot_list', 'import_fewshot_lists']

PUBLISHED_LIST_PATTERN = re.compile(r'^(?:train_)?(\d+)_(\d+)(?:\.ids)?\.txt$')
"""``train_<k>_<trial>.ids.txt`` (reference) or ``<k>_<trial>.txt`` (corpus naming)."""

EXCLUDED_FILE = ('annotations', 'excluded.txt')


def find_fewshot_lists(folder: str) -> dict[tuple[int, int], str]:
    """Few-shot list files in ``folder``: ``(k, trial) -> path``.

    Raises:
        LabelFileError: the folder does not exist, or one ``(k, trial)`` has two files.
    """
    if not osp.isdir(folder):
        raise LabelFileError(folder, None, 'few-shot list folder does not exist')
    found: dict[tuple[int, int], str] = {}
    for name in sorted(os.listdir(folder)):
        match = PUBLISHED_LIST_PATTERN.match(name)
        if not match:
            continue
        key = (int(match.group(1)), int(match.group(2)))
        if key in found:
            raise LabelFileError(osp.join(folder, name), None, f'a second list for k={key[0]} trial={key[1]} '
                                 f'(also {osp.basename(found[key])})')
        found[key] = osp.join(folder, name)
    return found


def write_excluded(corpus: Corpus, excluded: Sequence[tuple[str, str]]) -> None:
    """Write ``annotations/excluded.txt``: ``<id>\\t<reason>`` per line (atomic)."""
    corpus.write_id_list(corpus.path(*EXCLUDED_FILE), [f'{i}\t{reason}' for i, reason in excluded])


def read_excluded(corpus: Corpus) -> dict[str, str]:
    """``id -> reason`` from ``annotations/excluded.txt`` (empty when the file does not exist)."""
    path = corpus.path(*EXCLUDED_FILE)
    if not osp.isfile(path):
        return {}
    result = {}
    for _, text in read_label_lines(path):
        item, _, reason = text.partition('\t')
        result[item] = reason
    return result


def validate_fewshot_list(path: str, actions: dict[str, Action], excluded: dict[str, str] | None = None,
                          drop_val: bool = False, skips: SkipLog | None = None, hint: str = '') -> list[str]:
    """The training action ids of one list, checked as the module docstring says.

    Args:
        path (str): the list file.
        actions (dict[str, Action]): corpus actions by id.
        excluded (dict[str, str], optional): ids left out by the converter, with the reason.
        drop_val (bool): leave out val ids (counted) instead of failing.
        skips (SkipLog, optional): collects the skipped ids.
        hint (str): appended to the val-id error.

    Returns:
        list[str]: the kept ids in file order.

    Raises:
        LabelFileError: a val/test or unknown id (names file, line and id), or no id left.
    """
    excluded = excluded or {}
    skips = skips if skips is not None else SkipLog('few-shot id')
    kept: list[str] = []
    seen: set[str] = set()
    for line, item in read_label_lines(path):
        if item in seen:
            skips.skip('listed twice', f'{item} ({osp.basename(path)}:{line})')
            continue
        seen.add(item)
        action = actions.get(item)
        if action is None:
            if item in excluded:
                skips.skip(f'not a corpus action ({excluded[item]})', item)
                continue
            raise LabelFileError(path, line, f'unknown id {item!r} (not an action of the corpus)')
        if action.split == 'val' and drop_val:
            skips.skip('in the val split (--drop-val)', item)
            continue
        if action.split != 'train':
            raise LabelFileError(path, line, f'id {item!r} is a {action.split} action; few-shot lists may only name '
                                 f'training actions{hint if action.split == "val" else ""}')
        kept.append(item)
    if not kept:
        raise LabelFileError(path, None, f'no training action left in the list (empty few-shot split; '
                             f'{skips.total} ids skipped)')
    return kept


def import_fewshot_lists(corpus: Corpus, sources: str | Iterable[str], ks: Sequence[int] | None = None,
                         trials: Sequence[int] | None = None, drop_val: bool = False
                         ) -> dict[tuple[int, int], tuple[str, int, SkipLog]]:
    """Validate published lists and write them as ``annotations/fewshot/<k>_<trial>.txt`` (atomic).

    Args:
        corpus (Corpus): the prepared corpus.
        sources (str | Iterable[str]): a folder of lists, or list files (named ``train_<k>_<trial>.ids.txt``
            or ``<k>_<trial>.txt``).
        ks (Sequence[int], optional): only these k.
        trials (Sequence[int], optional): only these trials (the paper averages trials 0..4).
        drop_val (bool): see the module docstring.

    Returns:
        dict: ``(k, trial) -> (written path, number of ids, skipped ids)``.

    Raises:
        LabelFileError: a bad list (nothing is written then), no list found, a file name that does not say k
            and trial.
    """
    if isinstance(sources, str) and osp.isdir(sources):
        lists = find_fewshot_lists(sources)
    else:
        files = [sources] if isinstance(sources, str) else list(sources)
        lists = {}
        for path in files:
            match = PUBLISHED_LIST_PATTERN.match(osp.basename(path))
            if not match:
                raise LabelFileError(path, None, 'name must be train_<k>_<trial>.ids.txt or <k>_<trial>.txt')
            lists[(int(match.group(1)), int(match.group(2)))] = path
    lists = {key: path for key, path in lists.items()
             if (ks is None or key[0] in ks) and (trials is None or key[1] in trials)}
    if not lists:
        raise LabelFileError(str(sources), None, 'no few-shot list (train_<k>_<trial>.ids.txt) found')
    actions = {a.id: a for a in corpus.read_actions()}
    excluded = read_excluded(corpus)
    meta = corpus.read_meta()
    hint = ''
    if str(meta.extra.get('val_split', '')).startswith('carved'):
        hint = ('; this corpus carved its val split from train, use --drop-val (drop_val=True), or prepare it '
                'with --val-fraction 0 and carve per list in ActionSequenceDataset')
    checked = {}
    for (k, trial), path in sorted(lists.items()):  # check every list before writing any
        skips = SkipLog('few-shot id')
        checked[(k, trial)] = (validate_fewshot_list(path, actions, excluded, drop_val, skips, hint), skips)
    result = {}
    for (k, trial), (ids, skips) in checked.items():
        out = corpus.fewshot_path(k, trial)
        corpus.write_id_list(out, ids)
        result[(k, trial)] = (out, len(ids), skips)
    return result
