"""The few-shot temporal detection protocol (paper section 4.3, reference ``spec/reference_vpd.md`` section 8).

1. Training videos: every video with train/val actions and no test action, or a few of them (``num_videos``,
   drawn from ``(seed, trial)``, or the first lines of a published list such as the reference's
   ``train.localize.<trial>.txt``). Test videos: the videos with test actions.
2. A ``folds``-fold ensemble over the training videos (default 5, the paper's setting; the reference's code
   defaults to a single model, its bug 7): fold ``i`` trains a :class:`~vpd_mm.models.FrameBiGRUDetector`
   through the mmengine Runner on the other folds' videos and selects its checkpoint on fold ``i``'s videos
   (per-frame accuracy). With fewer videos than folds, one fold per video.
3. Every fold model scores the frames of its held-out videos (out-of-fold) and of every test video; the
   mirrored features are averaged with the original ones, and the test scores are averaged over the folds.
4. The activation threshold is chosen on the out-of-fold scores of the training videos (the one with the best
   AP averaged over the tIoUs; grid 0.1..0.9, tennis 0.05..0.5 as in the reference), never on test; the
   reference prints AP for every threshold without choosing one.
5. Proposals (:func:`vpd_mm.evaluation.detection.video_proposals`: runs above the threshold, small gaps merged,
   at least 5 frames, lengths normalised to 0.67-1.33 times the mean training interval) and AP at each tIoU
   (:func:`vpd_mm.evaluation.detection.detection_ap`) on the test videos.

Fold models and fold scores (``fold_<i>/scores.npz``) are kept, so a rerun skips finished folds and an
interrupted fold resumes from its last checkpoint.
"""
from __future__ import annotations

import copy
import glob
import os.path as osp
from typing import Any, Callable, Sequence

import numpy as np

from ..corpus.corpus import Corpus, CorpusFormatError, atomic_write_bytes
from ..datasets.sequence import detection_interval, load_video_sequences, video_fps
from .training import train_resumable

__all__ = ['select_detection_videos', 'kfold_videos', 'default_thresholds', 'run_detection']


def _dataset_cfg(cfg: Any, loader: str) -> Any:
    dataset = cfg[loader]['dataset']
    while 'dataset' in dataset and 'data_root' not in dataset:
        dataset = dataset['dataset']
    return dataset


def select_detection_videos(corpus: Corpus, num_videos: int | None = None, trial: int = 0, seed: int = 0,
                            video_list: str | None = None) -> tuple[list[str], list[str]]:
    """Training and test videos of the detection protocol.

    Args:
        corpus (Corpus): the corpus.
        num_videos (int, optional): keep this many training videos (few-shot detection; the paper uses 5).
        trial (int): with ``num_videos`` and no list: which seeded draw.
        seed (int): seed of the draw.
        video_list (str, optional): a file of training video ids, one per line; its first ``num_videos`` lines
            (all without ``num_videos``) are used.

    Returns:
        tuple: (training video ids, test video ids), sorted (the training ids in list order with a list).

    Raises:
        CorpusFormatError: the list is empty, or names a video without train/val actions or with test actions.
        ValueError: no training or no test videos.
    """
    actions = corpus.read_actions()
    test = sorted({a.video_id for a in actions if a.split == 'test'})
    pool = sorted({a.video_id for a in actions if a.split != 'test'} - set(test))
    if video_list is not None:
        chosen = corpus.read_id_list(video_list)
        if not chosen:
            raise CorpusFormatError(video_list, 'ids', 'the video list is empty')
        chosen = chosen[:num_videos] if num_videos else chosen
        bad = [v for v in chosen if v not in pool]
        if bad:
            raise CorpusFormatError(video_list, 'ids', f'{len(bad)} ids are not training videos of the corpus '
                                    f'(unknown, or with test actions), e.g. {bad[:3]}')
    elif num_videos is not None and num_videos < len(pool):
        rng = np.random.default_rng([int(seed), int(num_videos), int(trial)])
        chosen = sorted(pool[i] for i in rng.choice(len(pool), size=num_videos, replace=False))
    else:
        chosen = pool
    if not chosen:
        raise ValueError(f'no training videos in {corpus.root}')
    if not test:
        raise ValueError(f'no test videos (videos with test actions) in {corpus.root}')
    return chosen, test


def kfold_videos(videos: Sequence[str], folds: int, seed: int) -> list[list[str]]:
    """Split videos into ``min(folds, len(videos))`` folds after a seeded shuffle (sklearn KFold style)."""
    folds = min(int(folds), len(videos))
    if folds < 2:
        raise ValueError(f'the ensemble needs at least 2 training videos (one to validate each fold), got '
                         f'{len(videos)}')
    order = np.random.default_rng([int(seed), 5]).permutation(len(videos))
    return [sorted(videos[i] for i in part) for part in np.array_split(order, folds)]


def default_thresholds(sport: str) -> list[float]:
    """The reference's activation thresholds: tennis 0.05..0.5 (10), others 0.1..0.9 (9)."""
    grid = np.linspace(0.05, 0.5, 10) if sport == 'tennis7' else np.linspace(0.1, 0.9, 9)
    return [round(float(t), 4) for t in grid]


def _save_scores(path: str, scores: dict[str, np.ndarray]) -> None:
    ids = list(scores)
    arrays = {f's{i}': np.asarray(scores[v], np.float32) for i, v in enumerate(ids)}
    atomic_write_bytes(path, lambda f: np.savez(f, ids=np.array(ids, dtype=str), **arrays))


def _load_scores(path: str) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {str(v): data[f's{i}'] for i, v in enumerate(data['ids'])}


def _train_fold(cfg: Any, train_videos: list[str], val_videos: list[str], work_dir: str, seed: int,
                quiet: bool) -> Any:
    cfg = copy.deepcopy(cfg)
    _dataset_cfg(cfg, 'train_dataloader')['videos'] = list(train_videos)
    _dataset_cfg(cfg, 'val_dataloader')['videos'] = list(val_videos)
    runner = train_resumable(cfg, work_dir, seed, 'fold', quiet)
    best = runner.message_hub.get_info('best_ckpt')
    if not (best and osp.isfile(best)):
        found = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')), key=osp.getmtime)
        best = found[-1] if found else None
    if best is not None:
        runner.load_checkpoint(best)
    model = runner.model
    return getattr(model, 'module', model)


def _ground_truth(corpus: Corpus, videos: Sequence[str], lengths: dict[str, int]) -> list[tuple[str, int, int]]:
    meta = corpus.read_meta()
    wanted = set(videos)
    out = []
    for action in corpus.read_actions():
        if action.video_id in wanted:
            start, end = detection_interval(action, meta.sport, video_fps(meta, action.video_id))
            end = min(end, lengths[action.video_id])
            if end > start:
                out.append((action.video_id, start, end))
    return out


def _ap_table(scores: dict[str, np.ndarray], gt: list, threshold: float, mean_length: float,
              tious: Sequence[float], proposal_cfg: dict) -> tuple[dict[float, float], int]:
    from ..evaluation import detection_ap
    from ..evaluation.detection import video_proposals
    proposals = video_proposals(scores, threshold, mean_length=mean_length, **proposal_cfg)
    return {float(t): detection_ap(proposals, gt, t) for t in tious}, len(proposals)


def run_detection(cfg: Any, work_dir: str, folds: int = 5, seed: int = 0, num_videos: int | None = None,
                  trial: int = 0, video_list: str | None = None,
                  tious: Sequence[float] = (0.3, 0.4, 0.5, 0.6, 0.7), thresholds: Sequence[float] | None = None,
                  proposal_cfg: dict | None = None, quiet: bool = True,
                  progress: Callable[[Sequence], Any] | None = None) -> dict[str, Any]:
    """Run the detection protocol (module docstring) and return its result document.

    Args:
        cfg (mmengine.Config): a detection config (``configs/detection/*``).
        work_dir (str): one sub-folder per fold.
        folds (int): ensemble size (5).
        seed (int): seed of the video draw, the fold split and the training runs.
        num_videos (int, optional): few-shot: number of training videos.
        trial (int): few-shot trial.
        video_list (str, optional): published list of training videos.
        tious (Sequence[float]): temporal IoU thresholds of the AP table.
        thresholds (Sequence[float], optional): activation thresholds to choose from (default: the reference's
            grid for the sport).
        proposal_cfg (dict, optional): ``max_gap``, ``min_length``, ``length_range`` for the proposals.
        quiet (bool): fold training logs at WARNING level only.
        progress (callable, optional): wraps the list of folds (e.g. ``tqdm``).

    Returns:
        dict: ``task='detection'``, ``sport``, ``features``, ``ap`` ``{tIoU: AP}`` on test, ``threshold`` and the
        validation AP of every candidate, the videos, the number of proposals and ground-truth intervals.
    """
    dataset = _dataset_cfg(cfg, 'train_dataloader')
    corpus = Corpus(dataset['data_root'])
    meta = corpus.read_meta()
    features = dataset['features']
    train_videos, test_videos = select_detection_videos(corpus, num_videos, trial, seed, video_list)
    parts = kfold_videos(train_videos, folds, seed)
    proposal_cfg = dict(proposal_cfg or {})
    thresholds = list(thresholds) if thresholds is not None else default_thresholds(meta.sport)

    train_seqs, skipped_train = load_video_sequences(corpus, features, train_videos)
    test_seqs, skipped_test = load_video_sequences(corpus, features, test_videos)
    if not test_seqs:
        raise ValueError(f'none of the {len(test_videos)} test videos has {features} features')
    oof: dict[str, np.ndarray] = {}
    test_scores: dict[str, list[np.ndarray]] = {v: [] for v in test_seqs}
    fold_ids = list(range(len(parts)))
    for fold in (progress(fold_ids) if progress else fold_ids):
        fold_dir = osp.join(work_dir, f'fold_{fold}')
        score_path = osp.join(fold_dir, 'scores.npz')
        held_out = parts[fold]
        if not osp.exists(score_path):
            train_part = [v for i, p in enumerate(parts) if i != fold for v in p]
            seed_fold = int(np.random.SeedSequence([int(seed), int(trial), fold]).generate_state(1)[0] % (2**31 - 1))
            model = _train_fold(cfg, train_part, held_out, fold_dir, seed_fold, quiet)
            scores = {v: model.frame_scores(train_seqs[v][0]) for v in held_out if v in train_seqs}
            scores.update({f'test:{v}': model.frame_scores(f) for v, (f, _) in test_seqs.items()})
            _save_scores(score_path, scores)
        scores = _load_scores(score_path)
        for v in held_out:
            if v in scores:
                oof[v] = scores[v]
        for v in test_scores:
            test_scores[v].append(scores[f'test:{v}'])

    lengths = {v: len(lab) for v, (_, lab) in {**train_seqs, **test_seqs}.items()}
    train_gt = _ground_truth(corpus, list(oof), lengths)
    if not train_gt:
        raise ValueError('the training videos have no action to detect')
    mean_length = float(np.mean([end - start for _, start, end in train_gt]))
    val_ap = {}
    for threshold in thresholds:
        table, _ = _ap_table(oof, train_gt, threshold, mean_length, tious, proposal_cfg)
        val_ap[threshold] = table
    best = max(thresholds, key=lambda t: (float(np.mean(list(val_ap[t].values()))), -t))
    test_mean = {v: np.mean(np.stack(s), axis=0) for v, s in test_scores.items()}
    test_gt = _ground_truth(corpus, list(test_mean), lengths)
    if not test_gt:
        raise ValueError('the test videos have no action to detect')
    ap, num_proposals = _ap_table(test_mean, test_gt, best, mean_length, tious, proposal_cfg)
    return dict(task='detection', sport=meta.sport, corpus=osp.abspath(corpus.root), features=features,
                folds=len(parts), seed=seed, trial=trial, num_videos=num_videos, video_list=video_list,
                train_videos=train_videos, test_videos=sorted(test_mean),
                skipped_videos=[v for v, _ in skipped_train + skipped_test],
                threshold=best, val_map={str(t): float(np.mean(list(v.values()))) for t, v in val_ap.items()},
                mean_length=mean_length, num_gt=len(test_gt), num_proposals=num_proposals,
                ap={str(t): v for t, v in ap.items()})
