# VI-VPD: the teacher is the view-invariant VIPE* embedding (d = 64), distilled on FSJump6 (figure skating jumps).
# Needs crops/, flow/ and teacher/vipe/ in data/fsjump6 (design.md section 1). Reference recipe:
# configs/_base_/vpd_distill.py.
#   python tools/train.py configs/vpd/vi_vpd_fsjump6.py
#   python tools/extract_features.py configs/vpd/vi_vpd_fsjump6.py \
#       work_dirs/vi_vpd_fsjump6/best_val_loss_ma5_epoch_N.pth --corpus data/fsjump6 --name vi_vpd
_base_ = ['../_base_/vpd_fsjump6.py']

teacher = 'vipe'
feat_dim = 64

model = dict(backbone=dict(out_dim=feat_dim), head=dict(in_dim=feat_dim))
train_dataloader = dict(dataset=dict(teacher=teacher))
val_dataloader = dict(dataset=dict(teacher=teacher))
test_dataloader = val_dataloader
