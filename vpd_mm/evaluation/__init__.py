"""Evaluation on arrays: metrics and result dumps (registered in mmaction2's METRICS)."""
from .dump import DumpPredictionsJSON
from .frame_metric import FrameAccuracy  # noqa: F401
from .distill_loss import DistillLossMetric  # noqa: F401
from .dtw import dtw_distance, pairwise_dtw  # noqa: F401
from .knn import DTWNearestNeighbor  # noqa: F401
from .retrieval import retrieval_precision  # noqa: F401
from .detection import detection_ap, detection_ap_table, proposals_from_scores, video_proposals  # noqa: F401
from .detection_metric import TemporalDetectionAP  # noqa: F401

__all__ = ['DumpPredictionsJSON', 'FrameAccuracy', 'DistillLossMetric', 'dtw_distance', 'pairwise_dtw',
           'DTWNearestNeighbor', 'retrieval_precision', 'detection_ap', 'detection_ap_table', 'proposals_from_scores',
           'video_proposals', 'TemporalDetectionAP']
