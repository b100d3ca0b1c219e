"""Fixtures of the baseline tests: the tiny corpus with athlete crops and optical flow."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope='session')
def crop_corpus(tmp_path_factory):
    """The tiny synthetic corpus (seed 0) with ``crops/`` and ``flow/`` (about 6 s), private to these tests."""
    from vpd_mm.testing import add_crops_and_flow, make_tiny_corpus
    corpus = make_tiny_corpus(str(tmp_path_factory.mktemp('baseline_corpus')), seed=0)
    add_crops_and_flow(corpus)
    return corpus


@pytest.fixture
def one_thread():
    """Run torch on one thread: the CI machine is shared, and two OpenMP threads on two busy cores are 100x
    slower than one on small convolutions (measured: 80 ms vs 0.5 ms)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
