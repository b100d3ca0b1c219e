# GSM (ResNet-50 + Gate-Shift Modules) on the full frames (w/o crop), fsjump6.
# FSJump6: 6 jump classes; official val split.
# Train: python tools/train.py configs/baselines/gsm_r50_fullframe_fsjump6.py
# Test:  python tools/test.py configs/baselines/gsm_r50_fullframe_fsjump6.py CKPT --dump preds.json
# Few-shot: add --cfg-options train_dataloader.dataset.fewshot_file=data/fsjump6/annotations/fewshot/<k>_<trial>.txt
_base_ = ['./_base_/gsm_r50_fullframe.py']

data_root = 'data/fsjump6'

model = dict(cls_head=dict(num_classes=6))
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
