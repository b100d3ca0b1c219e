# VI-VPD: the teacher is the view-invariant VIPE* embedding (d = 64), distilled on Tennis7.
# Needs crops/, flow/ and teacher/vipe/ in data/tennis7 (design.md section 1). Reference recipe:
# configs/_base_/vpd_distill.py.
#   python tools/train.py configs/vpd/vi_vpd_tennis7.py
#   python tools/extract_features.py configs/vpd/vi_vpd_tennis7.py \
#       work_dirs/vi_vpd_tennis7/best_val_loss_ma5_epoch_N.pth --corpus data/tennis7 --name vi_vpd
_base_ = ['../_base_/vpd_tennis7.py']

teacher = 'vipe'
feat_dim = 64

model = dict(backbone=dict(out_dim=feat_dim), head=dict(in_dim=feat_dim))
train_dataloader = dict(dataset=dict(teacher=teacher))
val_dataloader = dict(dataset=dict(teacher=teacher))
test_dataloader = val_dataloader
