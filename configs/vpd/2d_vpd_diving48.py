# 2D-VPD: the teacher is the normalised 2D joints (13 joints x (x, y), d = 26), distilled on Diving48 (V2 labels).
# Needs crops/, flow/ and teacher/pose2d/ in data/diving48 (design.md section 1). Reference recipe:
# configs/_base_/vpd_distill.py.
#   python tools/train.py configs/vpd/2d_vpd_diving48.py
#   python tools/extract_features.py configs/vpd/2d_vpd_diving48.py \
#       work_dirs/2d_vpd_diving48/best_val_loss_ma5_epoch_N.pth --corpus data/diving48 --name 2d_vpd
_base_ = ['../_base_/vpd_diving48.py']

teacher = 'pose2d'
feat_dim = 26

model = dict(backbone=dict(out_dim=feat_dim), head=dict(in_dim=feat_dim))
train_dataloader = dict(dataset=dict(teacher=teacher))
val_dataloader = dict(dataset=dict(teacher=teacher))
test_dataloader = val_dataloader
