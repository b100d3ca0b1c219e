"""Distillation transforms: flip-aware mirroring, colour jitter, background noise, joint resized crop, packing."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import vpd_mm  # noqa: F401
from vpd_mm.datasets.transforms.augment import mirror_crops_and_flow
from vpd_mm.datasets.transforms import (BackgroundNoise, CropColorJitter, LoadCropAndFlow, MirrorCropAndTarget,
                                        PackDistillInputs, ResizedCropWithFlow)
from vpd_mm.datasets.transforms.augment import (adjust_brightness, adjust_contrast, adjust_saturation,
                                               random_resized_crop_window, shift_hue)


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')


def _sample(seed: int = 0, size: int = 6, dim: int = 4) -> dict:
    rng = np.random.default_rng(seed)
    return dict(img=rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
                prev_img=rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
                flow=rng.normal(0, 3, (size, size, 2)).astype(np.float32),
                mask=rng.integers(0, 2, (size, size)).astype(np.uint8),
                target=rng.normal(size=(2, dim)).astype(np.float32),
                prev_target=rng.normal(size=(2, dim)).astype(np.float32))


def test_mirror_numbers_and_twice_is_identity():
    sample = _sample()
    original = {k: v.copy() for k, v in sample.items()}
    flip = MirrorCropAndTarget(prob=1.0)
    once = flip(dict(sample))
    width = sample['img'].shape[1]
    for x in range(width):
        assert np.array_equal(once['img'][:, x], original['img'][:, width - 1 - x])
        assert np.array_equal(once['flow'][:, x, 0], -original['flow'][:, width - 1 - x, 0])  # dx negated
        assert np.array_equal(once['flow'][:, x, 1], original['flow'][:, width - 1 - x, 1])  # dy kept
        assert np.array_equal(once['mask'][:, x], original['mask'][:, width - 1 - x])
    # rows swapped: row 0 is now the teacher's mirrored feature
    assert np.array_equal(once['target'][0], original['target'][1])
    assert np.array_equal(once['prev_target'][0], original['prev_target'][1])
    assert once['flip'] is True
    # identical to the batched helper mirror_crops_and_flow
    ref_img, ref_prev, ref_flow = mirror_crops_and_flow(original['img'], original['prev_img'], original['flow'])
    assert np.array_equal(once['img'], ref_img) and np.array_equal(once['prev_img'], ref_prev)
    assert np.array_equal(once['flow'], ref_flow)
    twice = flip(once)
    for key, value in original.items():
        assert np.array_equal(twice[key], value), key
    assert twice['flip'] is False


def test_mirror_probability_zero_and_half():
    sample = _sample()
    same = MirrorCropAndTarget(prob=0.0)(dict(sample))
    assert same['flip'] is False and np.array_equal(same['img'], sample['img'])
    np.random.seed(0)
    flips = [MirrorCropAndTarget(prob=0.5)(dict(sample))['flip'] for _ in range(400)]
    assert 160 < sum(flips) < 240


def test_colour_jitter_changes_rgb_only_and_hue_shift_round_trip():
    sample = _sample(size=16)
    flow = sample['flow'].copy()
    np.random.seed(1)
    out = CropColorJitter(0.2, 0.2, 0.05, 0.05)(dict(sample))
    assert out['img'].dtype == np.uint8 and out['img'].shape == (16, 16, 3)
    assert not np.array_equal(out['img'], sample['img'])
    assert np.array_equal(out['flow'], flow)
    assert np.array_equal(CropColorJitter(0, 0, 0, 0)(dict(sample))['img'], sample['img'])
    grey = np.full((4, 4, 3), 100, np.uint8)  # no hue: any shift keeps it
    assert np.array_equal(shift_hue(grey, -0.3), grey)
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 2] = 200  # BGR red
    assert np.abs(shift_hue(shift_hue(red, 1 / 3), -1 / 3).astype(int) - red).max() <= 2
    assert shift_hue(red, 1 / 3)[0, 0].argmax() == 1  # red + 1/3 turn = green


@pytest.mark.parametrize('name,factor', [('brightness', 0.8), ('brightness', 1.2), ('contrast', 0.8),
                                         ('contrast', 1.2), ('saturation', 0.95), ('saturation', 1.05),
                                         ('hue', -0.05), ('hue', 0.05)])
def test_colour_ops_equal_torchvision_on_float_images(name, factor):
    """Each uint8 colour op equals torchvision's functional op on the float image (the reference's ColorJitter),
    rounded: within one level, hue (HSV stored in 8 bits) within a few levels."""
    import torchvision.transforms.functional as F
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    ours = {'brightness': adjust_brightness, 'contrast': adjust_contrast, 'saturation': adjust_saturation,
            'hue': lambda x, f: shift_hue(x, f, order='rgb')}[name](rgb, factor)
    tv = getattr(F, f'adjust_{name}')(torch.from_numpy(rgb).permute(2, 0, 1).float() / 255, factor)
    expected = (tv.permute(1, 2, 0).numpy() * 255).astype(np.float64)
    diff = np.abs(ours.astype(np.float64) - expected)
    if name == 'hue':
        assert diff.mean() < 1.0 and diff.max() <= 10
    else:
        assert diff.max() <= 0.6  # rounded (truncation would be off by up to 1)
    assert ours.dtype == np.uint8 and ours.shape == rgb.shape


def test_background_noise_only_outside_the_person():
    sample = _sample(size=32)
    sample['mask'] = np.zeros((32, 32), np.uint8)
    sample['mask'][8:24, 8:24] = 255  # the athlete
    np.random.seed(0)
    out = BackgroundNoise(prob=1.0)(dict(sample))
    diff = out['img'] - sample['img'].astype(np.float32)
    assert np.all(diff[8:24, 8:24] == 0)  # bug 1 fixed: the athlete is left alone
    background = np.ones((32, 32), bool)
    background[8:24, 8:24] = False
    # sd sqrt(0.05) * rgb_std * 255, about 13 pixel levels for the red channel
    assert diff[background][:, 0].std() == pytest.approx(0.05 ** 0.5 * 0.229 * 255, rel=0.15)
    no_mask = {k: v for k, v in sample.items() if k != 'mask'}
    skip = BackgroundNoise(prob=1.0)
    assert np.array_equal(skip(dict(no_mask))['img'], sample['img']) and skip.skipped_without_mask == 1
    whole = BackgroundNoise(prob=1.0, no_mask='whole')(dict(no_mask))['img']
    assert (whole != sample['img']).mean() > 0.9


def test_resized_crop_uses_one_window_for_rgb_and_flow():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (128, 128, 3)).astype(np.uint8)
    flow = img[..., :2].astype(np.float32)  # flow channels = copies of R and G: must stay equal after the crop
    np.random.seed(0)
    for _ in range(5):
        out = ResizedCropWithFlow(size=128, scale=(0.5, 1.0), ratio=(0.9, 1.1))(dict(img=img, flow=flow))
        assert out['img'].shape == (128, 128, 3) and out['flow'].shape == (128, 128, 2)
        assert out['img'].dtype == np.uint8  # resized on OpenCV's uint8 fixed-point path
        assert np.abs(out['img'][..., :2] - out['flow']).max() <= 1.0
        left, top, width, height = out['crop_box']
        assert 0.5 * 128 * 128 * 0.999 <= width * height <= 128 * 128 and 0.89 < width / height < 1.11
    np.random.seed(3)
    exact = ResizedCropWithFlow(size=128)(dict(img=img.astype(np.float32), flow=flow))  # a float crop stays float
    assert exact['img'].dtype == np.float32 and np.allclose(exact['img'][..., :2], exact['flow'], atol=1e-3)
    scaled = ResizedCropWithFlow(size=128, scale=(0.25, 0.25), ratio=(1, 1), rescale_flow=True)(
        dict(img=img, flow=np.ones((128, 128, 2), np.float32)))
    assert np.allclose(scaled['flow'], 2.0)  # a 64-px window enlarged 2x: 1 px of flow becomes 2 px


def test_random_resized_crop_window_matches_torchvision_rules():
    import torchvision.transforms as T
    np.random.seed(0)
    torch.manual_seed(0)
    ours = np.array([random_resized_crop_window(96, 128, (0.5, 1.0), (0.9, 1.1)) for _ in range(4000)])
    theirs = np.array([T.RandomResizedCrop.get_params(torch.empty(1, 96, 128), [0.5, 1.0], [0.9, 1.1])
                       for _ in range(4000)])
    top, left, h, w = ours.T
    assert (top >= 0).all() and (left >= 0).all() and (top + h <= 96).all() and (left + w <= 128).all()
    area, their_area = h * w / (96 * 128), theirs[:, 2] * theirs[:, 3] / (96 * 128)
    assert area.min() >= 0.49 and area.max() <= 1.0 and (w / h).min() > 0.88 and (w / h).max() < 1.12
    assert abs(area.mean() - their_area.mean()) < 0.01  # the same distribution as torchvision's draws
    assert abs(np.mean(w / h) - np.mean(theirs[:, 3] / theirs[:, 2])) < 0.01
    # no window of the asked shape fits: the whole image clipped to the ratio, centred (torchvision's fallback)
    assert random_resized_crop_window(128, 128, (1.0, 1.0), (2.0, 2.0)) == (32, 0, 64, 128)
    assert random_resized_crop_window(64, 128, (1.0, 1.0), (1.0, 1.0)) == (0, 32, 64, 64)
    assert T.RandomResizedCrop.get_params(torch.empty(1, 128, 128), [1.0, 1.0], [2.0, 2.0]) == (32, 0, 64, 128)


def test_pack_and_load(distill_corpus):
    from vpd_mm.corpus.crop_store import CropStore
    store = distill_corpus.crops
    crop, _ = store.read_crops('tiny_000', 10)
    flow = store.read_flow('tiny_000', 10)
    results = LoadCropAndFlow()(dict(corpus_root=distill_corpus.root, video_id='tiny_000', frame=10))
    target = np.arange(8, dtype=np.float32).reshape(2, 4)
    prev = np.ones((2, 4), np.float32)
    packed = PackDistillInputs()(dict(results, target=target, prev_target=prev))
    inputs, sample = packed['inputs'], packed['data_samples']
    assert inputs.shape == (5, 128, 128) and inputs.dtype == torch.float32
    assert torch.equal(inputs[:3], torch.from_numpy(crop).permute(2, 0, 1).float())
    assert torch.equal(inputs[3:], torch.from_numpy(flow).permute(2, 0, 1))
    assert sample.gt_pose.tolist() == [0, 1, 2, 3] and sample.gt_motion.tolist() == [-1, 0, 1, 2]
    rgb = PackDistillInputs()(dict(results, with_flow=False))['inputs']
    assert rgb.shape == (3, 128, 128)
    assert 'gt_pose' not in PackDistillInputs()(dict(results))['data_samples']  # no target: inference
    small = LoadCropAndFlow(size=64)(dict(corpus_root=distill_corpus.root, video_id='tiny_000', frame=10))
    assert small['img'].shape == (64, 64, 3) and small['flow'].shape == (64, 64, 2)


def test_load_decodes_the_previous_crop_only_with_prev(distill_corpus, monkeypatch):
    from vpd_mm.corpus import crop_store
    from vpd_mm.corpus.crop_store import CropStore
    store = distill_corpus.crops
    first = int(store.crop_frames('tiny_000')[0])
    decoded = []
    real = crop_store.decode_crop
    monkeypatch.setattr(crop_store, 'decode_crop', lambda data: decoded.append(data) or real(data))
    for frame in (first, first + 1, 10):
        crop, prev = store.read_crops('tiny_000', frame)  # what the loader returned before: read_crops' current
        flow = store.read_flow('tiny_000', frame)
        sample = dict(corpus_root=distill_corpus.root, video_id='tiny_000', frame=frame)
        del decoded[:]
        both = LoadCropAndFlow(with_prev=True)(dict(sample))
        assert len(decoded) == 2
        np.testing.assert_array_equal(both['prev_img'], prev)
        del decoded[:]
        out = LoadCropAndFlow()(dict(sample))
        assert len(decoded) == 1 and 'prev_img' not in out  # the previous crop is not decoded
        assert sorted(out) == sorted(k for k in both if k != 'prev_img')
        np.testing.assert_array_equal(out['img'], both['img'])
        np.testing.assert_array_equal(out['img'], crop)
        np.testing.assert_array_equal(out['flow'], flow)
        small, small_both = (LoadCropAndFlow(size=64, with_prev=p)(dict(sample)) for p in (False, True))
        np.testing.assert_array_equal(small['img'], small_both['img'])
        np.testing.assert_array_equal(small['flow'], small_both['flow'])
    # with_prev=False never goes through read_crops; a frame without a crop is still a clear error
    monkeypatch.setattr(CropStore, 'read_crops', lambda *args: pytest.fail('read_crops called'))
    LoadCropAndFlow(with_flow=False)(dict(corpus_root=distill_corpus.root, video_id='tiny_000', frame=10))
    from vpd_mm.corpus import CorpusFormatError
    with pytest.raises(CorpusFormatError, match='no crop for this frame'):
        LoadCropAndFlow()(dict(corpus_root=distill_corpus.root, video_id='tiny_000', frame=10_000))
