"""The retrieval protocol over a corpus: DTW P@k of every action against all others (what ``tools/retrieve.py``
runs)."""
from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np

from ..corpus import Corpus
from ..datasets.sequence import load_action_sequences
from ..evaluation.dtw import pairwise_dtw
from ..evaluation.retrieval import retrieval_precision

__all__ = ['corpus_retrieval']

logger = logging.getLogger(__name__)


def corpus_retrieval(corpus_root: str, features: str, splits: Sequence[str] = ('train', 'val', 'test'),
                     query_splits: Sequence[str] | None = None, ks: Sequence[int] = (1, 10, 50),
                     window: str = 'sport', fallback: bool = False, progress: bool = False) -> dict[str, Any]:
    """Retrieval on a corpus (what ``tools/retrieve.py`` runs): P@k of DTW on original+mirrored features.

    Each action's sequence comes from :func:`vpd_mm.datasets.sequence.load_action_sequences` (per-sport window,
    interpolation of missing frames, subsampling to ``max_fps``); its original and mirrored features are
    concatenated per frame, ``(T, 2, d) -> (T, 2d)``, and every other action is ranked by symmetricP2 DTW.

    Args:
        corpus_root (str): the corpus folder.
        features (str): ``'teacher/<name>'`` or ``'features/<name>'``.
        splits (Sequence[str]): actions of these splits form the pool (the reference: all three).
        query_splits (Sequence[str] | None): only actions of these splits are queries (default: every action;
            the reference uses the test split for Diving48).
        ks (Sequence[int]): precision cut-offs.
        window (str): ``'sport'`` or ``'action'`` (see ``vpd_mm.datasets.sequence.action_window``).
        fallback (bool): give pairs without a symmetricP2 path their symmetric2 distance (the reference does
            not: they rank last).
        progress (bool): tqdm progress bar over the DTW pairs.

    Returns:
        dict: the result document: ``task``, ``sport``, ``features``, ``precision`` ``{str(k): P@k}``,
        ``num_actions``, ``num_queries``, ``skipped`` ``[{id, reason}]`` (actions without features: left out of
        the pool and the queries), ``num_inf_pairs``, settings.

    Raises:
        ValueError: no action in ``splits``, or no action with features.
        CorpusFormatError: unreadable corpus files, missing feature folder.
    """
    corpus = Corpus(corpus_root)
    meta = corpus.read_meta()
    actions = [a for a in corpus.read_actions() if a.split in set(splits)]
    if not actions:
        raise ValueError(f'{corpus.path("annotations", "actions.json")}: no actions in splits {list(splits)}')
    sequences, skipped = load_action_sequences(corpus, features, actions, window=window)
    if skipped:
        logger.warning('retrieval: skipped %d of %d actions without features (e.g. %s)', len(skipped),
                       len(actions), '; '.join(f'{i}: {r}' for i, r in skipped[:3]))
    kept = [a for a in actions if a.id in sequences]
    if len(kept) < 2:
        raise ValueError(f'{corpus.path(features)}: {len(kept)} action(s) with features; retrieval needs two')
    flat = [sequences[a.id].reshape(len(sequences[a.id]), -1) for a in kept]
    distances = pairwise_dtw(flat, None, step_pattern='symmetricP2', fallback=fallback, progress=progress)
    query_set = set(query_splits) if query_splits is not None else None
    rows = [i for i, a in enumerate(kept) if query_set is None or a.split in query_set]
    if not rows:
        raise ValueError(f'no action with features in the query splits {list(query_splits or [])}')
    precision = retrieval_precision(distances, [a.label for a in kept], ks, queries=rows)
    upper = distances[np.triu_indices(len(kept), 1)]
    return dict(task='retrieval', sport=meta.sport, features=features,
                precision={str(k): v for k, v in precision.items()},
                num_actions=len(kept), num_queries=len(rows), num_skipped=len(skipped),
                skipped=[dict(id=i, reason=r) for i, r in skipped], num_inf_pairs=int(np.isinf(upper).sum()),
                splits=list(splits), query_splits=None if query_splits is None else list(query_splits),
                window=window, step_pattern='symmetricP2', fallback=fallback,
                sequence='original and mirrored features concatenated per frame (T, 2d)')
