"""Evaluation on arrays: metrics and result dumps (registered in mmaction2's METRICS)."""
from .dump import DumpPredictionsJSON

__all__ = ['DumpPredictionsJSON']
