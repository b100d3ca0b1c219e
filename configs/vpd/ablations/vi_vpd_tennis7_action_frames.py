# Table 2(b) "VI-VPD distilled on action video only": only frames inside annotated actions of the non-test
# videos (annotations/actions.json) are distilled. (Diving48 clips are actions already: no such ablation.)
_base_ = ['../vi_vpd_tennis7.py']

train_dataloader = dict(dataset=dict(frames='actions'))
val_dataloader = dict(dataset=dict(frames='actions'))
test_dataloader = val_dataloader
