"""Deterministic synthetic data for tests and the quick demo."""
from .synthetic import TINY_CLASSES, TinyCorpusSpec, add_crops_and_flow, figure_pose, make_tiny_corpus

__all__ = ['TINY_CLASSES', 'TinyCorpusSpec', 'add_crops_and_flow', 'figure_pose', 'make_tiny_corpus']
