# GSM (ResNet-50 + Gate-Shift Modules) on the full frames (w/o crop), tennis7.
# Tennis7: the 7 swing classes of the 11 tennis labels; official val split.
# Train: python tools/train.py configs/baselines/gsm_r50_fullframe_tennis7.py
# Test:  python tools/test.py configs/baselines/gsm_r50_fullframe_tennis7.py CKPT --dump preds.json
# Few-shot: add --cfg-options train_dataloader.dataset.fewshot_file=data/tennis7/annotations/fewshot/<k>_<trial>.txt
_base_ = ['./_base_/gsm_r50_fullframe.py']

data_root = 'data/tennis7'
classes = ['forehand_topspin', 'forehand_slice', 'backhand_topspin', 'backhand_slice',
           'forehand_volley', 'backhand_volley', 'overhead']

model = dict(cls_head=dict(num_classes=7))
train_dataloader = dict(dataset=dict(data_root=data_root, classes=classes))
val_dataloader = dict(dataset=dict(data_root=data_root, classes=classes))
test_dataloader = dict(dataset=dict(data_root=data_root, classes=classes))
