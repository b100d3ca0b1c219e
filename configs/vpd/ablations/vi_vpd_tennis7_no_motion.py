# Table 2(a) "distilled w/o motion; RGB & flow": no decoder D, F regresses p_t directly, on all frames with
# a confident teacher (no previous frame needed).
_base_ = ['../vi_vpd_tennis7.py']

model = dict(head=dict(with_motion=False))
train_dataloader = dict(dataset=dict(with_motion=False))
val_dataloader = dict(dataset=dict(with_motion=False))
test_dataloader = val_dataloader
