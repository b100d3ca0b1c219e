# TRN multi-scale (ResNet-50) on the athlete crops, optical flow (2-stream: fuse with trn_r50_crop), diving48.
# Diving48 (V2 labels): 48 classes; no native val split, 20% of train (seeded, stratified) validates.
# Train: python tools/train.py configs/baselines/trn_r50_crop-flow_diving48.py
# Test:  python tools/test.py configs/baselines/trn_r50_crop-flow_diving48.py CKPT --dump preds.json
# Few-shot: add --cfg-options train_dataloader.dataset.fewshot_file=data/diving48/annotations/fewshot/<k>_<trial>.txt
_base_ = ['./_base_/trn_r50_crop-flow.py']

data_root = 'data/diving48'
carve_val = 0.2  # used only when the corpus has no val actions

model = dict(cls_head=dict(num_classes=48))
train_dataloader = dict(dataset=dict(data_root=data_root, carve_val=carve_val))
val_dataloader = dict(dataset=dict(data_root=data_root, carve_val=carve_val))
test_dataloader = dict(dataset=dict(data_root=data_root))
