"""Raw videos to action predictions in one call: the pipeline behind ``tools/infer_video.py``.

``infer_videos(videos, out, student=CKPT, recognizer=CKPT | detector=CKPT)`` runs, each step on the stage runner
(resumable: a step skips the videos whose output is complete, so a killed run goes on where it stopped):

1. ``prepare_videos`` -> ``<out>/corpus`` (videos linked and read once; actions from an optional CSV);
2. athlete tracking -> ``corpus/tracks/`` (:mod:`vpd_mm.stages.tracking`);
3. crops and optical flow -> ``corpus/crops/``, ``corpus/flow/``;
4. the student's features -> ``corpus/features/student_<id>/`` (``<id>`` is made from the checkpoint's path,
   size and time, so another student never reuses them);
5. predictions -> ``<out>/<video_id>.json``: with a detector, its per-frame scores and proposals; the segments
   (the proposals, else the video's actions from the CSV, else the whole tracked span) classified by the
   recogniser; a JSON made with other models is recomputed;
6. an overlay -> ``<out>/<video_id>.mp4`` (the athlete box, the crop and flow, the label over time).
"""
from __future__ import annotations

import hashlib
import json
import os
import os.path as osp
from functools import partial
from typing import Any, Callable, Sequence

from ..corpus import Corpus, atomic_write_bytes
from ..datasets.converters.videos import prepare_videos
from ..datasets.sequence import video_fps
from ..stages.crops import extract_crops
from ..stages.flow import DEFAULT_FLOW_METHOD, extract_flow
from ..stages.runner import StageError, for_each_video, summary_line
from ..stages.tracking import track_athletes
from .inference import detect, init_detector, init_recognizer, init_student, recognize
from .visualization import load_layers, read_predictions, render_video

__all__ = ['checkpoint_id', 'infer_videos', 'predict_video']


def checkpoint_id(path: str) -> str:
    """8 hex digits from a file's absolute path, size and modification time."""
    stat = os.stat(path)
    key = f'{osp.abspath(path)}|{stat.st_size}|{int(stat.st_mtime)}'
    return hashlib.sha1(key.encode()).hexdigest()[:8]


def _signature(student: str, recognizer: str | None, detector: str | None, threshold: float,
               person_detector: str) -> dict[str, Any]:
    sig: dict[str, Any] = dict(student=osp.abspath(student), student_id=checkpoint_id(student),
                               person_detector=person_detector, threshold=threshold)
    for key, path in (('recognizer', recognizer), ('detector', detector)):
        sig[key] = osp.abspath(path) if path else None
        sig[key + '_id'] = checkpoint_id(path) if path else None
    return sig


def predict_video(corpus: Corpus, video_id: str, features: str, recognizer: Any = None, detector: Any = None,
                  threshold: float = 0.5) -> dict[str, Any]:
    """The prediction document of one corpus video (step 5 of the module docstring).

    Args:
        corpus (Corpus): the corpus (``features/<features>/``, ``meta.json``, actions).
        video_id (str): the video.
        features (str): the student feature folder name.
        recognizer: from :func:`~vpd_mm.apis.init_recognizer` (optional).
        detector: from :func:`~vpd_mm.apis.init_detector` (optional).
        threshold (float): the detector's activation threshold.

    Returns:
        dict: ``video_id``, ``fps``, ``num_frames``, ``classes``, ``segments`` (``start``, ``end``, seconds,
        ``label``, ``label_index``, ``score``, ``topk``, and ``detection_score`` / ``action_id`` and
        ``given_label`` where known), ``frame_scores`` (detector) and ``threshold``.
    """
    meta = corpus.read_meta()
    fps = video_fps(meta, video_id)
    track = corpus.read_features('features', features, video_id)
    num_frames = int(meta.extra.get('video_frames', {}).get(video_id, int(track.frames[-1]) + 1 if len(track.frames)
                                                                       else 0))
    doc: dict[str, Any] = dict(video_id=video_id, fps=fps, num_frames=num_frames, tracked_frames=len(track.frames),
                               classes=list(recognizer.dataset_meta['classes']) if recognizer is not None else [],
                               frame_scores=None, threshold=None)
    segments: list[dict[str, Any]]
    if detector is not None:
        found = detect(detector, track, threshold=threshold)
        doc.update(frame_scores=[round(float(s), 4) for s in found['frame_scores']], threshold=threshold)
        segments = [dict(start=s['start'], end=s['end'], detection_score=round(s['score'], 4))
                    for s in found['segments']]
    else:
        actions = [a for a in corpus.read_actions() if a.video_id == video_id]
        if actions:
            segments = [dict(start=a.start, end=a.end, action_id=a.id, given_label=a.label) for a in actions]
        elif len(track.frames):
            segments = [dict(start=int(track.frames[0]), end=int(track.frames[-1]) + 1)]
        else:
            segments = []
    if recognizer is not None and segments:
        labels = recognize(recognizer, track, [(s['start'], s['end']) for s in segments], fps=fps)
        for seg, result in zip(segments, labels):
            seg.update(label=result['label'], label_index=result['label_index'],
                       score=None if result['score'] is None else round(result['score'], 4),
                       topk=[[name, round(score, 4)] for name, score in result['topk']])
    for seg in segments:
        seg.update(start_s=round(seg['start'] / fps, 3), end_s=round(seg['end'] / fps, 3))
    doc['segments'] = segments
    return doc


def _write_json(path: str, doc: dict[str, Any]) -> None:
    data = json.dumps(doc, indent=1).encode()
    atomic_write_bytes(path, lambda f: f.write(data))


def _prediction_done(out: str, signature: dict[str, Any], video_id: str) -> bool:
    path = osp.join(out, video_id + '.json')
    if not osp.isfile(path):
        return False
    try:
        with open(path) as f:
            return json.load(f).get('models') == signature
    except (OSError, ValueError):
        return False


def _predict_one(corpus: Corpus, out: str, features: str, signature: dict[str, Any], recognizer: Any,
                 detector: Any, threshold: float, video_id: str) -> dict[str, int]:
    if not osp.isfile(corpus.feature_path('features', features, video_id)):
        raise StageError(f'{corpus.feature_path("features", features, video_id)}: no student features '
                         '(its crops or flow failed; see above)')
    doc = predict_video(corpus, video_id, features, recognizer, detector, threshold)
    doc['video'] = osp.realpath(corpus.video_path(video_id))
    doc['models'] = signature
    overlay = osp.join(out, video_id + '.mp4')
    if osp.exists(overlay):  # made from older predictions
        os.remove(overlay)
    _write_json(osp.join(out, video_id + '.json'), doc)
    return dict(segments=len(doc['segments']))


def _overlay_one(corpus: Corpus, out: str, video_id: str) -> dict[str, int]:
    predictions = read_predictions(osp.join(out, video_id + '.json'))
    layers = load_layers(corpus, video_id, predictions, pose=False)
    return render_video(corpus.video_path(video_id), layers, mp4=osp.join(out, video_id + '.mp4'))


def infer_videos(videos: str | Sequence[str], out: str, student: str, student_config: str | None = None,
                 recognizer: str | None = None, recognizer_config: str | None = None,
                 detector: str | None = None, detector_config: str | None = None, actions_csv: str | None = None,
                 seconds: bool = False, person_detector: str = 'mediapipe', person_weights: str | None = None,
                 flow: str = DEFAULT_FLOW_METHOD, threshold: float = 0.5, overlay: bool = True,
                 device: str | None = None, progress: bool = True,
                 log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the whole pipeline (module docstring) on raw videos.

    Args:
        videos (str | Sequence[str]): a folder of videos or video files.
        out (str): output folder (``corpus/``, ``<video_id>.json``, ``<video_id>.mp4``).
        student (str): distillation checkpoint (``student_config``: its config; default the one beside it).
        recognizer (str, optional): BiGRU recogniser checkpoint (``recognizer_config`` likewise).
        detector (str, optional): frame-level BiGRU detector checkpoint (``detector_config`` likewise).
        actions_csv (str, optional): segments to classify, ``video,start,end,label[,split]`` (labels kept as
            ``given_label``).
        seconds (bool): plain CSV times are seconds.
        person_detector (str): ``'mediapipe'`` or ``'torchvision'`` (with ``person_weights``).
        person_weights (str, optional): torchvision detector weights.
        flow (str): optical flow method (use the student's training one; default Farneback).
        threshold (float): detector activation threshold.
        overlay (bool): write the overlay videos.
        device (str, optional): torch device.
        progress (bool): progress bars.
        log (callable): receives one line per step.

    Returns:
        dict: ``videos`` (ids), ``steps`` (each step's runner summary) and ``failed`` (``'file: problem'`` lines).
    """
    if recognizer is None and detector is None:
        raise ValueError('give a recognizer and/or a detector checkpoint')
    os.makedirs(out, exist_ok=True)
    models = dict(student=init_student(student_config, student, device))
    if recognizer is not None:
        models['recognizer'] = init_recognizer(recognizer_config, recognizer, device)
    if detector is not None:
        models['detector'] = init_detector(detector_config, detector, device)
    summary = prepare_videos(videos, osp.join(out, 'corpus'), actions_csv=actions_csv, seconds=seconds,
                             progress=progress)
    for line in summary.lines():
        log(line)
    corpus, ids = summary.corpus, sorted(summary.videos)
    steps: dict[str, dict[str, Any]] = {}

    def step(name: str, result: dict[str, Any]) -> list[str]:
        steps[name] = result
        log(f'{name}: {summary_line(result)}')
        return [v for v in ids if osp.isfile(corpus.path('tracks', v + '.json'))]

    tracked = step('tracking', track_athletes(corpus, ids, detector=person_detector, weights=person_weights,
                                              progress=progress))
    step('crops', extract_crops(corpus, tracked, progress=progress))
    step('flow', extract_flow(corpus, flow, video_ids=[v for v in tracked if corpus.crops.has_crops(v)],
                              progress=progress))
    name = f'student_{checkpoint_id(student)}'
    extractor = models['student']
    ready = [v for v in tracked if corpus.crops.has_crops(v) and (not extractor.with_flow or corpus.crops.has_flow(v))]
    step('features', extractor.run(corpus.root, name, ready, progress=progress))
    signature = _signature(student, recognizer, detector, threshold, person_detector)
    signature['features'] = name
    step('predictions', for_each_video(
        tracked, partial(_predict_one, corpus, out, name, signature, models.get('recognizer'),
                         models.get('detector'), threshold),
        done=partial(_prediction_done, out, signature), desc='predictions', progress=progress,
        counters=('segments',)))
    if overlay:
        step('overlay', for_each_video(
            [v for v in tracked if osp.isfile(osp.join(out, v + '.json'))], partial(_overlay_one, corpus, out),
            done=lambda v: osp.isfile(osp.join(out, v + '.mp4')), desc='overlay', progress=progress,
            counters=('frames',)))
    failed = [line for result in steps.values() for line in result.get('failed', [])]
    untracked = sorted(set(ids) - set(tracked))
    return dict(videos=ids, tracked=[v for v in ids if v not in untracked], steps=steps, failed=failed,
                predictions={v: osp.join(out, v + '.json') for v in ids if osp.isfile(osp.join(out, v + '.json'))},
                features=name, corpus=corpus.root)
