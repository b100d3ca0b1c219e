"""Fixtures of the API tests: the tiny synthetic corpus with crops and flow, and untrained (seeded) models saved
the way mmengine's Runner saves them (a checkpoint with ``state_dict`` and the config dumped beside it)."""
from __future__ import annotations

import os
import os.path as osp
from types import SimpleNamespace

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def save_model(work_dir: str, config: str, model, options: dict) -> str:
    """``work_dir/epoch_1.pth`` holding the model's weights and ``work_dir/<config name>`` (options merged)."""
    import torch
    from mmengine.config import Config
    os.makedirs(work_dir, exist_ok=True)
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    cfg.dump(osp.join(work_dir, osp.basename(config)))
    path = osp.join(work_dir, 'epoch_1.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), path)
    return path


@pytest.fixture(scope='session')
def api_models(tmp_path_factory):
    """The tiny corpus (crops, Farneback flow) and a student (2D-VPD, ResNet-18, 64 px), a recogniser and a
    detector on its 26-d features, seeded and untrained."""
    import torch
    from mmengine.config import Config
    from mmaction.registry import MODELS

    from mmengine.registry import DefaultScope

    import vpd_mm  # noqa: F401  (registration)
    from vpd_mm.testing import add_crops_and_flow, make_tiny_corpus

    def build(cfg):  # in mmaction's scope, whatever an earlier test (e.g. mmpose's init_model) left current
        with DefaultScope.overwrite_default_scope('mmaction'):
            return MODELS.build(cfg)
    root = tmp_path_factory.mktemp('api')
    corpus = make_tiny_corpus(str(root / 'corpus'), seed=0)
    add_crops_and_flow(corpus)
    torch.manual_seed(0)
    student_cfg = osp.join(REPO, 'configs/vpd/2d_vpd_synthetic.py')
    backbone = dict(Config.fromfile(student_cfg).model.backbone, pretrained=None)
    student = build(backbone)
    wrapper = torch.nn.Module()
    wrapper.backbone = student
    student_ckpt = save_model(str(root / 'work_dirs' / '2d_vpd_synthetic'), student_cfg, wrapper,
                              {'model.backbone.pretrained': None})
    data = {f'{loader}.dataset.data_root': corpus.root
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    rec_cfg = osp.join(REPO, 'configs/recognition/bigru_pose2d_synthetic.py')
    recognizer = build(Config.fromfile(rec_cfg).model)
    rec_ckpt = save_model(str(root / 'work_dirs' / 'bigru'), rec_cfg, recognizer,
                          dict(data, **{f'{loader}.dataset.features': 'features/student'
                                        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')}))
    det_cfg = osp.join(REPO, 'configs/detection/framebigru_pose2d_synthetic.py')
    detector = build(Config.fromfile(det_cfg).model)
    det_ckpt = save_model(str(root / 'work_dirs' / 'framebigru'), det_cfg, detector, data)
    return SimpleNamespace(corpus=corpus, student=student_ckpt, recognizer=rec_ckpt, detector=det_ckpt,
                           root=str(root))


@pytest.fixture(scope='session')
def student_features(api_models):
    """``features/student`` of every tiny-corpus video from the fixture's student."""
    from vpd_mm.apis import init_student
    result = init_student(None, api_models.student, device='cpu').run(api_models.corpus.root, 'student',
                                                                       progress=False)
    assert result['errors'] == 0
    return api_models
