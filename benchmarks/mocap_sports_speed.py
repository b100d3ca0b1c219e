"""Speed of the embedded benchmark's two expensive stages, in one process: rendering mocap_sports frames and
running the MediaPipe Pose teacher on them.

Figures printed (wall and CPU time; CPU time is what two idle cores would share):
  1. render       frames/s for the instances rendered (one per class by default), and sub-frames per frame
  2. teacher      MediaPipe frames/s on those frames, tracking mode and static mode
  3. extrapolated minutes for the whole default corpus (render + teacher) on N idle cores, from the CPU times
The load average is printed too: on a shared machine wall times are inflated by the other jobs.

Example:
    python benchmarks/mocap_sports_speed.py                  # 8 instances (one per class), default spec
    python benchmarks/mocap_sports_speed.py --per-class 2 --cores 2
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Frames/s of mocap_sports rendering and of the MediaPipe teacher '
                                     '(wall and CPU), and the extrapolated time of the default corpus.')
    parser.add_argument('--per-class', type=int, default=1, help='instances rendered per class (default 1)')
    parser.add_argument('--cores', type=int, default=2, help='idle cores assumed for the extrapolation (2)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the planned corpus (0)')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.per_class < 1 or args.cores < 1:
        raise SystemExit('error: --per-class and --cores must be >= 1')
    import cv2
    import numpy as np
    from vpd_mm.stages.pose_mediapipe import MediaPipePose, estimate_frames
    from vpd_mm.mocap_sports.render import Renderer
    from vpd_mm.mocap_sports.plan import PRESETS, plan_instances
    from vpd_mm.mocap_sports.scene import render_instance
    cv2.setNumThreads(1)
    spec = PRESETS['default']
    plan = plan_instances(spec, args.seed)
    chosen = []
    for label in spec.classes:
        chosen += [i for i in plan if i.label == label][:args.per_class]
    print(f'load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)')
    videos, subframes = [], []
    wall, cpu = time.perf_counter(), time.process_time()
    with Renderer() as renderer:
        for inst in chosen:
            frames, gt = render_instance(inst, spec, renderer)
            videos.append(frames)
            subframes.append(gt.subframes)
    render_wall, render_cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = sum(len(v) for v in videos)
    sub = np.concatenate(subframes)
    print(f'render:  {len(chosen)} videos, {n} frames of {spec.width}x{spec.height}: '
          f'{n / render_wall:.1f} frames/s wall, {n / render_cpu:.1f} frames/s per CPU-second; '
          f'{sub.mean():.2f} sub-frames per frame ({(sub > 1).mean():.0%} of frames blurred by averaging)')
    teacher_cpu = {}
    for static in (False, True):
        mode = 'static' if static else 'tracking'
        with MediaPipePose(static=static) as teacher:
            wall, cpu = time.perf_counter(), time.process_time()
            found = 0
            for frames in videos:
                track = estimate_frames(frames, teacher)
                found += int(np.isfinite(track.keypoints).all(axis=(1, 2)).sum())
            t_wall, t_cpu = time.perf_counter() - wall, time.process_time() - cpu
        teacher_cpu[mode] = t_cpu / n
        print(f'teacher: MediaPipe {mode:<8} {n / t_wall:.1f} frames/s wall, {n / t_cpu:.1f} frames/s per '
              f'CPU-second, person found in {found / n:.0%} of frames')
    total = sum(i.num_frames for i in plan)
    per_frame = render_cpu / n + teacher_cpu['tracking']
    print(f'extrapolated: default corpus ({len(plan)} videos, {total} frames) render + teacher (tracking) = '
          f'{total * per_frame / args.cores / 60:.1f} min on {args.cores} idle cores '
          f'(render {total * render_cpu / n / args.cores / 60:.1f} min, teacher '
          f'{total * teacher_cpu["tracking"] / args.cores / 60:.1f} min)')
    print(f'load average at end: {os.getloadavg()[0]:.2f}')


if __name__ == '__main__':
    main()
