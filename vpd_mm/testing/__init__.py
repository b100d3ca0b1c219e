"""Deterministic synthetic data for tests and the quick demo."""
from .synthetic import TINY_CLASSES, TinyCorpusSpec, figure_pose, make_tiny_corpus

__all__ = ['TINY_CLASSES', 'TinyCorpusSpec', 'figure_pose', 'make_tiny_corpus']
