"""Optical flow: known translation, quantisation (exact zero), storage, extraction, resume, RAFT, bad inputs."""
from __future__ import annotations

import importlib.util
import os
import os.path as osp
import zlib

import cv2
import numpy as np
import pytest

from vpd_mm.corpus.crop_store import (FLOW_CLIP, FLOW_LEVELS, CropStore, decode_flow, dequantize_flow,
                                        encode_flow, quantize_flow)
from vpd_mm.stages.crops import extract_crops
from vpd_mm.datasets.transforms.augment import mirror_crops_and_flow
from vpd_mm.stages.flow import extract_flow, make_flow_fn, opencv_flow
from vpd_mm.testing import TinyCorpusSpec, add_crops_and_flow, make_tiny_corpus

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SMALL = TinyCorpusSpec(num_videos=5, num_frames=20, action_len=8)
STEP = FLOW_CLIP / FLOW_LEVELS


def _texture(size: int = 160, seed: int = 0) -> np.ndarray:
    """A smooth random RGB texture (blurred noise), (size, size, 3) uint8."""
    noise = np.random.default_rng(seed).normal(0, 1, (size // 4, size // 4, 3)).astype(np.float32)
    image = cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)
    image = cv2.GaussianBlur(image, (0, 0), 1.5)
    return np.clip(128 + 60 * image / image.std(), 0, 255).astype(np.uint8)


def _shifted_pair(dx: int, dy: int) -> tuple[np.ndarray, np.ndarray]:
    """(prev, current) 128x128 crops where the content moves by (dx, dy): current(p + d) = prev(p)."""
    big = _texture()
    prev = big[16:144, 16:144]
    current = big[16 - dy:144 - dy, 16 - dx:144 - dx]
    return prev, current


@pytest.mark.parametrize('method', ['dis', 'farneback'])
def test_opencv_flow_of_a_known_translation(method):
    prev, current = _shifted_pair(3, -2)
    np.testing.assert_array_equal(current[10, 13], prev[12, 10])  # the construction: (y, x) + (-2, 3)
    flow = opencv_flow(prev, current, method)
    assert flow.shape == (128, 128, 2) and flow.dtype == np.float32
    median = np.median(flow[16:-16, 16:-16].reshape(-1, 2), axis=0)
    np.testing.assert_allclose(median, [3, -2], atol=0.25)
    # batched input gives the same result, and the mirrored pair moves by (-3, -2)
    batch = opencv_flow(np.stack([prev, prev]), np.stack([current, current]), method)
    np.testing.assert_allclose(batch[1], flow, atol=1e-5)
    mirrored_current, mirrored_prev, mirrored_flow = mirror_crops_and_flow(current, prev, flow)
    again = opencv_flow(mirrored_prev, mirrored_current, method)
    np.testing.assert_allclose(np.median(again[16:-16, 16:-16].reshape(-1, 2), axis=0), [-3, -2], atol=0.25)
    np.testing.assert_allclose(np.median(mirrored_flow[16:-16, 16:-16].reshape(-1, 2), axis=0), [-3, -2],
                               atol=0.25)


def test_quantisation_round_trip_and_exact_zero():
    rng = np.random.default_rng(0)
    flow = rng.uniform(-25, 25, (64, 64, 2)).astype(np.float32)
    flow[0, 0] = [0.0, -0.0]
    flow[0, 1] = [STEP * 0.49, -STEP * 0.49]  # rounds to zero
    codes = quantize_flow(flow)
    assert codes.dtype == np.int8 and codes.min() >= -FLOW_LEVELS and codes.max() <= FLOW_LEVELS
    back = dequantize_flow(codes)
    clipped = np.clip(flow, -FLOW_CLIP, FLOW_CLIP)
    assert np.abs(back - clipped).max() <= STEP / 2 + 1e-5
    assert (back[0, 0] == 0.0).all() and (back[0, 1] == 0.0).all()       # zero decodes to exactly 0.0
    np.testing.assert_array_equal(quantize_flow(-flow), -codes)          # symmetric: negating commutes
    assert dequantize_flow(quantize_flow(np.array([25.0, -30.0]))).tolist() == [FLOW_CLIP, -FLOW_CLIP]
    assert quantize_flow(np.array([np.nan, np.inf, -np.inf])).tolist() == [0, FLOW_LEVELS, -FLOW_LEVELS]
    # the stored codec is lossless on the codes
    decoded = decode_flow(np.frombuffer(encode_flow(np.resize(flow, (128, 128, 2))), np.uint8))
    np.testing.assert_array_equal(decoded, dequantize_flow(quantize_flow(np.resize(flow, (128, 128, 2)))))
    assert (decode_flow(np.frombuffer(encode_flow(np.zeros((128, 128, 2))), np.uint8)) == 0.0).all()
    # a stream of the wrong size (either way) or not zlib at all is a ValueError, never a wrong-shaped field
    for bad in (zlib.compress(bytes(2 * 64 * 64)), zlib.compress(bytes(2 * 128 * 128 + 1)), b'not zlib' * 9):
        with pytest.raises(ValueError, match='flow field'):
            decode_flow(np.frombuffer(bad, np.uint8))


def test_extract_flow_on_the_tiny_corpus_and_resume(tmp_path):
    corpus = make_tiny_corpus(str(tmp_path / 'c'), spec=SMALL)
    add_crops_and_flow(corpus)
    store = corpus.crops
    assert store.flow_ids() == corpus.video_ids()
    for video_id in corpus.video_ids():
        np.testing.assert_array_equal(store.flow_frames(video_id), store.crop_frames(video_id))
        assert store.flow_meta(video_id)['method'] == 'farneback'
    # the stored flow explains the motion: warping the previous crop by it matches the current crop better
    errors_zero, errors_flow = [], []
    for frame in range(2, SMALL.num_frames):
        current, prev = store.read_crops('tiny_000', frame)
        flow = store.read_flow('tiny_000', frame)
        assert flow.shape == (128, 128, 2) and flow.dtype == np.float32 and np.abs(flow).max() <= FLOW_CLIP
        grid = np.mgrid[:128, :128].astype(np.float32)
        # current(p) ~ prev(p - flow(p)) for small smooth flow
        warped = cv2.remap(prev, grid[1] - flow[..., 0], grid[0] - flow[..., 1], cv2.INTER_LINEAR)
        errors_zero.append(np.abs(current.astype(float) - prev).mean())
        errors_flow.append(np.abs(current.astype(float) - warped).mean())
    assert np.mean(errors_flow) < 0.8 * np.mean(errors_zero)
    stamp = os.stat(corpus.path('flow', 'tiny_000', 'data.npy')).st_mtime_ns
    counts = extract_flow(corpus, progress=False)
    assert (counts['written'], counts['skipped'], counts['errors']) == (0, 5, 0)
    assert os.stat(corpus.path('flow', 'tiny_000', 'data.npy')).st_mtime_ns == stamp
    # another method over existing flow: a counted error unless overwrite
    counts = extract_flow(corpus, method='dis', video_ids=['tiny_000'], progress=False)
    assert counts['errors'] == 1 and "holds 'farneback' flow, asked for 'dis'" in counts['failed'][0]
    counts = extract_flow(corpus, method='dis', video_ids=['tiny_000'], progress=False, overwrite=True)
    assert counts['written'] == 1 and store.flow_meta('tiny_000')['method'] == 'dis'


def test_flow_without_crops_is_a_counted_error(tmp_path):
    corpus = make_tiny_corpus(str(tmp_path / 'c'), spec=SMALL)
    extract_crops(corpus, video_ids=['tiny_001'], progress=False)
    counts = extract_flow(corpus, video_ids=['tiny_000', 'tiny_001'], progress=False)
    assert (counts['written'], counts['errors']) == (1, 1)
    assert 'crops/tiny_000: no complete crops' in counts['failed'][0]


def test_raft_needs_a_weights_file_and_runs_with_one(tmp_path):
    import torch
    from torchvision.models.optical_flow import raft_small
    with pytest.raises(ValueError, match="'raft' needs a torchvision RAFT weights file"):
        make_flow_fn('raft')
    with pytest.raises(FileNotFoundError, match='missing.pth: RAFT weights file does not exist'):
        make_flow_fn('raft', str(tmp_path / 'missing.pth'))
    wrong = str(tmp_path / 'wrong.pth')
    torch.save({'conv.weight': torch.zeros(3, 3)}, wrong)
    with pytest.raises(ValueError, match='wrong.pth: not a torchvision raft_large or raft_small'):
        make_flow_fn('raft', wrong)
    # a (randomly initialised) raft_small state dict: loads as raft_small, gives (N, 128, 128, 2) pixel flow
    torch.manual_seed(0)
    weights = str(tmp_path / 'raft_small.pth')
    torch.save(raft_small(weights=None).state_dict(), weights)
    flow_fn = make_flow_fn('raft', weights, device='cpu')
    flow_fn.iters = 2
    prev, current = _shifted_pair(3, -2)
    flow = flow_fn(prev[None], current[None])
    assert flow.shape == (1, 128, 128, 2) and flow.dtype == np.float32 and np.isfinite(flow).all()
    with pytest.raises(ValueError, match='multiples of 8, at least 128'):
        flow_fn(prev[None, :64, :64], current[None, :64, :64])


def test_extract_flow_tool(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('extract_flow_tool', osp.join(REPO, 'tools/data/extract_flow.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    corpus = make_tiny_corpus(str(tmp_path / 'c'), spec=SMALL)
    with pytest.raises(SystemExit, match='error: --method raft needs --raft-weights PATH'):
        tool.main([corpus.root, '--method', 'raft'])
    with pytest.raises(SystemExit, match=r'error: .*c/crops: folder: no crops \(run tools/data/extract_crops.py'):
        tool.main([corpus.root, '--videos', 'tiny_000'])  # no crops/ at all: the stage to run first is named
    extract_crops(corpus, video_ids=['tiny_000'], progress=False)
    tool.main([corpus.root, '--videos', 'tiny_000', '--method', 'dis'])
    assert 'flow (dis): 1 videos written (20 frames)' in capsys.readouterr().out
