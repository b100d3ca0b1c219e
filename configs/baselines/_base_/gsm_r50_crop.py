# GSM (Gate-Shift Module) in a ResNet-50 (ImageNet) on the tracked athlete crops (RGB), the paper's "GSM (crop)".
# Model: vpd_mm ResNetGSM (a GSM in every residual block, gates zero-initialised so the network starts as the
# ImageNet ResNet) + mmaction2's TSNHead (average consensus, dropout 0.5). Data and pipelines as TSN (crop).
# Schedule: the GSM authors' recipe: 8 segments, SGD lr 0.01 (momentum 0.9, weight decay 5e-4), 10 warm-up
# epochs, 60 epochs, gradient clipping 20, no partial BN; the decay after warm-up is cosine here (our choice).
# Base of gsm_r50_crop_<sport>.py; on its own it points at the synthetic corpus.
#
# ImageNet weights: a torchvision resnet50 state dict given by path; missing file: from scratch, with a warning.
_base_ = ['./tsn_r50_crop.py']

num_segments = 8
max_epochs = 60
warmup_epochs = 10

model = dict(backbone=dict(type='ResNetGSM', num_segments=num_segments), cls_head=dict(dropout_ratio=0.5))

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
                     clip_grad=dict(max_norm=20, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=0, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True)
]

# test: two offset clips of 8 segments (twice_sample), each a whole GSM input (the authors report 1 and 2 clips)
test_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments, twice_sample=True,
         test_mode=True),
    dict(type='CropDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(dataset=dict(features='GSM (crop)'))
val_dataloader = dict(dataset=dict(features='GSM (crop)'))
test_dataloader = dict(dataset=dict(features='GSM (crop)', pipeline=test_pipeline))
