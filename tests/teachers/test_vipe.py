"""VIPE*: network, inputs, synthetic views, negatives, 3D target, loss, training, view-retrieval metric."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import vpd_mm  # noqa: F401  (registration)
from vpd_mm.pose import COCO17_FLIP_INDEX, KEPT_JOINTS, flip_keypoints, normalize_2d
from vpd_mm.teachers.pose3d import (BONES3D, max_bone_angle, mirror_pose3d, pose3d_descriptor,
                                    project_orthographic, random_view_rotations, view_rotation, write_pose3d)
from vpd_mm.teachers.vipe_dataset import VIPEPairDataset, VIPEViewPairDataset, sample_negative
from vpd_mm.teachers.vipe_input import vipe_input
from vpd_mm.teachers.vipe_metric import ViewRetrievalMetric, cross_view_hit_at_1
from vpd_mm.teachers.vipe_model import FcResidualBlock, VIPEEmbedder, vipe_loss

# A standing person, +z up, facing +x, metres (COCO-17): left side is +y.
STAND = np.array([
    [0.10, 0.00, 1.60], [0.09, 0.03, 1.63], [0.09, -0.03, 1.63], [0.0, 0.07, 1.62], [0.0, -0.07, 1.62],
    [0.0, 0.18, 1.40], [0.0, -0.18, 1.40], [0.0, 0.20, 1.12], [0.0, -0.20, 1.12], [0.0, 0.21, 0.86],
    [0.0, -0.21, 0.86], [0.0, 0.09, 0.90], [0.0, -0.09, 0.90], [0.0, 0.09, 0.48], [0.0, -0.09, 0.48],
    [0.0, 0.09, 0.06], [0.0, -0.09, 0.06]])


def _rot_about(axis: np.ndarray, angle: float) -> np.ndarray:
    from scipy.spatial.transform import Rotation
    return Rotation.from_rotvec(axis / np.linalg.norm(axis) * angle).as_matrix()


def _raise_left_arm(pose: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate the left elbow and wrist about the left shoulder (about the +x axis, sideways)."""
    out = pose.copy()
    rot = _rot_about(np.array([1.0, 0, 0]), np.radians(degrees))
    out[[7, 9]] = (pose[[7, 9]] - pose[5]) @ rot.T + pose[5]
    return out


def _sequence(tmp_path, name='seq', frames=(0, 10, 60, 120), fps=30.0):
    joints = np.stack([_raise_left_arm(STAND, a) for a in frames])
    write_pose3d(str(tmp_path / f'{name}.npz'), joints, fps)
    return joints


# ------------------------------------------------------------------------------------------------ network
def test_network_shapes_and_hyperparameters():
    model = VIPEEmbedder()
    assert model.embed(torch.zeros(5, 39)).shape == (5, 64)
    assert model.embed(torch.zeros(2, 3, 39)).shape == (2, 3, 64)
    encoder = model.encoder
    assert encoder.stem[0].in_features == 39 and encoder.stem[0].out_features == 1024
    assert len(encoder.blocks) == 2 and all(isinstance(b, FcResidualBlock) for b in encoder.blocks)
    assert [m.p for m in encoder.modules() if isinstance(m, torch.nn.Dropout)] == [0.2] * 4
    assert encoder.head.in_features == 1024 and encoder.head.out_features == 64
    assert model.decoder(torch.zeros(4, 64)).shape == (4, 42)


def test_residual_block_is_standard_not_reference_subtraction():
    torch.manual_seed(0)
    block = FcResidualBlock(16, dropout=0.2).eval()
    x = torch.randn(8, 16)
    # output = x + block(x) for any weights
    torch.testing.assert_close(block(x), x + block.block(x))
    # a zero last linear layer makes the block the identity (the reference's block(x) - x would give -x)
    last = block.block[4]
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.zeros_(last.bias)
    torch.testing.assert_close(block(x), x)


# ------------------------------------------------------------------------------------------------ inputs
def test_vipe_input_by_hand():
    rng = np.random.default_rng(0)
    kpts = rng.uniform(0, 100, size=(17, 2))
    scores = rng.uniform(0, 1, size=17)
    x = vipe_input(kpts, scores).reshape(13, 3)
    np.testing.assert_allclose(x[:, :2], normalize_2d(kpts), atol=1e-6)
    np.testing.assert_allclose(x[:, 2], scores[list(KEPT_JOINTS)] - 0.5, atol=1e-6)
    # mirrored: normalize_2d(flip=True), and each confidence follows its joint through the L/R swap
    xf = vipe_input(kpts, scores, flip=True).reshape(13, 3)
    np.testing.assert_allclose(xf[:, :2], normalize_2d(kpts, flip=True), atol=1e-6)
    np.testing.assert_allclose(xf[:, 2], scores[COCO17_FLIP_INDEX][list(KEPT_JOINTS)] - 0.5, atol=1e-6)
    assert xf[1, 2] == pytest.approx(scores[6] - 0.5)  # kept row 1 (left shoulder) <- right shoulder's score
    # ... which is the input of the mirrored image: flip the raw pose in pixels, then normalise as usual
    np.testing.assert_allclose(xf, vipe_input(flip_keypoints(kpts, width=160.0), scores[COCO17_FLIP_INDEX])
                               .reshape(13, 3), atol=1e-5)
    # a NaN joint or confidence makes the whole row NaN, never zeros
    kpts[3] = np.nan
    assert np.isnan(vipe_input(kpts, scores)).all()
    kpts[3] = 1.0
    scores[16] = np.nan
    assert np.isnan(vipe_input(kpts, scores)).all()


# ------------------------------------------------------------------------------------------------ geometry
def test_synthetic_views_are_rotations_and_orthographic():
    rng = np.random.default_rng(1)
    rots = random_view_rotations(rng, 50)
    np.testing.assert_allclose(rots @ np.swapaxes(rots, 1, 2), np.broadcast_to(np.eye(3), rots.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(rots), 1.0, atol=1e-12)
    rotated = STAND @ rots[7].T
    bones = [(a, b) for a, b in BONES3D if a >= 0]
    lengths = [np.linalg.norm(STAND[a] - STAND[b]) for a, b in bones]
    np.testing.assert_allclose([np.linalg.norm(rotated[a] - rotated[b]) for a, b in bones], lengths, atol=1e-12)
    # orthographic: image = (x', -z') of the rotated points; depth (y') does not matter
    view = project_orthographic(STAND, rots[7])
    np.testing.assert_allclose(view, np.stack([rotated[:, 0], -rotated[:, 2]], -1), atol=1e-12)
    moved = STAND + rots[7].T @ np.array([0.0, 5.0, 0.0])  # 5 m along the viewing axis
    np.testing.assert_allclose(project_orthographic(moved, rots[7]), view, atol=1e-12)
    # yaw 0, no tilt: the camera looks along +y; a person facing -y (towards it) has their left on the right
    facing_camera = STAND @ _rot_about(np.array([0, 0, 1.0]), -np.pi / 2).T
    front = project_orthographic(facing_camera, view_rotation(0.0, 0.0, 0.0))
    assert front[5, 0] > front[6, 0] and front[0, 1] < front[15, 1]  # left shoulder right; head up (y down)
    # sampled angles stay in range: elevation and roll move the vertical axis by at most ~42 degrees
    tilt = np.degrees(np.arccos(rots[:, 2, 2]))
    assert tilt.max() <= np.degrees(np.arccos(np.cos(np.radians(30)) ** 2)) + 1e-9


def test_descriptor_is_yaw_invariant_and_mirror_is_chiral():
    yawed = STAND @ _rot_about(np.array([0, 0, 1.0]), 1.234).T + np.array([3.0, -2.0, 0.5])
    np.testing.assert_allclose(pose3d_descriptor(yawed), pose3d_descriptor(STAND), atol=1e-12)
    assert max_bone_angle(STAND, yawed) < 1e-5
    tilted = STAND @ _rot_about(np.array([1.0, 0, 0]), np.radians(60)).T
    assert max_bone_angle(STAND, tilted) == pytest.approx(60.0, abs=1e-6)  # the "up" row sees the tilt
    raised = _raise_left_arm(STAND, 50)
    assert max_bone_angle(STAND, raised) == pytest.approx(50.0, abs=1e-6)
    mirrored = mirror_pose3d(raised)
    np.testing.assert_allclose(mirrored[7, 1:], raised[8, 1:])  # the raised arm is now the right one
    assert max_bone_angle(raised, mirrored) == pytest.approx(50.0, abs=1e-6)
    np.testing.assert_allclose(mirror_pose3d(mirrored), raised, atol=1e-12)


def test_negative_has_a_bone_at_least_45_degrees_apart(tmp_path):
    joints = np.stack([_raise_left_arm(STAND, a) for a in (0, 10, 20, 44, 46, 90)])
    desc = pose3d_descriptor(joints)
    desc_m = pose3d_descriptor(mirror_pose3d(joints))
    rng = np.random.default_rng(0)
    # anchor: left arm raised 90 degrees; unmirrored frames qualify when their arm is >= 45 degrees lower
    # (0, 10, 20, 44); every mirrored frame qualifies (its left arm hangs down, 90 degrees from the anchor's)
    found = [sample_negative(rng, desc[5], desc, desc_m, max_tries=50) for _ in range(300)]
    assert all(f is not None for f in found)
    for u, flip in found:
        cand = (desc_m if flip else desc)[u]
        assert max_bone_angle(None, None, descriptors=(desc[5], cand)) >= 45.0
        assert flip or u in (0, 1, 2, 3)
    assert (5, True) in found and (4, True) in found and (3, False) in found
    # a static sequence has no negative: the item is masked out (neg_valid 0, zeros) and counted
    write_pose3d(str(tmp_path / 'static.npz'), np.stack([STAND] * 5), 30.0)
    dataset = VIPEPairDataset(str(tmp_path), sequences=['static'], samples_per_epoch=4, seed=0, flip_prob=0.0)
    item = dataset[0]
    assert item['data_samples']['neg_valid'] == 0.0 and not item['inputs'][2].any()
    assert dataset.neg_failures == 1


def test_pair_dataset_items(tmp_path):
    joints = _sequence(tmp_path)
    dataset = VIPEPairDataset(str(tmp_path), samples_per_epoch=7, seed=0, flip_prob=0.0)
    assert len(dataset) == 7
    item = dataset[3]
    assert item['inputs'].shape == (3, 39) and item['inputs'].dtype == np.float32
    target = item['data_samples']['target3d']
    assert target.shape == (42,)
    # the target is the descriptor of one of the sequence's frames
    assert min(np.abs(pose3d_descriptor(j).reshape(-1) - target).max() for j in joints) < 1e-6
    # the two views of a pair differ (random cameras) but normalise to a 0.5 torso scale
    assert not np.allclose(item['inputs'][0], item['inputs'][1])
    # wrong joint count in a 3D file: a clear error naming the file
    np.savez(tmp_path / 'bad.npz', joints=np.zeros((4, 32, 3)), fps=50.0)
    with pytest.raises(ValueError, match=r'bad.npz: joints must have shape \(T, 17, 3\).*got \(4, 32, 3\)'):
        VIPEPairDataset(str(tmp_path), sequences=['bad'])


def test_view_pair_dataset_is_deterministic(tmp_path):
    _sequence(tmp_path)
    a = VIPEViewPairDataset(str(tmp_path), frame_stride=2, seed=3)
    b = VIPEViewPairDataset(str(tmp_path), frame_stride=2, seed=3)
    assert len(a) == 2
    np.testing.assert_array_equal(a[1]['inputs'], b[1]['inputs'])
    sample = a[1]['data_samples']
    assert sample['pose2d'].shape == (2, 26) and int(sample['frame']) == 2
    np.testing.assert_allclose(a[1]['inputs'].reshape(2, 13, 3)[:, :, :2].reshape(2, 26), sample['pose2d'],
                               atol=1e-6)


# ------------------------------------------------------------------------------------------------ loss
def test_loss_by_hand():
    e1 = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    e2 = torch.tensor([[3.0, 4.0], [1.0, 1.0]])        # distances 5 and 0
    en = torch.tensor([[0.3, 0.4], [9.0, 9.0]])        # anchor-negative 0.5 (inside the margin); second invalid
    valid = torch.tensor([1.0, 0.0])
    target = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    pred1 = torch.tensor([[1.0, 2.0], [0.0, 1.0]])     # squared errors 4 and 1
    pred2 = torch.tensor([[0.0, 0.0], [2.0, 0.0]])     # squared errors 1 and 4
    loss = vipe_loss(e1, e2, en, valid, pred1, pred2, target, margin=1.0, weight_3d=1.0)
    assert loss['loss_pos'].item() == pytest.approx((5 + 0) / 2, abs=1e-5)
    assert loss['loss_neg'].item() == pytest.approx((1 - 0.5) / 2, abs=1e-5)
    assert loss['loss_3d'].item() == pytest.approx((4 + 1 + 1 + 4) / 2, abs=1e-6)
    far = vipe_loss(e1, e2, torch.tensor([[3.0, 4.0], [0, 0]]), valid, pred1, pred2, target)
    assert far['loss_neg'].item() == 0.0  # beyond the margin


def test_training_reduces_the_loss(tmp_path):
    from mmengine.dataset import default_collate
    from mmengine.optim import OptimWrapper
    for i, start in enumerate((0, 30, 60)):
        write_pose3d(str(tmp_path / f's{i}.npz'),
                     np.stack([_raise_left_arm(STAND, a) for a in range(start, start + 120, 5)]), 30.0)
    torch.manual_seed(0)
    dataset = VIPEPairDataset(str(tmp_path), samples_per_epoch=32, seed=0)
    model = VIPEEmbedder(hidden=128, decoder_hidden=128)
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01))
    batch = default_collate([dataset[i] for i in range(32)])  # one fixed batch: the loss must go down on it
    model.eval()
    with torch.no_grad():
        before = sum(model(**model.data_preprocessor(batch, True), mode='loss').values()).item()
    model.train()
    for _ in range(20):
        model.train_step(batch, optim)
    model.eval()
    with torch.no_grad():
        after = sum(model(**model.data_preprocessor(batch, True), mode='loss').values()).item()
    assert after < 0.5 * before, (before, after)


# ------------------------------------------------------------------------------------------------ metric
def test_cross_view_hit_at_1_by_hand():
    query = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0], [30.0, 0.0]])
    gallery = np.array([[0.1, 0.0], [20.2, 0.0], [20.1, 0.0], [30.4, 0.0]])
    # nearest: 0 -> 0 (hit), 1 -> 0? |10-0.1| = 9.9 < |10-20.1| = 10.1 -> 0 (miss), 2 -> 2 (hit), 3 -> 3 (hit)
    assert cross_view_hit_at_1(query, gallery) == pytest.approx(0.75)
    seq, frame = np.array([0, 0, 0, 1]), np.array([0, 1, 2, 0])
    assert cross_view_hit_at_1(query, gallery, seq, frame, tolerance=1) == pytest.approx(1.0)
    metric = ViewRetrievalMetric()
    metric.process({}, [dict(emb=np.stack([q, g]), pose2d=np.stack([g, q]), seq=s, frame=f)
                        for q, g, s, f in zip(query, gallery, seq, frame)])
    result = metric.compute_metrics(metric.results)
    assert result['hit1'] == pytest.approx(0.75) and result['num_samples'] == 4
    # the baseline swaps the roles of the two views: 0.1 -> 0, 20.2 -> 20 (miss), 20.1 -> 20, 30.4 -> 30
    assert result['hit1_pose2d'] == pytest.approx(0.75)


@pytest.mark.parametrize('name', ['vipe_mocap.py', 'vipe_h36m.py'])
def test_configs_build(name, tmp_path):
    import os.path as osp

    from mmaction.registry import DATASETS, METRICS, MODELS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    _sequence(tmp_path, 'a')
    _sequence(tmp_path, 'b', frames=(5, 50, 100))
    (tmp_path / 'splits.json').write_text('{"train": ["a"], "val": ["b"], "heldout": ["b"]}')
    cfg = Config.fromfile(osp.join(osp.dirname(__file__), '..', '..', 'configs', 'vipe', name))
    assert cfg.default_scope == 'mmaction' and cfg.custom_imports.imports == ['vpd_mm']
    assert cfg.default_hooks.checkpoint.save_best is None  # held-out sets never select checkpoints
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
        train = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=str(tmp_path)))
        test = DATASETS.build(dict(cfg.test_dataloader.dataset, data_root=str(tmp_path)))
        METRICS.build(cfg.test_evaluator)
    assert isinstance(model, VIPEEmbedder) and model.embed_dim == 64
    assert train.metainfo['sequences'] == ['a'] and test.metainfo['sequences'] == ['b']
