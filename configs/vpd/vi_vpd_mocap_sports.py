# VI-VPD on the embedded benchmark `mocap_sports`: the 2D-VPD demo recipe (2d_vpd_mocap_sports.py, same CPU-sized
# schedule) with the VIPE* teacher (teacher/vipe, d = 64) trained on the held-in DeepMimic clips
# (configs/vipe/vipe_mocap.py; the benchmark's action clips are held out of VIPE* training).
_base_ = ['./2d_vpd_mocap_sports.py']

teacher = 'vipe'
feat_dim = 64
model = dict(backbone=dict(out_dim=feat_dim), head=dict(in_dim=feat_dim))
train_dataloader = dict(dataset=dict(teacher=teacher))
val_dataloader = dict(dataset=dict(teacher=teacher))
test_dataloader = val_dataloader
