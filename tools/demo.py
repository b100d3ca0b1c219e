"""`make demo`: VPD's central claim tested end to end on the embedded benchmark ``mocap_sports``.

Athletes performing real motion capture (pybullet's DeepMimic clips) are rendered into uncut routine videos with
motion blur. The default class set is fine-grained: three families (jump, backflip, spin) of four classes that
share their run-up, take-off and landing and differ only in flight (turns, a twist, tuck/pike/layout). An
off-the-shelf pose estimator (MediaPipe Pose) is the teacher, run on each video and on its mirror image; its
agreement with itself is the teacher's per-frame score. The demo then measures the benchmark's design checks
without any student (the headroom of the ground-truth oracle ``gt2d`` over the teacher, and how well the
teacher's score ranks its errors), extracts crops and optical flow, computes the teachers (normalised 2D
joints; VIPE*, trained here on clips that are never an action class), distils three students with one fixed
recipe (an oracle student from the ground truth, which shows whether the recipe can learn the pose at all, then
2D-VPD and VI-VPD from the teacher), and runs the few-shot protocol (BiGRU and DTW nearest neighbours) on every
feature set. It prints the tables, saves the Figure-3-style plot and a JSON of every number
(``<out>/results.json``), the teacher's PCK on sharp/blurred and slow/fast frames, and the decoder's joint error
against the teacher's on fast blurred frames of held-out instances, with the wall time of every stage.

Sizes come from one table (:data:`vpd_mm.mocap_sports.presets.DEMO_PRESETS`): ``--preset tiny`` (the tests),
``default`` (about 18 minutes on 2 cores with the install), ``paper`` (the paper's distillation schedule, one
GPU). Every stage is resumable: re-running reuses finished stages (``<out>/stages.json``, by stable keys) and
finished files.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any, Callable

from vpd_mm.utils.cli import ToolParser, fail, tool_main

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

FEATURE_SETS = (  # (corpus folder, name in the tables, dimension)
    ('teacher/gt2d', 'Oracle: ground-truth 2D joints', 26),
    ('teacher/pose2d', 'Normalized 2D joints', 26),
    ('teacher/vipe', 'VIPE*', 64),
    ('features/oracle_student', 'Oracle student (from gt2d)', 26),
    ('features/2d_vpd', '2D-VPD', 26),
    ('features/vi_vpd', 'VI-VPD', 64),
)
FEWSHOT_CONFIG = 'configs/recognition/bigru_mocap_sports.py'
STUDENTS = {  # name -> (config, teacher override)
    'oracle_student': ('configs/vpd/2d_vpd_mocap_sports.py', 'gt2d'),
    '2d_vpd': ('configs/vpd/2d_vpd_mocap_sports.py', None),
    'vi_vpd': ('configs/vpd/vi_vpd_mocap_sports.py', None),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from vpd_mm.mocap_sports.presets import DEMO_PRESETS
    parser = ToolParser(description="Run VPD end to end on the embedded mocap_sports benchmark: design "
                        "checks, three distilled students, the few-shot tables.")
    parser.add_argument('--out', default=osp.join(REPO, 'demo_out'), help='output folder (default: demo_out/)')
    parser.add_argument('--preset', choices=sorted(DEMO_PRESETS), default='default',
                        help="'tiny' (a miniature), 'default' (about 18 minutes on 2 cores) or 'paper' (the "
                        "paper's schedule, one GPU)")
    parser.add_argument('--seed', type=int, default=0, help='seed of the corpus, the draws and the training runs')
    parser.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1),
                        help='processes for rendering and the MediaPipe teacher (default: up to 2)')
    parser.add_argument('--fresh', action='store_true', help='forget finished stages (files are still reused)')
    return parser.parse_args(argv)


class Stages:
    """Runs stages once: a finished stage is recorded under its key (with its wall time and summary) in
    stages.json. Keys are stable identifiers; titles are only printed, so renaming a title reuses the record.
    Stages may run in parallel threads (:class:`JobGraph`); the record is written under a lock."""

    def __init__(self, out: str, fresh: bool) -> None:
        self.path = osp.join(out, 'stages.json')
        self.done: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        if osp.exists(self.path) and not fresh:
            with open(self.path) as f:
                self.done = json.load(f)

    def run(self, key: str, title: str, fn: Callable[[], Any]) -> Any:
        with self.lock:
            record = self.done.get(key)
        if record is not None:
            print(f'== {title}: finished earlier ({record["seconds"]:.0f} s), reused', flush=True)
            return record.get('result')
        print(f'\n== {title}', flush=True)
        start = time.time()
        result = fn()
        from vpd_mm.corpus.corpus import atomic_write_bytes
        with self.lock:
            self.done[key] = dict(title=title, seconds=time.time() - start, result=result)
            data = json.dumps(self.done, indent=1, default=str).encode()
            atomic_write_bytes(self.path, lambda f: f.write(data))
        print(f'   {title}: {self.done[key]["seconds"]:.0f} s', flush=True)
        return result


@dataclass
class Job:
    key: str
    run: Callable[[dict[str, Any]], Any]  # called with the results of the jobs finished so far
    after: tuple[str, ...] = ()


class JobGraph:
    """Runs jobs on ``lanes`` parallel threads, each job as soon as the jobs it comes ``after`` have finished,
    in the order they were added otherwise. The demo's training and few-shot stages are subprocesses with one
    torch thread each when ``lanes > 1``: on 2 cores, two such processes distil about 1.35x faster than one process
    on two threads (``benchmarks/demo_lanes.py``).

    After a failure no new job starts; the running ones finish (their outputs stay, so a rerun resumes) and the
    first error is raised.
    """

    def __init__(self, lanes: int) -> None:
        self.lanes = max(1, lanes)
        self.jobs: list[Job] = []

    def add(self, key: str, run: Callable[[dict[str, Any]], Any], after: tuple[str, ...] = ()) -> None:
        known = {job.key for job in self.jobs}
        missing = [k for k in after if k not in known]
        if missing or key in known:
            raise ValueError(f'job {key!r}: unknown prerequisites {missing} or a duplicate key')
        self.jobs.append(Job(key, run, tuple(after)))

    def run(self) -> dict[str, Any]:
        results: dict[str, Any] = {}
        pending = list(self.jobs)
        running: dict[Future, str] = {}
        error: BaseException | None = None
        with ThreadPoolExecutor(self.lanes) as pool:
            while pending or running:
                if error is None:
                    for job in [j for j in pending if all(k in results for k in j.after)]:
                        if len(running) == self.lanes:
                            break
                        pending.remove(job)
                        running[pool.submit(job.run, dict(results))] = job.key
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    key = running.pop(future)
                    try:
                        results[key] = future.result()
                    except BaseException as exc:  # noqa: B036 (a tool's fail() is a SystemExit)
                        error = error or exc
        if error is not None:
            raise error
        return results


def tool(args: list[str], threads: int | None = None) -> str:
    """Run one of our tools as a user would; echo the command; fail with its last lines."""
    print('$ python ' + ' '.join(args), flush=True)
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads))
    result = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-5000:])
        fail(f'{args[0]} failed (exit {result.returncode})')
    return result.stdout + result.stderr


def option_args(options: dict[str, Any]) -> list[str]:
    """``{'a.b': [1, 2], 'c': True}`` -> ``['a.b=[1,2]', 'c=True']`` for ``--cfg-options``."""
    def text(value: Any) -> str:
        if isinstance(value, (list, tuple)):
            return '[' + ','.join(text(v) for v in value) + ']'
        return str(value)
    return [f'{key}={text(value)}' for key, value in options.items()]


def best_checkpoint(work_dir: str) -> str:
    found = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')), key=osp.getmtime)
    if not found:
        fail(f'{work_dir}: no best checkpoint')
    return found[-1]


def last_val_metrics(work_dir: str) -> dict[str, float]:
    """The last validation record of an mmengine work dir (``*/vis_data/scalars.json``)."""
    found = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')), key=osp.getmtime)
    records = []
    for path in found:
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    vals = [r for r in records if 'val/loss' in r]
    return {k: v for k, v in vals[-1].items() if k.startswith('val/')} if vals else {}


# ------------------------------------------------------------------------------------------------ stages
def make_corpus(root: str, preset: Any, seed: int, workers: int) -> dict:
    from vpd_mm.mocap_sports.plan import PRESETS as CORPUS_PRESETS
    from vpd_mm.mocap_sports.presets import class_names
    from vpd_mm.stages.mocap_sports import make_mocap_sports
    spec = replace(CORPUS_PRESETS[preset.corpus], classes=class_names(preset),
                   instances_per_class=preset.instances_per_class, test_fraction=preset.test_fraction)
    corpus = make_mocap_sports(root, spec=spec, seed=seed, workers=workers)
    actions = corpus.read_actions()
    return dict(videos=len(corpus.video_ids()), actions=len(actions), classes=corpus.read_meta().classes,
                split={s: sum(a.split == s for a in actions) for s in ('train', 'val', 'test')})


def run_teacher_pose(root: str, workers: int) -> dict:
    from vpd_mm.corpus import Corpus
    from vpd_mm.stages.pose_mediapipe import run_mediapipe
    summary = run_mediapipe(Corpus(root), workers=workers, mirror=True)
    return {k: v for k, v in summary.items() if isinstance(v, (int, float, str))}


def teacher_pck(root: str, out: str) -> dict:
    from vpd_mm.corpus import Corpus
    from vpd_mm.mocap_sports.pck import evaluate_corpus, format_report, write_report
    report = evaluate_corpus(Corpus(root))
    write_report(report, osp.join(out, 'teacher_pck.json'))
    print(format_report(report))
    keep = ('slow_sharp', 'fast_blurred', 'sharp', 'blurred', 'slow', 'fast', 'all')
    return {name: dict(frames=report['subsets'][name]['frames'], pck=report['subsets'][name]['pck'],
                       pck_swap=report['subsets'][name]['pck_swap_tolerant'],
                       detection=report['subsets'][name]['detection']) for name in keep}


def score_check(root: str) -> dict:
    from vpd_mm.corpus import Corpus
    from vpd_mm.mocap_sports.design import score_error_table
    return score_error_table(Corpus(root), split='test')


def crops_and_flow(root: str, workers: int) -> dict:
    from vpd_mm.corpus import Corpus
    from vpd_mm.stages.crops import extract_crops
    from vpd_mm.stages.flow import extract_flow
    corpus = Corpus(root)
    crops = extract_crops(corpus, on_error='raise', workers=workers)
    flow = extract_flow(corpus, method='farneback', on_error='raise', workers=workers)
    return dict(crops={k: v for k, v in crops.items() if isinstance(v, (int, float))},
                flow={k: v for k, v in flow.items() if isinstance(v, (int, float))})


def pose_teachers(root: str, score: str) -> dict:
    from vpd_mm.corpus import Corpus
    from vpd_mm.mocap_sports.oracle import write_oracle_teacher
    from vpd_mm.stages.teacher_features import teacher_on_corpus
    from vpd_mm.teachers.features import pose2d_teacher
    corpus = Corpus(root)
    oracle = write_oracle_teacher(corpus)
    teacher = teacher_on_corpus(corpus, 'pose2d', pose2d_teacher, score=score, on_error='raise')
    keep = lambda d: {k: v for k, v in d.items() if isinstance(v, (int, float))}  # noqa: E731
    return dict(gt2d=keep(oracle), pose2d=keep(teacher), score=score)


def train_vipe(out: str, preset: Any, seed: int, threads: int | None) -> dict:
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
    epochs = preset.vipe_epochs
    loaders = {f'{loader}.dataset.data_root': mocap
               for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    tool(['tools/train.py', 'configs/vipe/vipe_mocap.py', '--work-dir', work_dir, '--seed', str(seed),
          '--cfg-options', *option_args(loaders), f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
          f'param_scheduler.0.end={epochs}'], threads=threads)
    checkpoint = osp.join(work_dir, f'epoch_{epochs}.pth')
    output = tool(['tools/test.py', 'configs/vipe/vipe_mocap.py', checkpoint, '--work-dir', work_dir,
                   '--cfg-options', f'test_dataloader.dataset.data_root={mocap}'], threads=threads)
    hit = [line.split('Epoch(test)')[-1].strip() for line in output.splitlines() if 'view_retrieval/hit1' in line]
    print('   VIPE* view invariance on held-out (action) clips:', hit[-1] if hit else '?')
    return dict(checkpoint=checkpoint, train_clips=split['train'], heldout_clips=split['heldout'],
                view_retrieval=hit[-1] if hit else None)


def vipe_teacher(root: str, checkpoint: str, score: str) -> dict:
    from functools import partial

    from vpd_mm.corpus import Corpus
    from vpd_mm.stages.teacher_features import teacher_on_corpus
    from vpd_mm.teachers.features import load_vipe_embedder
    from vpd_mm.teachers.features import vipe_teacher as teacher
    model = load_vipe_embedder(checkpoint, device='cpu')
    result = teacher_on_corpus(Corpus(root), 'vipe', partial(teacher, model), score=score, on_error='raise')
    return {k: v for k, v in result.items() if isinstance(v, (int, float))}


def distill(root: str, out: str, name: str, preset: Any, seed: int, threads: int | None) -> dict:
    """Distil one student with the preset's recipe and extract its features (``features/<name>``)."""
    from vpd_mm.mocap_sports.presets import distill_cfg_options
    config, teacher = STUDENTS[name]
    work_dir = osp.join(out, 'work_dirs', f'{name}_mocap_sports')
    options = option_args(distill_cfg_options(preset, root, teacher))
    tool(['tools/train.py', config, '--work-dir', work_dir, '--seed', str(seed), '--resume',
          '--cfg-options', *options], threads=threads)
    checkpoint = best_checkpoint(work_dir)
    tool(['tools/extract_features.py', config, checkpoint, '--corpus', root, '--name', name, '--frames', 'actions',
          '--cfg-options', *options], threads=threads)
    val = last_val_metrics(work_dir)
    loss, const = val.get('val/loss'), val.get('val/loss_const')
    return dict(config=config, teacher=teacher, checkpoint=checkpoint, val_loss=loss, val_loss_const=const,
                val_loss_ratio=loss / const if loss is not None and const else None)


def fewshot_key(features: str) -> str:
    """The stage key of a feature set's few-shot protocol: ``teacher/gt2d`` -> ``fewshot_gt2d``."""
    return 'fewshot_' + features.split('/')[1]


def fewshot(root: str, out: str, preset: Any, seed: int, features: str, label: str, dim: int, workers: int,
            threads: int | None) -> list[dict]:
    """The few-shot protocol on one feature set: the BiGRU runs with ``tools/fewshot.py`` (a process of their own,
    ``threads`` torch threads), then DTW-NN in this process (a fraction of a second per run)."""
    from mmengine.config import Config

    from vpd_mm.mocap_sports.presets import class_names
    from vpd_mm.protocols.fewshot import run_fewshot, write_json
    options: dict[str, Any] = {'model.in_channels': dim, 'model.num_classes': len(class_names(preset)),
                               'train_cfg.max_epochs': preset.bigru_epochs}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options.update({f'{loader}.dataset.data_root': root, f'{loader}.dataset.features': features,
                        f'{loader}.dataset.max_fps': preset.max_fps})
    work_dir = osp.join(out, 'fewshot', features.replace('/', '_'))
    bigru = osp.join(work_dir, 'fewshot_bigru.json')
    tool(['tools/fewshot.py', FEWSHOT_CONFIG, '--k', *map(str, preset.bigru_ks), '--trials', str(preset.trials),
          '--seed', str(seed), '--method', 'bigru', '--work-dir', work_dir, '--out', bigru, '--workers', str(workers),
          '--cfg-options', *option_args(options)], threads=threads)
    with open(bigru) as f:
        docs = [json.load(f)]
    cfg = Config.fromfile(osp.join(REPO, FEWSHOT_CONFIG))
    cfg.merge_from_dict(options)
    dtw = run_fewshot(cfg, list(preset.ks), preset.dtw_trials, seed, work_dir, method='dtw')
    write_json(osp.join(work_dir, 'fewshot_dtw.json'), dtw)
    docs.append(dtw)
    return [dict(doc, label=label, feature_set=features) for doc in docs]


def decoder_error(root: str, checkpoint: str, config: str, preset: Any) -> dict:
    from mmengine.config import Config

    from vpd_mm.corpus import Corpus
    from vpd_mm.mocap_sports.analysis import decoder_error as measure
    from vpd_mm.mocap_sports.presets import distill_cfg_options
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.merge_from_dict(distill_cfg_options(preset, root))
    return measure(Corpus(root), cfg, checkpoint)


# ------------------------------------------------------------------------------------------------ report
def headroom(docs: list[dict], ks: tuple) -> dict:
    """Oracle (gt2d) minus teacher (pose2d) few-shot top-1, per method and k, in points."""
    by = {(d['feature_set'], d['method']): d for d in docs}
    out: dict[str, Any] = {}
    for method in ('bigru', 'dtw'):
        oracle, teacher = by[('teacher/gt2d', method)], by[('teacher/pose2d', method)]
        out[method] = {}
        for k in ks:
            o, t = oracle['results'].get(str(k)), teacher['results'].get(str(k))
            if o and t:
                out[method][str(k)] = dict(oracle=round(100 * o['mean'], 1), teacher=round(100 * t['mean'], 1),
                                           gap=round(100 * (o['mean'] - t['mean']), 1))
    return out


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


@tool_main
def main(argv: list[str] | None = None) -> None:
    from vpd_mm.mocap_sports.presets import DEMO_PRESETS
    args = parse_args(argv)
    preset = DEMO_PRESETS[args.preset]
    out = osp.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    root = osp.join(out, 'corpus')
    stages = Stages(out, args.fresh)
    total = time.time()
    score = preset.teacher_score

    stages.run('corpus', 'render the mocap_sports corpus', lambda: make_corpus(root, preset, args.seed, args.workers))
    stages.run('teacher_pose', 'teacher pose (MediaPipe, on each video and its mirror)',
               lambda: run_teacher_pose(root, args.workers))
    pck = stages.run('teacher_pck', 'teacher PCK vs ground truth', lambda: teacher_pck(root, out))
    scores = stages.run('design_scores', "design check: does the teacher's score rank its errors?",
                        lambda: score_check(root))
    stages.run('crops_flow', 'crops and optical flow', lambda: crops_and_flow(root, args.workers))
    stages.run('teacher_pose2d', 'teachers: ground-truth oracle and normalized 2D joints',
               lambda: pose_teachers(root, score))
    # Training and few-shot jobs on parallel lanes (one torch thread each); one lane on a GPU.
    lanes = 1 if preset.device == 'cuda' else args.workers
    threads = 1 if lanes > 1 else None
    fewshot_workers = 1 if lanes > 1 else args.workers
    graph = JobGraph(lanes)
    graph.add('distill_oracle_student', lambda r: stages.run(
        'distill_oracle_student', 'distill oracle_student and extract its features',
        lambda: distill(root, out, 'oracle_student', preset, args.seed, threads)))
    graph.add('vipe_train', lambda r: stages.run('vipe_train', 'teacher: train VIPE* (held-in clips)',
                                                 lambda: train_vipe(out, preset, args.seed, threads)))
    graph.add('teacher_vipe', lambda r: stages.run(
        'teacher_vipe', 'teacher: VIPE* features',
        lambda: vipe_teacher(root, r['vipe_train']['checkpoint'], score)), after=('vipe_train',))
    graph.add('distill_2d_vpd', lambda r: stages.run(
        'distill_2d_vpd', 'distill 2d_vpd and extract its features',
        lambda: distill(root, out, '2d_vpd', preset, args.seed, threads)))
    graph.add('distill_vi_vpd', lambda r: stages.run(
        'distill_vi_vpd', 'distill vi_vpd and extract its features',
        lambda: distill(root, out, 'vi_vpd', preset, args.seed, threads)), after=('teacher_vipe',))
    made_by = {'teacher/vipe': ('teacher_vipe',), 'features/oracle_student': ('distill_oracle_student',),
               'features/2d_vpd': ('distill_2d_vpd',), 'features/vi_vpd': ('distill_vi_vpd',)}
    for features, label, dim in FEATURE_SETS:
        key = fewshot_key(features)
        graph.add(key, lambda r, key=key, features=features, label=label, dim=dim: stages.run(
            key, f'few-shot protocol (BiGRU, DTW-NN) on {features}',
            lambda: fewshot(root, out, preset, args.seed, features, label, dim, fewshot_workers, threads)),
            after=made_by.get(features, ()))
    start = time.time()
    jobs = graph.run()
    parallel_seconds = time.time() - start
    print(f'   training and few-shot jobs on {lanes} lane(s): {parallel_seconds:.0f} s', flush=True)
    vipe = jobs['vipe_train']
    students = {name: jobs[f'distill_{name}'] for name in STUDENTS}
    docs = [doc for features, _, _ in FEATURE_SETS for doc in jobs[fewshot_key(features)]]
    vpd2d = students['2d_vpd']
    decoder = stages.run('decoder_error', 'decoder vs teacher on fast blurred frames',
                         lambda: decoder_error(root, vpd2d['checkpoint'], vpd2d['config'], preset))

    ks = tuple(preset.ks)
    table = fewshot_markdown(docs, ks)
    design = dict(headroom=headroom(docs, ks), teacher_score=scores)
    from vpd_mm.protocols.report import plot_fewshot
    plot_path = osp.join(out, 'fewshot.png')
    for doc in docs:
        doc['features'] = doc['label']  # the plot labels lines by feature set
    plot_fewshot([d for d in docs if d['method'] == 'bigru'], plot_path)
    order = ['corpus', 'teacher_pose', 'teacher_pck', 'design_scores', 'crops_flow', 'teacher_pose2d',
             *(job.key for job in graph.jobs), 'decoder_error']
    times = {key: round(stages.done[key]['seconds'], 1) for key in order if key in stages.done}
    summary = dict(preset=args.preset, preset_sizes=preset.to_json(), seed=args.seed, design_checks=design,
                   table_markdown=table, fewshot=docs, students=students, teacher_pck=pck,
                   decoder_vs_teacher_fast_blurred_test=decoder, vipe=vipe, stage_seconds=times, lanes=lanes,
                   parallel_jobs_seconds=round(parallel_seconds, 1),
                   total_seconds_this_run=round(time.time() - total, 1), machine=machine_facts())
    from vpd_mm.corpus import atomic_write_bytes
    data = json.dumps(summary, indent=1, default=str).encode()
    atomic_write_bytes(osp.join(out, 'results.json'), lambda f: f.write(data))
    report(summary, table, ks, out, plot_path)


def machine_facts() -> dict[str, Any]:
    """What the run's arithmetic depends on beyond the code: CPU model, the instruction set torch's CPU kernels were
    dispatched for, cores, torch version and the GPU, so that runs compare only like with like."""
    import platform

    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), cpu)
    except OSError:
        pass
    return dict(cpu=cpu, torch_cpu_capability=torch.backends.cpu.get_cpu_capability(),
                cores=len(os.sched_getaffinity(0)), torch=torch.__version__,
                gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)


def report(summary: dict, table: str, ks: tuple, out: str, plot_path: str) -> None:
    design, pck = summary['design_checks'], summary['teacher_pck']
    decoder = summary['decoder_vs_teacher_fast_blurred_test']
    print('\n# Design check 1: headroom, oracle (ground-truth 2D joints) vs teacher, few-shot top-1 (%)\n')
    for method, rows in design['headroom'].items():
        cells = ', '.join(f'k={k}: {r["oracle"]} vs {r["teacher"]} ({r["gap"]:+.1f})' for k, r in rows.items())
        print(f'  {method:6s} {cells}')
    scores = design['teacher_score']
    print(f"\n# Design check 2: the teacher's frame score against its joint error ({scores['frames']} detected test "
          f"frames, {scores['missed']} missed; threshold {scores['threshold']})\n")
    for name, row in scores['candidates'].items():
        rho = 'n/a' if row['rho'] is None else f'{row["rho"]:+.3f}'
        print(f'  {name:16s} rank correlation {rho}  removes {100 * row["removed"]:.1f}% of frames  '
              f'error kept {row["error_kept"]}  removed {row["error_removed"]}')
    print('\n# Students (validation loss against predicting the mean target)\n')
    for name, row in summary['students'].items():
        print(f'  {name:15s} teacher {row["teacher"] or "(config)"}  val loss {row["val_loss"]}  '
              f'constant {row["val_loss_const"]}  ratio {row["val_loss_ratio"]}')
    sizes = summary['preset_sizes']
    print(f'\n# Few-shot top-1 accuracy (%) on mocap_sports test instances, mean ± std over trials (BiGRU '
          f'{sizes["trials"]}, DTW-NN {sizes["dtw_trials"]})\n')
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
    for name, seconds in summary['stage_seconds'].items():
        print(f'  {seconds:7.1f}  {name}')
    print(f"  (VIPE*, the distillations and the few-shot runs overlap on {summary['lanes']} lane(s): "
          f"{summary['parallel_jobs_seconds']:.0f} s of wall time in this run; all stages in this run: "
          f"{summary['total_seconds_this_run']:.0f} s)")
    machine = summary['machine']
    print(f"  machine: {machine['cpu']}, torch {machine['torch']} CPU kernels for {machine['torch_cpu_capability']}, "
          f"{machine['cores']} cores, GPU {machine['gpu'] or 'none'}")
    print(f'\nresults: {osp.join(out, "results.json")}, plot: {plot_path}, teacher PCK: '
          f'{osp.join(out, "teacher_pck.json")}')


if __name__ == '__main__':
    main()
