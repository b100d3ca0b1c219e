"""The two measurements behind ``make demo``'s layout, on a demo corpus (``demo_out/corpus`` after ``make demo``):

1. lanes: one distillation of the default preset's recipe (``--steps`` steps of ``tools/train.py``) as one process on
   two torch threads, then two identical ones side by side as processes on one thread each (what ``JobGraph``
   runs); wall times and the throughput of the pair against the single process.
2. DTW few-shot run: ``dtw_nearest_neighbor`` on the corpus's ``teacher/<name>`` features with the sequence
   datasets' ``serialize_data`` False (their default) and True (mmengine's default, whose packing runs a full garbage
   collection per dataset); best of ``--repeats``.

Usage:
    python benchmarks/demo_lanes.py demo_out/corpus [--steps 50] [--teacher gt2d] [--repeats 5] [--skip-lanes]
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from dataclasses import replace

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
from vpd_mm.utils.cli import ToolParser, fail, tool_main  # noqa: E402

DISTILL_CONFIG = 'configs/vpd/2d_vpd_mocap_sports.py'
FEWSHOT_CONFIG = 'configs/recognition/bigru_mocap_sports.py'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description="Time make demo's two lanes against one two-thread process, and a DTW few-shot "
                        'run with and without the data-list packing.')
    parser.add_argument('corpus', help='a mocap_sports corpus with crops, flow and teachers (e.g. demo_out/corpus)')
    parser.add_argument('--steps', type=int, default=50, help='training steps per distillation (default 50)')
    parser.add_argument('--teacher', default='gt2d', help='teacher feature set of the distillation (default gt2d)')
    parser.add_argument('--repeats', type=int, default=5, help='DTW runs per setting, best kept (default 5)')
    parser.add_argument('--skip-lanes', action='store_true', help='only the DTW measurement')
    return parser.parse_args(argv)


def distill_command(root: str, teacher: str, steps: int, work_dir: str) -> list[str]:
    from vpd_mm.mocap_sports.presets import DEMO_PRESETS, distill_cfg_options
    preset = DEMO_PRESETS['default']
    preset = replace(preset, epochs=1, frames_per_epoch=steps * preset.batch_size)
    options = distill_cfg_options(preset, root, teacher)
    text = lambda v: '[' + ','.join(map(str, v)) + ']' if isinstance(v, (list, tuple)) else str(v)  # noqa: E731
    return [sys.executable, 'tools/train.py', DISTILL_CONFIG, '--work-dir', work_dir, '--cfg-options',
            *(f'{k}={text(v)}' for k, v in options.items())]


def run_processes(commands: list[list[str]], threads: int) -> float:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), PYTHONWARNINGS='ignore')
    start = time.perf_counter()
    procs = [subprocess.Popen(c, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for c in commands]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            fail(f'tools/train.py failed (exit {proc.returncode}): {err.strip().splitlines()[-1:]}')
    return time.perf_counter() - start


def dtw_seconds(root: str, teacher: str, serialize: bool, repeats: int) -> float:
    from mmengine.config import Config

    from vpd_mm.protocols.fewshot import dtw_nearest_neighbor, fewshot_id_list
    cfg = Config.fromfile(osp.join(REPO, FEWSHOT_CONFIG))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.update(data_root=root, features=f'teacher/{teacher}', serialize_data=serialize)
    with tempfile.TemporaryDirectory() as work_dir:
        ids = fewshot_id_list(cfg, 4, 0, 0, work_dir, None)
        best = float('inf')
        for _ in range(repeats):
            start = time.perf_counter()
            dtw_nearest_neighbor(cfg, ids)
            best = min(best, time.perf_counter() - start)
    return best


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from vpd_mm.corpus import Corpus
    corpus = Corpus.open(args.corpus)
    for stage in ('crops', 'flow', f'teacher/{args.teacher}'):
        corpus.require(stage)
    root = osp.abspath(args.corpus)
    if not args.skip_lanes:
        with tempfile.TemporaryDirectory() as tmp:
            one = run_processes([distill_command(root, args.teacher, args.steps, osp.join(tmp, 'one'))], threads=2)
            two = run_processes([distill_command(root, args.teacher, args.steps, osp.join(tmp, f'lane{i}'))
                                 for i in range(2)], threads=1)
        print(f'lanes: one distillation of {args.steps} steps on 2 threads {one:.1f} s; two side by side on 1 thread '
              f'each {two:.1f} s -> {2 * one / two:.2f}x the throughput (process start-up and validation included)')
    import gc
    gc.collect()
    packed = dtw_seconds(root, args.teacher, True, args.repeats)
    plain = dtw_seconds(root, args.teacher, False, args.repeats)
    print(f'DTW few-shot run (k = 4, teacher/{args.teacher}), best of {args.repeats}: serialize_data=True '
          f'{packed:.3f} s, False {plain:.3f} s (this process; the gc pass grows with the process heap)')


if __name__ == '__main__':
    main()
