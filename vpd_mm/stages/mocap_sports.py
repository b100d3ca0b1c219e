"""Stage: write the ``mocap_sports`` corpus (render each planned instance; videos, tracks, ground truth).

``meta.json`` and ``annotations/instances.json`` are written first; each video's ``videos/``, ``gt_pose/`` and
``tracks/`` files next, the track last, so :meth:`Corpus.video_ids` lists only complete videos and a killed run
resumes; ``annotations/actions.json`` last.
"""
from __future__ import annotations

import json
import os
import os.path as osp
from dataclasses import asdict
from functools import partial
from typing import Any, Callable

import cv2
import numpy as np

from ..corpus import Action, Corpus, CorpusMeta, Track, atomic_write_bytes
from ..corpus.atomic import temp_prefix
from ..mocap_sports.groundtruth import gt_pose_path, write_gt_pose
from ..mocap_sports.plan import GENERATOR_VERSION, PRESETS, SPORT, Instance, MocapSportsSpec, plan_instances
from ..mocap_sports.scene import render_instance
from .runner import for_each_video

__all__ = ['make_mocap_sports', 'write_video']


def write_video(path: str, frames: np.ndarray, fps: float) -> None:
    """Write (T, H, W, 3) uint8 RGB frames as an mp4v video, atomically (temporary file, then rename)."""
    tmp = osp.join(osp.dirname(path), temp_prefix(path) + 'video.mp4')
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'mp4v'), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {tmp} (mp4v codec)')
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------------------ the corpus
def _video_done(corpus: Corpus, video_id: str) -> bool:
    return all(osp.exists(p) for p in (corpus.path('videos', video_id + '.mp4'),
                                       corpus.path('tracks', video_id + '.json'), gt_pose_path(corpus, video_id)))


_WORKER: dict[str, Any] = {}  # one pybullet renderer per process, built on first use


def _render_video(corpus: Corpus, spec: MocapSportsSpec, instances: dict[str, Instance],
                  video_id: str) -> dict[str, float]:
    """Render and write one video (runs in a worker process or inline)."""
    import time
    instance = instances[video_id]
    if 'renderer' not in _WORKER:
        from ..mocap_sports.render import Renderer
        cv2.setNumThreads(1)
        _WORKER['renderer'] = Renderer()
    begin = time.perf_counter()
    try:
        frames, gt = render_instance(instance, spec, _WORKER['renderer'])
        # the track last: Corpus.video_ids() (tracks/) then lists only complete videos
        write_video(corpus.path('videos', video_id + '.mp4'), frames, spec.fps)
        write_gt_pose(corpus, video_id, gt)
        corpus.write_track(video_id, Track(np.arange(len(frames), dtype=np.int32), gt.boxes))
    except Exception as error:
        raise RuntimeError(f'{video_id} ({instance.label} #{instance.index}): {error!r}') from error
    return dict(frames=len(frames), render_seconds=time.perf_counter() - begin)


def make_mocap_sports(root: str, spec: MocapSportsSpec | None = None, seed: int = 0, workers: int = 1,
                      progress: bool = True, preset: str | None = None,
                      log: Callable[[str], None] | None = None) -> Corpus:
    """Generate (or finish generating) the ``mocap_sports`` corpus in ``root``.

    ``meta.json`` and ``annotations/instances.json`` are written first; each video's ``videos/``, ``gt_pose/``
    and ``tracks/`` files next, the track last (videos already complete are skipped, so a killed run resumes);
    ``annotations/actions.json`` last. A folder generated with another seed or spec is refused.

    Args:
        root (str): output folder.
        spec (MocapSportsSpec, optional): sizes and variation; ``PRESETS['default']`` if None.
        seed (int): the seed everything follows from.
        workers (int): rendering processes (each holds one pybullet client).
        progress (bool): show a tqdm progress bar.
        preset (str, optional): the preset name, recorded in ``meta.json``.
        log (callable, optional): receives one summary line.

    Returns:
        Corpus: the corpus at ``root``.

    Raises:
        ValueError: a bad spec, or ``root`` holds a corpus made with other settings.
        RuntimeError: a video failed (the message names it).
    """
    spec = spec or PRESETS['default']
    instances = plan_instances(spec, seed)
    corpus = Corpus(root)
    extra = dict(width=spec.width, height=spec.height, seed=int(seed), preset=preset,
                 generator_version=GENERATOR_VERSION, spec=spec.to_json(), gt_pose='gt_pose',
                 instances='annotations/instances.json',
                 video_frames={i.video_id: int(i.num_frames) for i in instances})
    meta = CorpusMeta(sport=SPORT, classes=list(spec.classes), fps=spec.fps, max_fps=spec.fps, extra=extra)
    if osp.exists(corpus.path('meta.json')):
        old = corpus.read_meta()
        derived = ('preset', 'video_frames')  # names and lengths follow from the spec and the seed
        if old.sport != SPORT or {k: v for k, v in old.extra.items() if k not in derived} != \
                {k: v for k, v in extra.items() if k not in derived} or old.classes != meta.classes:
            raise ValueError(f'{corpus.path("meta.json")}: this folder holds a corpus made with other settings '
                             f'(sport {old.sport!r}, seed {old.extra.get("seed")!r}); choose a new --out or '
                             'delete it')
    else:
        corpus.write_meta(meta)
    data = json.dumps([asdict(i) for i in instances], indent=1).encode()
    atomic_write_bytes(corpus.path('annotations', 'instances.json'), lambda f: f.write(data))
    os.makedirs(corpus.path('videos'), exist_ok=True)
    result = for_each_video([i.video_id for i in instances],
                            partial(_render_video, corpus, spec, {i.video_id: i for i in instances}),
                            done=partial(_video_done, corpus), workers=workers, on_error='raise',
                            desc='render mocap_sports', progress=progress, counters=('frames', 'render_seconds'),
                            outputs=[corpus.path(f) for f in ('videos', 'tracks', 'gt_pose', 'annotations')])
    actions = [Action(id=f'{inst.video_id}_0', video_id=inst.video_id, start=int(inst.action[0]),
                      end=int(inst.action[1]), label=inst.label, split=inst.split) for inst in instances]
    corpus.write_actions(actions, classes=meta.classes)
    if log is not None and result['written']:
        log(f'rendered {result["written"]} videos, {result["frames"]} frames, '
            f'{result["frames"] / max(result["render_seconds"], 1e-9):.1f} frames/s per worker ({workers} '
            f'worker(s)); skipped {result["skipped"]} finished videos')
    return corpus
