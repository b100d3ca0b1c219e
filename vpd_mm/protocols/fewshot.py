"""The few-shot recognition protocol (paper section 4.1.1, reference ``spec/reference_vpd.md`` section 6.4).

For every ``k`` (examples per class) and trial, the training set is ``k`` actions per class (all of them when a
class has fewer), drawn by :func:`vpd_mm.datasets.draw_fewshot` from ``(seed, k, trial)`` or read from a
published id list; the model is trained on them (BiGRU through the mmengine Runner, with model selection on the
validation split, never on test) or used as a DTW nearest-neighbour gallery, and tested on the full test split.
The protocol reports the mean and the standard deviation (numpy's population std, ``ddof=0``) of the top-1
accuracy over the trials. ``k = 'all'`` trains on the whole training split (the paper's Table 1 setting).

Every finished ``(k, trial)`` is written to ``<work_dir>/results/<k>_<trial>.json`` (atomically); a rerun skips
those, and an interrupted BiGRU run resumes from the last checkpoint of its work dir.
"""
from __future__ import annotations

import copy
import glob
import json
import os.path as osp
from typing import Any, Callable, Sequence

import numpy as np

from ..corpus.corpus import Corpus, CorpusFormatError, atomic_write_bytes
from ..corpus.fewshot import carve_validation, draw_fewshot, fewshot_list_path, read_fewshot_ids
from .training import train_resumable

__all__ = ['run_fewshot', 'aggregate_fewshot', 'fewshot_id_list', 'train_and_test_bigru', 'dtw_nearest_neighbor',
           'run_seed', 'write_json', 'check_feature_dim']

K = int | str  # an int k, or 'all'


def write_json(path: str, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    data = json.dumps(obj, indent=1).encode()
    atomic_write_bytes(path, lambda f: f.write(data))


def run_seed(seed: int, k: K, trial: int) -> int:
    """The training seed of one ``(k, trial)`` run: a pure function of ``(seed, k, trial)``."""
    k_code = 0 if k == 'all' else int(k)
    return int(np.random.SeedSequence([int(seed), k_code, int(trial)]).generate_state(1)[0] % (2**31 - 1))


def _dataset_cfg(cfg: Any, loader: str) -> Any:
    dataset = cfg[loader]['dataset']
    while 'dataset' in dataset and 'data_root' not in dataset:  # RepeatDataset-style wrappers
        dataset = dataset['dataset']
    return dataset


def check_feature_dim(cfg: Any, corpus: Corpus) -> None:
    """Stop before training when the config's feature set does not have the model's input size.

    Raises:
        MissingStageError: the feature set does not exist.
        CorpusFormatError: its features are not ``model.in_channels``-dimensional (names the first file).
    """
    from ..datasets.sequence import parse_feature_spec
    expected = cfg.get('model', {}).get('in_channels')
    kind, name = parse_feature_spec(_dataset_cfg(cfg, 'train_dataloader')['features'])
    corpus.require(f'{kind}/{name}')
    ids = corpus.feature_ids(kind, name)
    if expected is None or not ids:
        return
    track = corpus.read_features(kind, name, ids[0])
    if track.feats.shape[-1] != int(expected):
        raise CorpusFormatError(corpus.feature_path(kind, name, ids[0]), 'feats',
                                f'{track.feats.shape[-1]}-d features, the config\'s model.in_channels is {expected}',
                                hint='set model.in_channels, or point the config at the right feature set')


def _carved_val(cfg: Any, corpus: Corpus) -> list[str]:
    dataset = _dataset_cfg(cfg, 'train_dataloader')
    fraction = float(dataset.get('carve_val', 0.0) or 0.0)
    actions = corpus.read_actions()
    if fraction <= 0 or any(a.split == 'val' for a in actions):
        return []
    return carve_validation(actions, fraction, int(dataset.get('carve_seed', 0)))


def fewshot_id_list(cfg: Any, k: K, trial: int, seed: int, work_dir: str, fewshot_dir: str | None = None
                    ) -> str | None:
    """The id list file of one ``(k, trial)`` run (``None`` for ``k = 'all'``).

    With ``fewshot_dir`` the published list ``<dir>/<k>_<trial>.txt`` (or the reference's
    ``train_<k>_<trial>.ids.txt``) is used and checked; otherwise the draw of :func:`draw_fewshot` (excluding a
    carved validation subset, and restricted to the config's ``classes``) is written to
    ``<work_dir>/fewshot_ids/<k>_<trial>.txt`` for the record.

    Raises:
        CorpusFormatError: a published list is missing, empty, or names unknown or val/test actions.
    """
    if k == 'all':
        return None
    dataset = _dataset_cfg(cfg, 'train_dataloader')
    corpus = Corpus(dataset['data_root'])
    actions = corpus.read_actions()
    if fewshot_dir is not None:
        path = fewshot_list_path(fewshot_dir, int(k), trial)
        read_fewshot_ids(path, actions)  # validates: exists, not empty, known ids, train only
        return path
    path = osp.join(work_dir, 'fewshot_ids', f'{k}_{trial}.txt')
    if not osp.exists(path):
        classes = dataset.get('classes')  # e.g. Tennis7: draw from the 7 classes used, not all 11 labels
        pool = [a for a in actions if classes is None or a.label in classes]
        corpus.write_id_list(path, draw_fewshot(pool, int(k), trial, seed, exclude=_carved_val(cfg, corpus)))
    return path


def _best_checkpoint(runner: Any, work_dir: str) -> str | None:
    best = runner.message_hub.get_info('best_ckpt')
    if best and osp.isfile(best):
        return best
    found = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')), key=osp.getmtime)
    return found[-1] if found else None


def train_and_test_bigru(cfg: Any, ids_file: str | None, work_dir: str, seed: int, quiet: bool = True
                         ) -> dict[str, Any]:
    """Train a recognizer config on one training subset with the mmengine Runner, test its best checkpoint.

    Args:
        cfg (mmengine.Config): a recognition config (e.g. ``configs/recognition/bigru_*.py``).
        ids_file (str, optional): the few-shot id list (``None``: the whole training split).
        work_dir (str): the run's work dir (resumed from its last checkpoint when there is one).
        seed (int): the training seed.
        quiet (bool): log at WARNING level only.

    Returns:
        dict: ``acc`` (top-1 on the test split), ``metrics`` (all test metrics), ``checkpoint``, ``num_train``
        (training actions), ``num_test``, ``train_skipped``, ``test_skipped`` (actions without features).
    """
    cfg = copy.deepcopy(cfg)
    for loader in ('train_dataloader', 'val_dataloader'):
        if cfg.get(loader) is not None:
            _dataset_cfg(cfg, loader)['fewshot_file'] = ids_file
    runner = train_resumable(cfg, work_dir, seed, 'run', quiet)
    best = _best_checkpoint(runner, work_dir)
    if best is not None:
        runner.load_checkpoint(best)
    metrics = runner.test()
    train_set, test_set = runner.train_dataloader.dataset, runner.test_dataloader.dataset
    return dict(acc=float(metrics['acc/top1']), metrics={k: float(v) for k, v in metrics.items()},
                checkpoint=best, num_train=int(train_set.num_actions), num_test=int(test_set.num_actions),
                train_skipped=len(train_set.skipped), test_skipped=len(test_set.skipped))


def dtw_nearest_neighbor(cfg: Any, ids_file: str | None, k_neighbors: int = 1) -> dict[str, Any]:
    """DTW nearest-neighbour classification (reference section 6.5) on the config's train/test datasets.

    The gallery holds the original and the mirrored sequence of every training action as separate items; a test
    action is matched with both of its views, and the overall closest item decides (``k_neighbors`` > 1:
    majority vote, ties to the closest), through :class:`vpd_mm.evaluation.DTWNearestNeighbor`.

    Returns:
        dict: ``acc``, ``num_train``, ``num_test``, ``train_skipped``, ``test_skipped``.
    """
    from mmaction.registry import DATASETS

    from ..evaluation import DTWNearestNeighbor  # written against the API (vpd_mm.evaluation)
    train_cfg = copy.deepcopy(_dataset_cfg(cfg, 'train_dataloader'))
    train_cfg['fewshot_file'] = ids_file
    train_cfg['views'] = 'both'
    test_cfg = copy.deepcopy(_dataset_cfg(cfg, 'test_dataloader'))
    train_set, test_set = DATASETS.build(train_cfg), DATASETS.build(test_cfg)
    train_seqs, train_labels, _ = train_set.sequences()
    test_seqs, test_labels, _ = test_set.sequences()
    model = DTWNearestNeighbor(k=k_neighbors).fit(train_seqs, train_labels)  # (T, 2, d): both views are items
    predicted = np.asarray(model.predict(test_seqs))  # both test views compared, the closest item decides
    return dict(acc=float((predicted == test_labels).mean()), num_train=len(train_seqs), num_test=len(test_seqs),
                train_skipped=len(train_set.skipped), test_skipped=len(test_set.skipped))


def _bigru_job(job: tuple[dict, str | None, str, int, bool]) -> dict[str, Any]:
    """One BiGRU run in a pool worker: the config travels as a plain dict, and torch runs on one thread (a
    forked process hangs in OpenMP with more once its parent has used OpenMP threads)."""
    import torch
    from mmengine.config import Config

    from .. import models  # noqa: F401  (registers our modules in a spawned worker)
    cfg_dict, ids_file, work_dir, seed, quiet = job
    torch.set_num_threads(1)
    return train_and_test_bigru(Config(cfg_dict), ids_file, work_dir, seed, quiet=quiet)


def aggregate_fewshot(runs: Sequence[dict]) -> dict[str, dict[str, Any]]:
    """``{k: {mean, std, accs, trials, num_train}}`` over the runs (std: population, ``ddof=0``)."""
    out: dict[str, dict[str, Any]] = {}
    for run in runs:
        out.setdefault(str(run['k']), dict(accs=[], trials=[], num_train=[]))
        entry = out[str(run['k'])]
        entry['accs'].append(run['acc'])
        entry['trials'].append(run['trial'])
        entry['num_train'].append(run['num_train'])
    for entry in out.values():
        entry['mean'] = float(np.mean(entry['accs']))
        entry['std'] = float(np.std(entry['accs']))
    return out


def run_fewshot(cfg: Any, ks: Sequence[K], trials: int, seed: int, work_dir: str, method: str = 'bigru',
                fewshot_dir: str | None = None, quiet: bool = True,
                progress: Callable[[Sequence], Any] | None = None, workers: int = 1) -> dict[str, Any]:
    """Run the few-shot protocol for every ``k`` and trial; finished runs are read back, not repeated.

    Args:
        cfg (mmengine.Config): a recognition config.
        ks (Sequence[int | str]): examples per class; ``'all'`` for the whole training split.
        trials (int): trials per ``k`` (5 in the paper).
        seed (int): base seed of the draws and of the training runs.
        work_dir (str): output folder: ``fewshot_ids/``, ``results/``, one work dir per BiGRU run.
        method (str): ``'bigru'`` or ``'dtw'``.
        fewshot_dir (str, optional): read published id lists from here instead of drawing.
        quiet (bool): BiGRU runs log at WARNING level only.
        progress (callable, optional): makes a progress bar over the runs still to do (e.g. ``tqdm``); it is
            advanced with ``update(1)`` per finished run.
        workers (int): BiGRU runs trained at once, in a process pool, one torch thread each (on 2 cores, 2
            workers train 1.75x faster than one process on 2 threads); DTW always runs in this process.

    Returns:
        dict: the results document (``task``, ``sport``, ``features``, ``method``, ``seed``, ``trials``,
        ``results``: :func:`aggregate_fewshot`, ``runs``: every run's record).
    """
    if method not in ('bigru', 'dtw'):
        raise ValueError(f"method must be 'bigru' or 'dtw', got {method!r}")
    if trials < 1:
        raise ValueError(f'trials must be >= 1, got {trials}')
    dataset = _dataset_cfg(cfg, 'train_dataloader')
    corpus = Corpus(dataset['data_root'])
    meta = corpus.read_meta()
    if method == 'bigru':
        check_feature_dim(cfg, corpus)
    plan = [(k, trial) for k in ks for trial in range(1 if k == 'all' and method == 'dtw' else trials)]
    id_lists = {(k, t): fewshot_id_list(cfg, k, t, seed, work_dir, fewshot_dir) for k, t in plan}
    runs: dict[tuple[K, int], dict] = {}
    todo = []
    for k, trial in plan:
        result_path = osp.join(work_dir, 'results', f'{method}_{k}_{trial}.json')
        if osp.exists(result_path):
            with open(result_path) as f:
                runs[(k, trial)] = json.load(f)
        else:
            todo.append((k, trial))

    def record(k: K, trial: int, result: dict[str, Any]) -> None:
        runs[(k, trial)] = dict(k=k, trial=trial, method=method, ids_file=id_lists[(k, trial)], **result)
        write_json(osp.join(work_dir, 'results', f'{method}_{k}_{trial}.json'), runs[(k, trial)])

    bar = progress(todo) if progress else None
    try:
        _run_plan(cfg, method, todo, id_lists, work_dir, seed, quiet, workers, record, bar)
    finally:
        if bar is not None:
            bar.close()
    ordered = [runs[key] for key in plan]
    return dict(task='recognition', protocol='fewshot', sport=meta.sport, corpus=osp.abspath(corpus.root),
                features=dataset['features'], method=method, seed=seed, trials=trials,
                fewshot_dir=fewshot_dir, results=aggregate_fewshot(ordered), runs=ordered)


def _run_plan(cfg: Any, method: str, todo: list, id_lists: dict, work_dir: str, seed: int, quiet: bool,
              workers: int, record: Callable[[K, int, dict], None], bar: Any) -> None:
    """Run the ``(k, trial)`` runs still to do (BiGRU runs in a pool with ``workers > 1``)."""
    if method == 'bigru' and workers > 1 and len(todo) > 1:
        from ..stages.runner import worker_pool
        cfg_dict = cfg.to_dict()
        jobs = [(cfg_dict, id_lists[(k, t)], osp.join(work_dir, f'{method}_{k}_{t}'), run_seed(seed, k, t), quiet)
                for k, t in todo]
        with worker_pool(min(workers, len(todo))) as pool:
            for (k, trial), result in zip(todo, pool.imap(_bigru_job, jobs)):
                record(k, trial, result)
                if bar is not None:
                    bar.update(1)
    else:
        for k, trial in todo:
            ids_file = id_lists[(k, trial)]
            if method == 'bigru':
                result = train_and_test_bigru(cfg, ids_file, osp.join(work_dir, f'{method}_{k}_{trial}'),
                                              run_seed(seed, k, trial), quiet=quiet)
            else:
                result = dtw_nearest_neighbor(cfg, ids_file)
            record(k, trial, result)
            if bar is not None:
                bar.update(1)
