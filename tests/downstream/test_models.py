"""BiGRURecognizer and FrameBiGRUDetector: masking of padded steps, view averaging, losses, registration."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from vpd_mm.models.bigru import BiGRURecognizer
from vpd_mm.models.detector import FrameBiGRUDetector


def _samples(lengths, labels=None, frame_labels=None):
    out = []
    for i, length in enumerate(lengths):
        sample = ActionDataSample()
        sample.set_metainfo(dict(length=length))
        if labels is not None:
            sample.set_gt_label(labels[i])
        if frame_labels is not None:
            sample.gt_frame_labels = torch.as_tensor(frame_labels[i])
        out.append(sample)
    return out


def test_registered_and_built_from_config():
    model = MODELS.build(dict(type='BiGRURecognizer', in_channels=26, num_classes=6))
    assert isinstance(model, BiGRURecognizer)
    gru = model.encoder.gru
    assert (gru.hidden_size, gru.num_layers, gru.bidirectional, gru.dropout) == (128, 2, True, 0.0)
    assert model.encoder.dropout.p == 0.2
    head = [type(m).__name__ for m in model.head]
    assert head == ['BatchNorm1d', 'Dropout', 'Linear', 'ReLU', 'BatchNorm1d', 'Dropout', 'Linear']
    assert model.head[1].p == 0.5 and model.head[-1].out_features == 6
    assert isinstance(MODELS.build(dict(type='FrameBiGRUDetector', in_channels=64)), FrameBiGRUDetector)


def test_max_pool_ignores_padded_steps():
    torch.manual_seed(0)
    model = BiGRURecognizer(in_channels=8, num_classes=3, hidden_channels=16).eval()
    short = torch.randn(1, 2, 5, 8)
    alone = model(short, _samples([5]), mode='tensor')
    padded = torch.full((2, 2, 9, 8), 1e4)  # huge padding: any leak into the GRU or the pooling shows
    padded[0, :, :5] = short[0]
    padded[1] = torch.randn(2, 9, 8)
    batch = model(padded, _samples([5, 9]), mode='tensor')
    torch.testing.assert_close(batch[0], alone[0], rtol=1e-5, atol=1e-5)


def test_predict_averages_the_softmax_of_both_views():
    torch.manual_seed(1)
    model = BiGRURecognizer(in_channels=8, num_classes=4, hidden_channels=16).eval()
    x = torch.randn(3, 2, 7, 8)
    logits = model(x, _samples([7, 6, 4]), mode='tensor')
    assert logits.shape == (3, 2, 4)
    expected = (logits[:, 0].softmax(-1) + logits[:, 1].softmax(-1)) / 2
    out = model(x, _samples([7, 6, 4], labels=[0, 1, 2]), mode='predict')
    scores = torch.stack([s.pred_score for s in out])
    torch.testing.assert_close(scores, expected)
    assert [int(s.pred_label) for s in out] == expected.argmax(-1).tolist()


def test_loss_counts_every_view_as_a_sample():
    torch.manual_seed(2)
    model = BiGRURecognizer(in_channels=8, num_classes=3, hidden_channels=16, dropout=0.0, input_dropout=0.0)
    model.eval()  # BatchNorm in eval: the loss is a pure function of the logits
    x = torch.randn(2, 2, 5, 8)
    samples = _samples([5, 3], labels=[2, 0])
    loss = model(x, samples, mode='loss')['loss_cls']
    logits = model(x, samples, mode='tensor')
    expected = torch.nn.functional.cross_entropy(logits.reshape(4, 3), torch.tensor([2, 2, 0, 0]))
    torch.testing.assert_close(loss, expected)
    model.train()
    model(x, samples, mode='loss')['loss_cls'].backward()
    assert model.encoder.gru.weight_ih_l0.grad is not None


def test_clear_errors_for_wrong_sizes():
    model = BiGRURecognizer(in_channels=8, num_classes=3, hidden_channels=16)
    with pytest.raises(ValueError, match='expects 8-d features, the inputs have 26'):
        model(torch.randn(1, 1, 4, 26), _samples([4]), mode='tensor')
    with pytest.raises(ValueError, match='outside'):
        model(torch.randn(2, 1, 4, 8), _samples([4, 4], labels=[0, 5]), mode='loss')


def test_detector_loss_ignores_padded_frames_and_predicts_valid_frames():
    torch.manual_seed(3)
    model = FrameBiGRUDetector(in_channels=8, hidden_channels=16).eval()
    x = torch.randn(2, 1, 6, 8)
    labels_a = [np.array([0, 1, 1, 0, 0, 0]), np.array([1, 1, 0, 0, 1, 1])]
    labels_b = [np.array([0, 1, 1, 1, 1, 1]), np.array([1, 1, 0, 0, 1, 1])]  # differ only past length 3
    loss_a = model(x, _samples([3, 6], frame_labels=labels_a), mode='loss')['loss_frame']
    loss_b = model(x, _samples([3, 6], frame_labels=labels_b), mode='loss')['loss_frame']
    torch.testing.assert_close(loss_a, loss_b)
    # by hand: cross-entropy over the 3 + 6 valid frames
    logits = model(x, _samples([3, 6]), mode='tensor')[:, 0]
    flat = torch.cat([logits[0, :3], logits[1]])
    target = torch.tensor([0, 1, 1, 1, 1, 0, 0, 1, 1])
    torch.testing.assert_close(loss_a, torch.nn.functional.cross_entropy(flat, target))
    out = model(x, _samples([3, 6]), mode='predict')
    assert out[0].pred_frame_scores.shape == (3,) and out[1].pred_frame_scores.shape == (6,)


def test_detector_frame_scores_average_both_views():
    torch.manual_seed(4)
    model = FrameBiGRUDetector(in_channels=8, hidden_channels=16)
    feats = np.random.default_rng(0).normal(size=(12, 2, 8)).astype(np.float32)
    scores = model.frame_scores(feats)
    assert model.training  # restored
    model.eval()
    per_view = [model.frame_scores(feats[:, v:v + 1]) for v in (0, 1)]
    np.testing.assert_allclose(scores, (per_view[0] + per_view[1]) / 2, rtol=1e-5, atol=1e-6)
    assert scores.shape == (12,) and ((scores >= 0) & (scores <= 1)).all()


DIMS = {'teacher/pose2d': 26, 'features/2d_vpd': 26, 'teacher/vipe': 64, 'teacher/vipe_inv': 128}


@pytest.mark.parametrize('kind', ['recognition', 'detection'])
def test_configs_load_and_match_their_features(kind):
    import glob
    import os.path as osp

    from mmengine.config import Config
    configs = sorted(glob.glob(osp.join(osp.dirname(__file__), '..', '..', 'configs', kind, '*.py')))
    assert len(configs) >= (17 if kind == 'recognition' else 9)
    for path in configs:
        cfg = Config.fromfile(path)
        assert cfg.custom_imports == dict(imports=['vpd_mm'], allow_failed_imports=False)
        features = cfg.train_dataloader.dataset.features
        sport = cfg.train_dataloader.dataset.data_root.split('/')[-1]
        expected = DIMS.get(features, 128 if sport == 'diving48' else 64)
        assert cfg.model.in_channels == expected, path
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            assert cfg[loader].dataset.features == features and cfg[loader].dataset.data_root.endswith(sport)
        if kind == 'recognition':
            assert cfg.model.num_classes == dict(fsjump6=6, tennis7=7, fx35=35, diving48=48, synthetic=3,
                                                  mocap_sports=8)[sport]
            assert (cfg.train_dataloader.dataset.get('carve_val', 0) > 0) == (sport in ('fx35', 'diving48'))
            assert cfg.val_dataloader.dataset.split == 'val' and cfg.test_dataloader.dataset.split == 'test'
        MODELS.build(cfg.model)
