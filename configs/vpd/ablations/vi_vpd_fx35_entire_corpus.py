# Table 2(c) "VI-VPD distilled w/ the entire video corpus": the test videos are distilled too (uncut, without
# labels). This is the reference code's default; our default excludes them.
_base_ = ['../vi_vpd_fx35.py']

train_dataloader = dict(dataset=dict(include_test=True))
val_dataloader = dict(dataset=dict(include_test=True))
test_dataloader = val_dataloader
