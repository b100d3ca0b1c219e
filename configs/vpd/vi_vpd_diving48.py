# VI-VPD: the teacher is VIPE* trained with vertical inversions (d = 128), as the paper for Diving48, distilled on
# Diving48 (V2 labels).
# Needs crops/, flow/ and teacher/vipe_inv/ in data/diving48 (design.md section 1). Reference recipe:
# configs/_base_/vpd_distill.py.
#   python tools/train.py configs/vpd/vi_vpd_diving48.py
#   python tools/extract_features.py configs/vpd/vi_vpd_diving48.py \
#       work_dirs/vi_vpd_diving48/best_val_loss_ma5_epoch_N.pth --corpus data/diving48 --name vi_vpd
_base_ = ['../_base_/vpd_diving48.py']

teacher = 'vipe_inv'
feat_dim = 128

model = dict(backbone=dict(out_dim=feat_dim), head=dict(in_dim=feat_dim))
train_dataloader = dict(dataset=dict(teacher=teacher))
val_dataloader = dict(dataset=dict(teacher=teacher))
test_dataloader = val_dataloader
