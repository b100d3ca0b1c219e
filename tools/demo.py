"""`make demo`: VPD's central claim tested end to end on the embedded benchmark ``mocap_sports``.

Athletes performing real motion capture (pybullet's DeepMimic clips) are rendered into uncut routine videos with
motion blur; an off-the-shelf pose estimator (MediaPipe Pose) is the teacher. The demo then extracts crops and
optical flow, computes the two teachers (normalised 2D joints; VIPE*, trained here on the clips that are never an
action class), distils a 2D-VPD and a VI-VPD student (a CPU-sized recipe, configs/vpd/*_mocap_sports.py),
extracts their features and runs the few-shot protocol (BiGRU and DTW nearest neighbours) on the four feature
sets. It prints the table in the paper's layout, saves the Figure-3-style plot and a JSON of every number, the
teacher's PCK on sharp/blurred and slow/fast frames, the decoder's joint error against the teacher's on fast
blurred frames of held-out instances, and the wall time of every stage.

Every stage is resumable: re-running reuses finished stages (``<out>/stages.json``) and finished files.
``--preset tiny`` runs a miniature of the same pipeline in about a minute (used by the tests).
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from dataclasses import replace
from typing import Any, Callable

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

FEATURE_SETS = (  # (corpus folder, paper's name, dimension)
    ('teacher/pose2d', 'Normalized 2D joints', 26),
    ('teacher/vipe', 'VIPE*', 64),
    ('features/2d_vpd', '2D-VPD', 26),
    ('features/vi_vpd', 'VI-VPD', 64),
)
PRESETS: dict[str, dict[str, Any]] = {
    # the benchmark's default corpus (8 classes x 24 instances), k in {2, 4, 8, 16}, 3 trials
    'default': dict(corpus_preset='default', instances=None, ks=(2, 4, 8, 16), trials=3, vipe_epochs=6,
                    distill_epochs=6, distill_frames=1600, bigru_epochs=20),
    # a miniature for tests: 3 classes x 3 instances, k in {1}, 1 trial, one epoch everywhere
    'tiny': dict(corpus_preset='tiny', instances=None, ks=(1,), trials=1, vipe_epochs=1, distill_epochs=1,
                 distill_frames=64, bigru_epochs=5),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run VPD end to end on the embedded mocap_sports benchmark and "
                                     "print the few-shot table in the paper's layout.")
    parser.add_argument('--out', default=osp.join(REPO, 'demo_out'), help='output folder (default: demo_out/)')
    parser.add_argument('--preset', choices=sorted(PRESETS), default='default',
                        help="'default' (the benchmark, about 20 minutes on 2 cores) or 'tiny' (a miniature)")
    parser.add_argument('--seed', type=int, default=0, help='seed of the corpus, the draws and the training runs')
    parser.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1),
                        help='processes for rendering and the MediaPipe teacher (default: up to 2)')
    parser.add_argument('--fresh', action='store_true', help='forget finished stages (files are still reused)')
    return parser.parse_args(argv)


class Stages:
    """Runs stages once: a finished stage is recorded under its key (with its wall time and summary) in
    stages.json. Keys are stable identifiers; titles are only printed, so renaming a title reuses the record."""

    def __init__(self, out: str, fresh: bool) -> None:
        self.path = osp.join(out, 'stages.json')
        self.done: dict[str, dict[str, Any]] = {}
        if osp.exists(self.path) and not fresh:
            with open(self.path) as f:
                self.done = json.load(f)

    def run(self, key: str, title: str, fn: Callable[[], Any]) -> Any:
        if key in self.done:
            record = self.done[key]
            print(f'== {title}: finished earlier ({record["seconds"]:.0f} s), reused', flush=True)
            return record.get('result')
        print(f'\n== {title}', flush=True)
        start = time.time()
        result = fn()
        self.done[key] = dict(title=title, seconds=time.time() - start, result=result)
        from vpd_mm.corpus.corpus import atomic_write_bytes
        data = json.dumps(self.done, indent=1, default=str).encode()
        atomic_write_bytes(self.path, lambda f: f.write(data))
        print(f'   {title}: {self.done[key]["seconds"]:.0f} s', flush=True)
        return result


def tool(args: list[str], threads: int | None = None) -> str:
    """Run one of our tools as a user would; echo the command; fail with its last lines."""
    print('$ python ' + ' '.join(args), flush=True)
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    if threads:
        env['OMP_NUM_THREADS'] = str(threads)
    result = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-5000:])
        raise SystemExit(f'error: {args[0]} failed (exit {result.returncode})')
    return result.stdout + result.stderr


def data_root_options(root: str, *loaders: str) -> list[str]:
    """--cfg-options pointing a config's data loaders at ``root``."""
    return [f'{loader}.dataset.data_root={root}' for loader in loaders]


def best_checkpoint(work_dir: str) -> str:
    import glob
    found = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')), key=osp.getmtime)
    if not found:
        raise SystemExit(f'error: no best checkpoint in {work_dir}')
    return found[-1]


# ------------------------------------------------------------------------------------------------ stages
def make_corpus(root: str, preset: dict, seed: int, workers: int) -> dict:
    from vpd_mm.mocap_sports.plan import PRESETS as CORPUS_PRESETS
    from vpd_mm.stages.mocap_sports import make_mocap_sports
    spec = CORPUS_PRESETS[preset['corpus_preset']]
    if preset['instances']:
        spec = replace(spec, instances_per_class=preset['instances'])
    corpus = make_mocap_sports(root, spec=spec, seed=seed, workers=workers)
    actions = corpus.read_actions()
    return dict(videos=len(corpus.video_ids()), actions=len(actions),
                classes=corpus.read_meta().classes,
                split={s: sum(a.split == s for a in actions) for s in ('train', 'val', 'test')})


def run_teacher_pose(root: str, workers: int) -> dict:
    from vpd_mm.stages.pose_mediapipe import run_mediapipe
    from vpd_mm.corpus import Corpus
    summary = run_mediapipe(Corpus(root), workers=workers)
    return {k: v for k, v in summary.items() if isinstance(v, (int, float, str))}


def teacher_pck(root: str, out: str) -> dict:
    from vpd_mm.mocap_sports.pck import evaluate_corpus, format_report, write_report
    from vpd_mm.corpus import Corpus
    corpus = Corpus(root)
    report = evaluate_corpus(corpus)
    write_report(report, osp.join(out, 'teacher_pck.json'))
    print(format_report(report))
    keep = ('slow_sharp', 'fast_blurred', 'sharp', 'blurred', 'slow', 'fast', 'all')
    return {name: dict(frames=report['subsets'][name]['frames'], pck=report['subsets'][name]['pck'],
                       pck_swap=report['subsets'][name]['pck_swap_tolerant'],
                       detection=report['subsets'][name]['detection']) for name in keep}


def crops_and_flow(root: str) -> dict:
    from vpd_mm.corpus import Corpus
    from vpd_mm.stages.crops import extract_crops
    from vpd_mm.stages.flow import extract_flow
    corpus = Corpus(root)
    crops = extract_crops(corpus)
    flow = extract_flow(corpus, method='farneback')
    if crops.get('errors') or flow.get('errors'):
        raise SystemExit(f'error: crops/flow failed: {crops.get("failed")} {flow.get("failed")}')
    return dict(crops={k: v for k, v in crops.items() if isinstance(v, int)},
                flow={k: v for k, v in flow.items() if isinstance(v, int)})


def pose2d_teacher(root: str) -> dict:
    from vpd_mm.corpus import Corpus
    from vpd_mm.teachers.features import pose2d_teacher as teacher
    from vpd_mm.stages.teacher_features import teacher_on_corpus
    return teacher_on_corpus(Corpus(root), 'pose2d', teacher)


def train_vipe(out: str, preset: dict, seed: int) -> dict:
    """VIPE* on the mocap clips that are never an action class of the benchmark (the fillers)."""
    from vpd_mm.corpus import atomic_write_bytes
    from vpd_mm.mocap_sports.plan import vipe_clip_split
    from vpd_mm.teachers.mocap_pose3d import write_mocap_pose3d
    mocap = osp.join(out, 'mocap3d')
    split = vipe_clip_split()
    write_mocap_pose3d(mocap, clips=split['train'] + split['heldout'])
    splits = json.dumps(split, indent=1).encode()
    atomic_write_bytes(osp.join(mocap, 'splits.json'), lambda f: f.write(splits))
    work_dir = osp.join(out, 'work_dirs', 'vipe_mocap')
    epochs = preset['vipe_epochs']
    tool(['tools/train.py', 'configs/vipe/vipe_mocap.py', '--work-dir', work_dir, '--seed', str(seed),
          '--cfg-options', *data_root_options(mocap, 'train_dataloader', 'val_dataloader', 'test_dataloader'),
          f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
          f'param_scheduler.0.end={epochs}'])
    checkpoint = osp.join(work_dir, f'epoch_{epochs}.pth')
    output = tool(['tools/test.py', 'configs/vipe/vipe_mocap.py', checkpoint, '--work-dir', work_dir,
                   '--cfg-options', *data_root_options(mocap, 'test_dataloader')])
    hit = [line.split('Epoch(test)')[-1].strip() for line in output.splitlines() if 'view_retrieval/hit1' in line]
    print('   VIPE* view invariance on held-out (action) clips:', hit[-1] if hit else '?')
    return dict(checkpoint=checkpoint, train_clips=split['train'], heldout_clips=split['heldout'],
                view_retrieval=hit[-1] if hit else None)


def vipe_teacher(root: str, checkpoint: str) -> dict:
    from functools import partial

    from vpd_mm.corpus import Corpus
    from vpd_mm.stages.teacher_features import teacher_on_corpus
    from vpd_mm.teachers.features import load_vipe_embedder
    from vpd_mm.teachers.features import vipe_teacher as teacher
    model = load_vipe_embedder(checkpoint, device='cpu')
    return teacher_on_corpus(Corpus(root), 'vipe', partial(teacher, model))


def distill(root: str, out: str, name: str, preset: dict, seed: int) -> dict:
    config = f'configs/vpd/{name}_mocap_sports.py'
    work_dir = osp.join(out, 'work_dirs', f'{name}_mocap_sports')
    epochs = preset['distill_epochs']
    tool(['tools/train.py', config, '--work-dir', work_dir, '--seed', str(seed), '--resume', '--cfg-options',
          *data_root_options(root, 'train_dataloader', 'val_dataloader', 'test_dataloader'),
          f'train_cfg.max_epochs={epochs}', f'train_dataloader.sampler.num_samples={preset["distill_frames"]}'])
    checkpoint = best_checkpoint(work_dir)
    tool(['tools/extract_features.py', config, checkpoint, '--corpus', root, '--name', name])
    return dict(config=config, checkpoint=checkpoint)


def fewshot(root: str, out: str, preset: dict, seed: int) -> list[dict]:
    from mmengine.config import Config
    from tqdm import tqdm

    from vpd_mm.protocols.fewshot import run_fewshot, write_json
    docs = []
    for features, label, dim in FEATURE_SETS:
        for method in ('bigru', 'dtw'):
            cfg = Config.fromfile(osp.join(REPO, 'configs/recognition/bigru_mocap_sports.py'))
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
                cfg[loader].dataset.data_root = root
                cfg[loader].dataset.features = features
            cfg.model.in_channels = dim
            cfg.train_cfg.max_epochs = preset["bigru_epochs"]
            work_dir = osp.join(out, 'fewshot', features.replace('/', '_'))
            doc = run_fewshot(cfg, list(preset['ks']), preset['trials'], seed, work_dir, method=method,
                              progress=lambda plan, f=features, m=method: tqdm(plan, desc=f'{m} {f}'))
            doc['label'] = label
            write_json(osp.join(work_dir, f'fewshot_{method}.json'), doc)
            docs.append(doc)
    return docs


def decoder_error(root: str, checkpoint: str, config: str) -> dict:
    from mmengine.config import Config

    from vpd_mm.corpus import Corpus
    from vpd_mm.mocap_sports.analysis import decoder_error as measure
    return measure(Corpus(root), Config.fromfile(osp.join(REPO, config)), checkpoint)


# ------------------------------------------------------------------------------------------------ report
def fewshot_markdown(docs: list[dict], ks: tuple) -> str:
    """The paper's layout (Figure 3 as a table): rows = feature sets per method, columns = k."""
    header = '| Features | ' + ' | '.join(f'k={k}' for k in ks) + ' |'
    lines = [header, '|' + '---|' * (len(ks) + 1)]
    for method, title in (('bigru', 'BiGRU'), ('dtw', 'DTW-NN')):
        for doc in (d for d in docs if d['method'] == method):
            cells = []
            for k in ks:
                res = doc['results'].get(str(k))
                cells.append(f'{100 * res["mean"]:.1f} ± {100 * res["std"]:.1f}' if res else '-')
            lines.append(f'| {title}: {doc["label"]} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    preset = PRESETS[args.preset]
    out = osp.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    root = osp.join(out, 'corpus')
    stages = Stages(out, args.fresh)
    total = time.time()

    stages.run('corpus', 'render the mocap_sports corpus',
               lambda: make_corpus(root, preset, args.seed, args.workers))
    stages.run('teacher_pose', 'teacher pose (MediaPipe)', lambda: run_teacher_pose(root, args.workers))
    pck = stages.run('teacher_pck', 'teacher PCK vs ground truth', lambda: teacher_pck(root, out))
    stages.run('crops_flow', 'crops and optical flow', lambda: crops_and_flow(root))
    stages.run('teacher_pose2d', 'teacher: normalized 2D joints', lambda: pose2d_teacher(root))
    vipe = stages.run('vipe_train', 'teacher: train VIPE* (held-in clips)',
                      lambda: train_vipe(out, preset, args.seed))
    stages.run('teacher_vipe', 'teacher: VIPE* features', lambda: vipe_teacher(root, vipe['checkpoint']))
    vpd2d = stages.run('distill_2d_vpd', 'distill 2D-VPD and extract',
                       lambda: distill(root, out, '2d_vpd', preset, args.seed))
    stages.run('distill_vi_vpd', 'distill VI-VPD and extract', lambda: distill(root, out, 'vi_vpd', preset, args.seed))
    docs = stages.run('fewshot', 'few-shot protocol (BiGRU, DTW-NN)', lambda: fewshot(root, out, preset, args.seed))
    decoder = stages.run('decoder_error', 'decoder vs teacher on fast blurred frames',
                         lambda: decoder_error(root, vpd2d['checkpoint'], vpd2d['config']))

    table = fewshot_markdown(docs, tuple(preset['ks']))
    from vpd_mm.protocols.report import plot_fewshot
    plot_path = osp.join(out, 'fewshot.png')
    for doc in docs:
        doc['features'] = doc['label']  # the plot labels lines by feature set
    plot_fewshot([d for d in docs if d['method'] == 'bigru'], plot_path)
    times = {name: round(record['seconds'], 1) for name, record in stages.done.items()}
    summary = dict(preset=args.preset, seed=args.seed, table_markdown=table, fewshot=docs, teacher_pck=pck,
                   decoder_vs_teacher_fast_blurred_test=decoder, vipe=vipe, stage_seconds=times,
                   total_seconds_this_run=round(time.time() - total, 1))
    from vpd_mm.corpus.corpus import atomic_write_bytes
    data = json.dumps(summary, indent=1, default=str).encode()
    atomic_write_bytes(osp.join(out, 'results.json'), lambda f: f.write(data))

    print('\n# Few-shot top-1 accuracy (%) on mocap_sports test instances, mean ± std over trials\n')
    print(table)
    print('\n# Teacher (MediaPipe) PCK@0.2 against ground truth (misses count as failures)\n')
    for name in ('slow_sharp', 'sharp', 'blurred', 'slow', 'fast', 'fast_blurred'):
        row = pck[name]
        if row['pck'] is None:
            print(f'  {name:13s} frames {row["frames"]:6d}')
            continue
        print(f'  {name:13s} frames {row["frames"]:6d}  detected {row["detection"]:.2f}  PCK {row["pck"]:.3f}  '
              f'swap-tolerant PCK {row["pck_swap"]:.3f}')
    print('\n# 2D-VPD decoder vs teacher on fast blurred frames of held-out instances '
          '(mean joint error, normalised units; lower is better)\n')
    print(f'  frames {decoder["frames"]}, teacher missed {decoder["teacher_missed"]}')
    print(f'  student decoder: {decoder["student_mean"]}  (where the teacher found a pose: '
          f'{decoder["student_mean_where_teacher_found"]})')
    print(f'  teacher:         {decoder["teacher_mean_where_found"]}  (where it found a pose)')
    print('\n# Wall time per stage (s)\n')
    for name, seconds in times.items():
        print(f'  {seconds:7.1f}  {name}')
    print(f'\nresults: {osp.join(out, "results.json")}, plot: {plot_path}, teacher PCK: '
          f'{osp.join(out, "teacher_pck.json")}')


if __name__ == '__main__':
    main()
