# MS-G3D on the tracked athlete's 2D poses (COCO-17 joints + scores), the joint stream of the paper's
# "MS-G3D (ensemble)" baseline (fuse with msg3d-bone_<sport> via tools/late_fusion.py).
# vpd_mm MSG3DFromPaper (written from the paper) + mmaction2's GCNHead (384 channels). mmaction2 ships an MS-G3D
# only in its source projects/msg3d, registered as MSG3D: a different network (a port of the authors' code) whose
# checkpoints do not fit this one, hence the distinct name. That project uses the ST-GCN 2D schedule, so this
# inherits that recipe (through ./stgcn.py: corpus poses, one person, 80 epochs validating every 5).
# COCO-17 graph from mmaction2's Graph(layout='coco'); 9 GCN scales = every hop distance of the COCO skeleton
# (mmaction2's 13 are NTU's 25-joint equivalent), 6 G3D scales, windows of 3 frames with dilations 1 and 2.
# Base of msg3d_<sport>.py; on its own it points at the synthetic corpus.
_base_ = ['./stgcn.py']

model = dict(
    backbone=dict(_delete_=True, type='MSG3DFromPaper', graph_cfg=dict(layout='coco', mode='binary_adj'),
                  in_channels=3, base_channels=96, num_gcn_scales=9, num_g3d_scales=6, num_person=1),
    cls_head=dict(in_channels=384))
train_dataloader = dict(dataset=dict(features='MS-G3D (joint)'))
val_dataloader = dict(dataset=dict(features='MS-G3D (joint)'))
test_dataloader = dict(dataset=dict(features='MS-G3D (joint)'))
