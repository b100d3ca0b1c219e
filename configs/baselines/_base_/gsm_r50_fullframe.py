# GSM (Gate-Shift Module) in a ResNet-50 (ImageNet) on the full video frames, the paper's GSM "w/o crop" row.
# The full-frame data of ./tsn_r50_fullframe.py (vpd_mm CorpusVideoDataset + mmaction2's decord pipeline, with
# ActionWindow right after DecordInit keeping the segments inside each action's window), inherited as is, with the
# GSM model and recipe of ./gsm_r50_crop.py restated on top of it (an mmengine config has one base per key, so the
# recipe of gsm_r50_crop.py and the data of tsn_r50_fullframe.py cannot both be inherited; the GSM part below must
# stay equal to gsm_r50_crop.py's, which tests/baselines/test_configs.py checks). Only the test differs from TSN:
# two offset clips with one centre crop, as the GSM authors test.
# Base of gsm_r50_fullframe_<sport>.py; on its own it points at the synthetic corpus.
#
# ImageNet weights: a torchvision resnet50 state dict given by path; missing file: from scratch, with a warning.
_base_ = ['./tsn_r50_fullframe.py']

data_root = 'data/synthetic'
num_segments = 8
max_epochs = 60
warmup_epochs = 10

# the GSM model and recipe (as ./gsm_r50_crop.py)
model = dict(backbone=dict(type='ResNetGSM', num_segments=num_segments), cls_head=dict(dropout_ratio=0.5))

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
                     clip_grad=dict(max_norm=20, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=0, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True)
]

# test: two offset clips of 8 segments (twice_sample), each a whole GSM input, one centre crop (TSN: 25 x TenCrop)
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='ActionWindow'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments, twice_sample=True,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
corpus_dataset = dict(_delete_=True, type='CorpusVideoDataset', data_root=data_root, window='sport',
                      features='GSM (w/o crop)')
train_dataloader = dict(dataset=dict(features='GSM (w/o crop)'))
val_dataloader = dict(dataset=dict(features='GSM (w/o crop)'))
test_dataloader = dict(dataset=dict(features='GSM (w/o crop)', pipeline=test_pipeline))
