# MS-G3D on bones (GenSkeFeat feats=['b']: each joint minus its parent, + score), the bone stream of the paper's
# "MS-G3D (ensemble)" baseline; fuse its test predictions with msg3d_<sport> (joints) via tools/late_fusion.py.
_base_ = ['./msg3d.py']

feats = ['b']
train_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=feats),
    dict(type='UniformSampleFrames', clip_len={{_base_.clip_len}}),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=feats),
    dict(type='UniformSampleFrames', clip_len={{_base_.clip_len}}, num_clips=1, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=feats),
    dict(type='UniformSampleFrames', clip_len={{_base_.clip_len}}, num_clips=10, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline, features='MS-G3D (bone)'))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline, features='MS-G3D (bone)'))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline, features='MS-G3D (bone)'))
