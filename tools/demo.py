"""`make demo`: run every pipeline stage that exists, end to end, on the tiny synthetic corpus, and say what ran.

Stages today (the VPD stages are added as they land, see README "Pipeline"):
  1. generate the synthetic corpus            tools/data/make_synthetic_corpus.py
  2. 2D-joint teacher features (d = 26)       vpd_mm.pose.pose2d_feature -> teacher/pose2d/
  3. export poses to mmaction2's PoseDataset  tools/data/export_pose_dataset.py
  4. train ST-GCN on them                     tools/train.py configs/baselines/stgcn_coco2d_synthetic.py
  5. test the trained checkpoint              tools/test.py ... epoch_N.pth
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
CONFIG = 'configs/baselines/stgcn_coco2d_synthetic.py'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Run the existing vpd_mm pipeline end to end on the tiny '
                                     'synthetic corpus.')
    parser.add_argument('--out', default=osp.join(REPO, 'demo_out'), help='output folder (default: demo_out/)')
    parser.add_argument('--seed', type=int, default=0, help='seed for the corpus and training')
    parser.add_argument('--epochs', type=int, default=40, help='ST-GCN training epochs (default 40)')
    parser.add_argument('--keep', action='store_true', help='keep an existing output folder (resume stages)')
    return parser.parse_args(argv)


def run(step: str, args: list[str]) -> str:
    """Run one tool, echo its command, fail with its last lines on error."""
    print(f'\n== {step}\n$ python {" ".join(args)}', flush=True)
    start = time.time()
    result = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONWARNINGS='ignore'))
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-2000:] + result.stderr[-4000:])
        raise SystemExit(f'error: step "{step}" failed (exit {result.returncode})')
    print(f'   done in {time.time() - start:.1f} s', flush=True)
    return result.stdout + result.stderr


def write_pose2d_teacher(corpus_root: str) -> int:
    """The 2D-joint teacher (d = 26): normalised joints of every frame, original and mirrored."""
    import numpy as np

    from vpd_mm.datasets import Corpus, FeatureTrack
    from vpd_mm.pose import keypoint_score, pose2d_feature
    corpus = Corpus(corpus_root)
    count = 0
    for video_id, pose in corpus.iter_pose():
        feats = np.stack([pose2d_feature(pose.keypoints), pose2d_feature(pose.keypoints, flip=True)], axis=1)
        corpus.write_features('teacher', 'pose2d', video_id,
                              FeatureTrack(pose.frames, feats, keypoint_score(pose.scores).astype(np.float32)))
        count += len(pose.frames)
    return count


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if osp.isdir(args.out) and not args.keep:
        shutil.rmtree(args.out)
    corpus_root = osp.join(args.out, 'corpus')
    work_dir = osp.join(args.out, 'work_dirs', 'stgcn_coco2d_synthetic')
    summary = []

    out = run('1/5 generate the synthetic corpus',
              ['tools/data/make_synthetic_corpus.py', '--out', corpus_root, '--seed', str(args.seed)])
    summary.append(out.strip().splitlines()[-1])

    print('\n== 2/5 2D-joint teacher features (vpd_mm.pose.pose2d_feature)', flush=True)
    frames = write_pose2d_teacher(corpus_root)
    summary.append(f'wrote 2D-joint teacher features (d = 26, original + mirrored) for {frames} frames '
                   f'to {corpus_root}/teacher/pose2d/')

    out = run('3/5 export poses to mmaction2 PoseDataset', ['tools/data/export_pose_dataset.py', corpus_root])
    summary.append(out.strip().splitlines()[-1])

    options = ['--cfg-options', f'train_dataloader.dataset.dataset.data_root={corpus_root}',
               f'val_dataloader.dataset.data_root={corpus_root}', f'test_dataloader.dataset.data_root={corpus_root}',
               f'train_cfg.max_epochs={args.epochs}', f'param_scheduler.0.T_max={args.epochs}']
    run('4/5 train ST-GCN (mmaction2 recipe, tiny)', ['tools/train.py', CONFIG, '--work-dir', work_dir,
                                                     '--seed', str(args.seed), *options])
    checkpoint = osp.join(work_dir, f'epoch_{args.epochs}.pth')
    summary.append(f'trained ST-GCN for {args.epochs} epochs: {checkpoint}')

    dump = osp.join(args.out, 'stgcn_test_predictions.json')
    out = run('5/5 test the checkpoint', ['tools/test.py', CONFIG, checkpoint, '--work-dir', work_dir,
                                          '--dump', dump, *options[:4]])
    metrics = [line for line in out.splitlines() if 'acc/top1' in line and 'Epoch(test)' in line]
    with open(dump) as f:
        num = len(json.load(f))
    result = metrics[-1].split('Epoch(test)')[-1].strip() if metrics else 'no metrics line found'
    summary.append(f'tested on {num} held-out actions: {result}')

    print('\n== what ran')
    for line in summary:
        print(' -', line)
    print('\nThe VPD stages (student distillation, VIPE*, BiGRU / DTW few-shot) are not in this version yet; '
          'see README "Pipeline".')


if __name__ == '__main__':
    main()
