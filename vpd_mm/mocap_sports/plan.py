"""The embedded benchmark corpus ``mocap_sports``: rendered athletes performing real DeepMimic motion capture.

Every *instance* is one uncut "routine" video: unlabelled movement (walking, running, dancing, shadow boxing,
or crawling before a get-up), one labelled action, and more unlabelled movement, chained with cross-faded
transitions (:class:`~vpd_mm.mocap_sports.motion.Routine`). Action classes are defined by motion only
(:data:`ACTION_CLASSES`); appearance is sampled independently of the class. Each instance draws, from its own
seeded generator:

- camera: yaw all around the athlete, elevation, distance, field of view; it pans with the athlete;
- motion: clip start and end jitter, playback speed of the action and of the fillers, mirroring;
- appearance: skin, clothes, hair, light direction, ground and backdrop textures, sensor noise;
- exposure: shutter time; the frame is the mean of sub-frame renders over the shutter (motion blur), with as
  many sub-frames as the fastest joint's streak needs (one for a frame that barely moves).

Output (the corpus layout of :mod:`vpd_mm.corpus.corpus`, plus ground truth):

```
meta.json                  CorpusMeta(sport='mocap_sports', ...), extra: size, seed, spec, gt folder
videos/<id>.mp4            mp4v, 25 fps by default
tracks/<id>.json           ground-truth athlete box per frame (projected joints and figure mask, padded)
gt_pose/<id>.npz           ground-truth 2D joints, same fields as pose/ (+ extras: vpd_mm.mocap_sports.groundtruth)
annotations/instances.json every instance's parameters, segments and split
annotations/actions.json   one action per video, split by instance (written last: the corpus is complete)
```

``pose/`` is left to the teacher (:mod:`vpd_mm.stages.pose_mediapipe`). Deterministic: the same seed and
spec give the same ground truth, actions and splits; a killed run resumes where it stopped (finished videos are
skipped).
"""
from __future__ import annotations

import json
import math
import os.path as osp
from dataclasses import asdict, dataclass, fields
from typing import Any, Sequence

import numpy as np

from ..corpus import Corpus, CorpusFormatError
from .motion import FlightEdit, Segment

__all__ = [
    'ActionClass', 'ACTION_CLASSES', 'CLASS_SETS', 'FILLER_CLIPS', 'JUMP_FLIGHT', 'BACKFLIP_FLIGHT', 'SPIN_FLIGHT',
    'MocapSportsSpec', 'PRESETS', 'Instance', 'plan_instances', 'read_instances', 'vipe_clip_split', 'SPORT',
    'GENERATOR_VERSION'
]

SPORT = 'mocap_sports'
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class ActionClass:
    """A motion-defined action class.

    Args:
        name (str): class name.
        clips (tuple): ``(clip, start, end)`` windows in clip seconds; an instance uses one of them.
        pre (tuple[str, ...]): clips that may precede the action (unlabelled).
        post (tuple[str, ...]): clips that may follow it (unlabelled).
        edit (FlightEdit | None): what the class does while airborne (fine-grained classes), or None for the
            clip as captured.
        family (str): the classes that share their slow phases (same clip, same take-off and landing).
    """

    name: str
    clips: tuple[tuple[str, float, float], ...]
    pre: tuple[str, ...] = ('walk', 'run', 'dance_a', 'dance_b', 'punch')
    post: tuple[str, ...] = ('walk', 'run', 'dance_a', 'dance_b', 'punch')
    edit: FlightEdit | None = None
    family: str = ''


FILLER_CLIPS: tuple[str, ...] = ('walk', 'run', 'dance_a', 'dance_b', 'punch', 'crawl')
"""Clips used only as unlabelled movement around the actions."""

# Airborne intervals (clip seconds) of the clips the fine-grained classes edit: both ankles more than 5 cm above
# their 5th-percentile height, measured by forward kinematics at 100 Hz (tests/benchmark/test_classes.py checks
# them against the clips).
JUMP_FLIGHT = (0.74, 1.22)
BACKFLIP_FLIGHT = (0.64, 1.19)
SPIN_FLIGHT = (1.62, 2.14)

_STRAIGHT = dict(hip=0.0, knee=-5.0)
_TUCK = dict(hip=110.0, knee=-130.0)
_PIKE = dict(hip=100.0, knee=0.0)

ACTION_CLASSES: dict[str, ActionClass] = {c.name: c for c in (
    # the coarse classes: each is a different clip
    ActionClass('backflip', (('backflip', 0.0, 1.75),)),
    ActionClass('cartwheel', (('cartwheel', 0.0, 2.72),)),
    ActionClass('spinkick', (('spinkick', 0.0, 1.28),)),
    ActionClass('spin', (('spin', 0.8, 2.8),)),  # the clip's first jump-turn (the second one repeats it)
    ActionClass('kick', (('kick', 0.0, 1.53),)),
    ActionClass('jump', (('jump', 0.0, 1.77),)),
    ActionClass('roll', (('roll', 0.0, 2.02),)),
    # a get-up from lying face up or face down; the athlete crawls before lying down
    ActionClass('getup', (('getup_faceup', 0.5, 3.77), ('getup_facedown', 0.4, 3.03)), pre=('crawl',)),
    # the fine-grained classes: three families of four; within a family the run-up, take-off and landing are the
    # same clip and only the airborne part differs: turns about the vertical (jump: 0, 1/2, 1; spin: the clip's
    # own quarter turn in flight plus 0, 1 or 2), a full twist about the body's axis (backflip), the body's shape
    # (straight, tuck, pike, layout)
    ActionClass('jump_straight', (('jump', 0.0, 1.77),), edit=FlightEdit(*JUMP_FLIGHT, **_STRAIGHT), family='jump'),
    ActionClass('jump_tuck', (('jump', 0.0, 1.77),), edit=FlightEdit(*JUMP_FLIGHT, **_TUCK), family='jump'),
    ActionClass('jump_half_turn', (('jump', 0.0, 1.77),), edit=FlightEdit(*JUMP_FLIGHT, turn=180.0, **_STRAIGHT),
                family='jump'),
    ActionClass('jump_full_turn', (('jump', 0.0, 1.77),), edit=FlightEdit(*JUMP_FLIGHT, turn=360.0, **_STRAIGHT),
                family='jump'),
    ActionClass('backflip_tuck', (('backflip', 0.0, 1.75),), edit=FlightEdit(*BACKFLIP_FLIGHT, **_TUCK),
                family='backflip'),
    ActionClass('backflip_pike', (('backflip', 0.0, 1.75),), edit=FlightEdit(*BACKFLIP_FLIGHT, **_PIKE),
                family='backflip'),
    ActionClass('backflip_layout', (('backflip', 0.0, 1.75),),
                edit=FlightEdit(*BACKFLIP_FLIGHT, hip=0.0, knee=0.0), family='backflip'),
    ActionClass('backflip_full_twist', (('backflip', 0.0, 1.75),),
                edit=FlightEdit(*BACKFLIP_FLIGHT, twist=360.0, hip=0.0, knee=0.0), family='backflip'),
    ActionClass('spin_plain', (('spin', 0.8, 2.8),), edit=FlightEdit(*SPIN_FLIGHT), family='spin'),
    ActionClass('spin_extra_turn', (('spin', 0.8, 2.8),), edit=FlightEdit(*SPIN_FLIGHT, turn=360.0),
                family='spin'),
    ActionClass('spin_two_extra_turns', (('spin', 0.8, 2.8),), edit=FlightEdit(*SPIN_FLIGHT, turn=720.0),
                family='spin'),
    ActionClass('spin_tuck', (('spin', 0.8, 2.8),), edit=FlightEdit(*SPIN_FLIGHT, **_TUCK), family='spin'),
)}
"""Every class: each is a motion (a clip window, and for the fine-grained classes an edit of its airborne part),
never an appearance. New classes are appended: a class's position seeds its instances."""

CLASS_SETS: dict[str, tuple[str, ...]] = {
    'coarse': ('backflip', 'cartwheel', 'spinkick', 'spin', 'kick', 'jump', 'roll', 'getup'),
    'fine': ('jump_straight', 'jump_tuck', 'jump_half_turn', 'jump_full_turn', 'backflip_tuck', 'backflip_pike',
             'backflip_layout', 'backflip_full_twist', 'spin_plain', 'spin_extra_turn', 'spin_two_extra_turns',
             'spin_tuck'),
}
"""The coarse set (eight clips) and the fine-grained set (three families of four that differ only in flight)."""


@dataclass
class MocapSportsSpec:
    """Size and variation of the corpus (see :data:`PRESETS`).

    Args:
        classes (tuple[str, ...]): action classes, from :data:`ACTION_CLASSES`.
        instances_per_class (int): videos per class (one labelled action each).
        width (int): frame width in pixels.
        height (int): frame height in pixels.
        fps (float): frame rate.
        filler_seconds (tuple[float, float]): range of the unlabelled movement before and after the action.
        action_speed (tuple[float, float]): range (log-uniform) of the action's playback speed.
        filler_speed (tuple[float, float]): range (uniform) of the fillers' playback speed.
        jitter (float): clip start/end jitter of the action window, seconds (uniform in +-jitter).
        yaw (tuple[float, float]): camera azimuth range, degrees (all around by default).
        elevation (tuple[float, float]): camera elevation range, degrees.
        distance (tuple[float, float]): camera distance range, metres.
        fov (tuple[float, float]): vertical field-of-view range, degrees.
        shutters (tuple[float, ...]): shutter times in seconds, one drawn per instance.
        mirror_prob (float): probability that an instance is mirrored.
        noise (tuple[float, float]): sensor noise standard deviation range (8-bit levels).
        blur_step_px (float): at most this many pixels of joint motion between two sub-frames.
        max_subframes (int): cap on sub-frames per output frame.
        val_fraction (float): fraction of each class's instances in val (at least 1).
        test_fraction (float): fraction of each class's instances in test (at least 1).
        blend (float): cross-fade between routine segments, seconds.
    """

    classes: tuple[str, ...] = CLASS_SETS['coarse']
    instances_per_class: int = 24
    width: int = 160
    height: int = 160
    fps: float = 25.0
    filler_seconds: tuple[float, float] = (0.5, 1.0)
    action_speed: tuple[float, float] = (0.8, 1.6)
    filler_speed: tuple[float, float] = (0.85, 1.25)
    jitter: float = 0.1
    yaw: tuple[float, float] = (0.0, 360.0)
    elevation: tuple[float, float] = (0.0, 30.0)
    distance: tuple[float, float] = (2.8, 4.5)
    fov: tuple[float, float] = (40.0, 50.0)
    shutters: tuple[float, ...] = (1 / 500, 1 / 100, 1 / 50, 1 / 25)
    mirror_prob: float = 0.5
    noise: tuple[float, float] = (0.0, 3.0)
    blur_step_px: float = 2.0
    max_subframes: int = 12
    val_fraction: float = 1 / 12
    test_fraction: float = 0.25
    blend: float = 0.24

    def validate(self) -> None:
        """Raise ValueError on an impossible setting (unknown class, too few instances, bad ranges)."""
        unknown = sorted(set(self.classes) - set(ACTION_CLASSES))
        if unknown:
            raise ValueError(f'unknown action classes {unknown}; known: {sorted(ACTION_CLASSES)}')
        if len(set(self.classes)) != len(self.classes) or not self.classes:
            raise ValueError(f'classes must be a non-empty list without repeats, got {list(self.classes)}')
        if self.instances_per_class < 3:
            raise ValueError(f'instances_per_class must be >= 3 (train, val and test need one each), '
                             f'got {self.instances_per_class}')
        if self.width < 32 or self.height < 32 or self.width % 2 or self.height % 2:
            raise ValueError(f'frame size must be even and >= 32, got {self.width}x{self.height}')
        if self.fps <= 0:
            raise ValueError(f'fps must be > 0, got {self.fps}')
        if not self.shutters or min(self.shutters) <= 0 or max(self.shutters) > 1 / self.fps + 1e-9:
            raise ValueError(f'shutter times must be in (0, 1/fps], got {self.shutters}')
        for name in ('filler_seconds', 'action_speed', 'filler_speed', 'elevation', 'distance', 'fov'):
            lo, hi = getattr(self, name)
            if lo > hi or lo < 0:
                raise ValueError(f'{name}: expected 0 <= low <= high, got {(lo, hi)}')
        if self.action_speed[0] <= 0 or self.filler_speed[0] <= 0:
            raise ValueError('playback speeds must be > 0')

    def split_counts(self) -> tuple[int, int, int]:
        """(train, val, test) instances per class."""
        n = self.instances_per_class
        val = max(1, int(round(n * self.val_fraction)))
        test = max(1, int(round(n * self.test_fraction)))
        if val + test >= n:
            raise ValueError(f'{n} instances per class leave no training instance '
                             f'(val {val}, test {test}); raise instances_per_class')
        return n - val - test, val, test

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (tuples as lists)."""
        return json.loads(json.dumps(asdict(self)))

    @staticmethod
    def from_json(raw: dict[str, Any]) -> 'MocapSportsSpec':
        """Inverse of :meth:`to_json`."""
        names = {f.name for f in fields(MocapSportsSpec)}
        return MocapSportsSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in names})


PRESETS: dict[str, MocapSportsSpec] = {
    # 8 classes x 24 instances (16 train, 2 val, 6 test per class); 15,605 frames of 160x160 at 25 fps (seed 0)
    'default': MocapSportsSpec(),
    # for tests: 3 classes x 3 instances (one per split), short fillers, 128x128
    'tiny': MocapSportsSpec(classes=('jump', 'kick', 'spinkick'), instances_per_class=3, width=128,
                            height=128, filler_seconds=(0.2, 0.3), action_speed=(1.2, 1.6)),
}
"""Named specs for ``tools/data/make_mocap_sports.py --preset``."""


# ------------------------------------------------------------------------------------------------ planning
@dataclass
class Instance:
    """Everything that defines one video (JSON-able; stored in ``annotations/instances.json``).

    Args:
        video_id (str): e.g. ``'ms_0042'`` (ids do not reveal the class).
        label (str): the action class.
        index (int): instance number within its class.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        seed (list[int]): entropy of the instance's own random generator (appearance, background, noise).
        segments (list[dict]): :class:`~vpd_mm.mocap_sports.motion.Segment` fields of the routine's pieces.
        action_segment (int): index of the labelled segment.
        mirror (bool): mirrored routine.
        camera (dict): yaw, elevation (degrees), distance (m), fov (degrees).
        shutter (float): shutter time, seconds.
        num_frames (int): frames of the video.
        action (tuple[int, int]): labelled frames ``[start, end)``.
    """

    video_id: str
    label: str
    index: int
    split: str
    seed: list[int]
    segments: list[dict]
    action_segment: int
    mirror: bool
    camera: dict
    shutter: float
    num_frames: int
    action: tuple[int, int]


def _clip_lengths() -> dict[str, float]:
    from ..mocap.deepmimic import deepmimic_clip_paths, read_deepmimic_motion
    return {name: read_deepmimic_motion(path).duration for name, path in deepmimic_clip_paths().items()}


def _filler(rng: np.random.Generator, choices: Sequence[str], seconds: float, spec: MocapSportsSpec,
            lengths: dict[str, float]) -> Segment:
    clip = str(rng.choice(list(choices)))
    speed = float(rng.uniform(*spec.filler_speed))
    start = float(rng.uniform(0, lengths[clip]))
    return Segment(clip, start, seconds * speed, speed)


def plan_instances(spec: MocapSportsSpec, seed: int = 0) -> list[Instance]:
    """Draw every instance of the corpus (no rendering).

    Instance ``(class c, index i)`` uses its own generator seeded with ``(seed, c, i)`` (``c`` the class's
    position in :data:`ACTION_CLASSES`), so instances do not depend on each other, on the number of instances
    or on which other classes are chosen. Splits: per class, a seeded permutation of the
    indices gives ``test`` first, then ``val``, then ``train`` (:meth:`MocapSportsSpec.split_counts`). Video ids
    ``ms_0000 ...`` follow a seeded permutation of all instances, so an id says nothing about the class.

    Returns:
        list[Instance]: sorted by video id.
    """
    spec.validate()
    _, n_val, n_test = spec.split_counts()
    lengths = _clip_lengths()
    n = spec.instances_per_class
    total = n * len(spec.classes)
    ids = np.random.default_rng([seed, 9999]).permutation(total)
    instances = []
    for position, name in enumerate(spec.classes):
        cls = ACTION_CLASSES[name]
        c = list(ACTION_CLASSES).index(name)
        order = np.random.default_rng([seed, 7777, c]).permutation(n)
        split_of = {int(i): ('test' if r < n_test else 'val' if r < n_test + n_val else 'train')
                    for r, i in enumerate(order)}
        for i in range(n):
            rng = np.random.default_rng([seed, c, i])
            clip, lo, hi = cls.clips[int(rng.integers(len(cls.clips)))]
            start = max(0.0, lo + float(rng.uniform(-spec.jitter, spec.jitter)))
            end = min(lengths[clip], hi + float(rng.uniform(-spec.jitter, spec.jitter)))
            speed = float(np.exp(rng.uniform(np.log(spec.action_speed[0]), np.log(spec.action_speed[1]))))
            pre = _filler(rng, cls.pre, float(rng.uniform(*spec.filler_seconds)), spec, lengths)
            action = Segment(clip, start, end - start, speed, label=name,
                             edit=asdict(cls.edit) if cls.edit is not None else None)
            post = _filler(rng, cls.post, float(rng.uniform(*spec.filler_seconds)), spec, lengths)
            segments = [pre, action, post]
            bounds = np.concatenate([[0.0], np.cumsum([s.length / s.speed for s in segments])])
            num_frames = int(math.floor(bounds[-1] * spec.fps))
            a_start = int(math.ceil(bounds[1] * spec.fps - 1e-9))
            a_end = min(int(math.ceil(bounds[2] * spec.fps - 1e-9)), num_frames)
            camera = dict(yaw=float(rng.uniform(*spec.yaw)), elevation=float(rng.uniform(*spec.elevation)),
                          distance=float(rng.uniform(*spec.distance)), fov=float(rng.uniform(*spec.fov)))
            instances.append(Instance(
                video_id=f'ms_{int(ids[position * n + i]):04d}', label=name, index=i, split=split_of[i],
                seed=[int(seed), c, i, 1], segments=[asdict(s) for s in segments], action_segment=1,
                mirror=bool(rng.random() < spec.mirror_prob), camera=camera,
                shutter=float(spec.shutters[int(rng.integers(len(spec.shutters)))]), num_frames=num_frames,
                action=(a_start, a_end)))
    return sorted(instances, key=lambda inst: inst.video_id)


def vipe_clip_split() -> dict[str, list[str]]:
    """VIPE*'s clips on this benchmark: it trains on the filler clips only; every clip an action class uses is
    held out, so the teacher never sees an action's motion.

    Returns:
        dict: ``train`` (the filler clips) and ``heldout`` (the action classes' clips), sorted within each.
    """
    action_clips = sorted({clip for c in ACTION_CLASSES.values() for clip, _, _ in c.clips})
    return dict(train=list(FILLER_CLIPS), heldout=action_clips)


def read_instances(corpus: Corpus) -> list[Instance]:
    """Read ``annotations/instances.json``."""
    path = corpus.path('annotations', 'instances.json')
    if not osp.isfile(path):
        raise CorpusFormatError(path, 'file', 'does not exist')
    try:
        with open(path) as f:
            raw = json.load(f)
        return [Instance(**{**item, 'action': tuple(item['action'])}) for item in raw]
    except (TypeError, KeyError, json.JSONDecodeError) as error:
        raise CorpusFormatError(path, 'instances', f'not a list of instance records ({error})') from None
