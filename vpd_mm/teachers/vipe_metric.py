"""View-invariance metric: hit@1 of retrieving the same 3D frame seen from another camera."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric
from scipy.spatial.distance import cdist

__all__ = ['cross_view_hit_at_1', 'ViewRetrievalMetric']


def cross_view_hit_at_1(query: np.ndarray, gallery: np.ndarray, seq: Optional[np.ndarray] = None,
                        frame: Optional[np.ndarray] = None, tolerance: int = 0) -> float:
    """Share of queries whose Euclidean nearest neighbour in the gallery is their own frame.

    Row ``i`` of ``query`` and row ``i`` of ``gallery`` are two views of the same 3D frame; every gallery row is
    a candidate. With ``tolerance > 0``, a neighbour from the same sequence within ``tolerance`` frames also
    counts.

    Args:
        query (np.ndarray): (N, d) features of view A.
        gallery (np.ndarray): (N, d) features of view B.
        seq (np.ndarray, optional): (N,) sequence ids (needed for ``tolerance > 0``).
        frame (np.ndarray, optional): (N,) frame numbers (needed for ``tolerance > 0``).
        tolerance (int): frames. Defaults to 0.

    Returns:
        float: hit@1 in [0, 1].
    """
    if len(query) == 0:
        raise ValueError('cross_view_hit_at_1: no samples')
    nearest = cdist(query, gallery).argmin(axis=1)
    if tolerance <= 0:
        return float((nearest == np.arange(len(query))).mean())
    if seq is None or frame is None:
        raise ValueError('cross_view_hit_at_1: tolerance > 0 needs seq and frame')
    hit = (seq[nearest] == seq) & (np.abs(frame[nearest] - frame) <= tolerance)
    return float(hit.mean())


@METRICS.register_module()
class ViewRetrievalMetric(BaseMetric):
    """hit@1 of cross-view retrieval for VIPE* embeddings and for normalised 2D joints on the same views.

    Expects the outputs of :meth:`VIPEEmbedder.predict` on :class:`VIPEViewPairDataset`: per sample ``emb``
    (2, d), ``pose2d`` (2, 26), ``seq`` and ``frame``. Reports ``view_retrieval/hit1`` (the embedding),
    ``view_retrieval/hit1_pose2d`` (the baseline) and ``view_retrieval/num_samples``.

    Args:
        tolerance (int): frames of slack within a sequence (0 = the exact frame). Defaults to 0.
        collect_device (str): see mmengine. Defaults to 'cpu'.
        prefix (str, optional): defaults to ``'view_retrieval'``.
    """

    default_prefix = 'view_retrieval'

    def __init__(self, tolerance: int = 0, collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.tolerance = tolerance

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep the embeddings and baseline features of a batch."""
        for sample in data_samples:
            self.results.append(dict(emb=np.asarray(sample['emb']), pose2d=np.asarray(sample['pose2d']),
                                     seq=int(sample['seq']), frame=int(sample['frame'])))

    def compute_metrics(self, results: list) -> dict[str, float]:
        """hit@1 of both feature kinds."""
        emb = np.stack([r['emb'] for r in results])
        pose2d = np.stack([r['pose2d'] for r in results])
        seq = np.array([r['seq'] for r in results])
        frame = np.array([r['frame'] for r in results])
        return dict(
            hit1=cross_view_hit_at_1(emb[:, 0], emb[:, 1], seq, frame, self.tolerance),
            hit1_pose2d=cross_view_hit_at_1(pose2d[:, 0], pose2d[:, 1], seq, frame, self.tolerance),
            num_samples=float(len(results)))
