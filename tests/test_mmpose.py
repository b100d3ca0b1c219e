"""mmpose (1.1.0 on mmcv-lite) in the project environment: an HRNet top-down model built from its config runs
inference on the CPU, and init_model loads a checkpoint through the weights_only allow-list."""
from __future__ import annotations

import os.path as osp

import numpy as np
import pytest
import torch

HRNET = 'body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py'


def _hrnet_config() -> str:
    import mmpose
    path = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', HRNET)
    assert osp.isfile(path), path
    return path


@pytest.mark.slow
def test_hrnet_topdown_inference_on_cpu(tmp_path):
    import vpd_mm  # noqa: F401
    from mmengine.runner import save_checkpoint
    from mmpose.apis import inference_topdown, init_model

    torch.manual_seed(0)
    model = init_model(_hrnet_config(), checkpoint=None, device='cpu')
    assert type(model.backbone).__name__ == 'HRNet'
    frame = np.random.default_rng(0).integers(0, 255, size=(240, 320, 3), dtype=np.uint8)
    boxes = np.array([[40, 30, 140, 220], [150, 20, 300, 230]], dtype=np.float32)
    samples = inference_topdown(model, frame, boxes, bbox_format='xyxy')
    assert len(samples) == 2
    for sample, box in zip(samples, boxes):
        keypoints = sample.pred_instances.keypoints
        scores = sample.pred_instances.keypoint_scores
        assert keypoints.shape == (1, 17, 2) and scores.shape == (1, 17)
        # predictions are decoded into image pixels inside (a padded version of) the person box
        width, height = box[2] - box[0], box[3] - box[1]
        assert (keypoints[0, :, 0] > box[0] - width).all() and (keypoints[0, :, 0] < box[2] + width).all()
        assert (keypoints[0, :, 1] > box[1] - height).all() and (keypoints[0, :, 1] < box[3] + height).all()

    # a checkpoint in mmengine's format (with meta) loads through init_model under weights_only=True
    path = str(tmp_path / 'hrnet.pth')
    save_checkpoint(dict(state_dict=model.state_dict(),
                         meta=dict(epoch=np.int64(210), dataset_meta=model.dataset_meta)), path)
    reloaded = init_model(_hrnet_config(), checkpoint=path, device='cpu')
    for key, value in model.state_dict().items():
        assert torch.equal(value, reloaded.state_dict()[key]), key
