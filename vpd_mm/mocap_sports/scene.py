"""Rendering one routine video of the ``mocap_sports`` corpus: its scene, ground truth and motion-blurred frames.

A :class:`Scene` holds what one instance looks like (routine, camera, athlete colours, background, sensor
noise). :func:`ground_truth_pass` poses the humanoid at every frame time and projects its joints;
:func:`render_exposure` renders one frame as the mean of sub-frame renders spread evenly over the shutter
interval centred on the frame time (a box-filter shutter); :func:`render_instance` does both for a planned
:class:`~vpd_mm.mocap_sports.plan.Instance`.

The camera pans: it aims at the athlete's root trajectory smoothed by a Gaussian (sigma 0.35 s), re-aimed for
every sub-frame, so the background streaks during a pan as with a real panning operator.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..mocap import DeepMimicMotion, read_deepmimic_motion
from .groundtruth import GroundTruth
from .motion import Routine, Segment

if TYPE_CHECKING:  # pragma: no cover
    from .render import Background, Camera, Renderer
    from .plan import Instance, MocapSportsSpec

__all__ = ['Scene', 'build_scene', 'ground_truth_pass', 'render_exposure', 'render_instance', 'exposure_times']

_CLIPS: dict[str, DeepMimicMotion] = {}


def _clips(names: Sequence[str]) -> dict[str, DeepMimicMotion]:
    """Parsed clips, cached per process."""
    for name in names:
        if name not in _CLIPS:
            _CLIPS[name] = read_deepmimic_motion(name)
    return {name: _CLIPS[name] for name in names}


def exposure_times(t: float, shutter: float, n: int) -> list[float]:
    """Times of ``n`` sub-frames spread evenly over the shutter interval ``[t - shutter/2, t + shutter/2]``
    (midpoints of ``n`` equal parts; just ``[t]`` for ``n = 1``)."""
    if n <= 1:
        return [t]
    return [t + shutter * ((k + 0.5) / n - 0.5) for k in range(n)]


@dataclass
class Scene:
    """One instance's scene.

    Args:
        routine (Routine): the performance.
        camera (Camera): intrinsics and orbit position.
        background (Background): ground and backdrop.
        fps (float): frame rate.
        shutter (float): shutter time, seconds.
        noise (float): sensor noise standard deviation (8-bit levels).
        rng (np.random.Generator): the instance's generator (after the scene was drawn; used for noise).
        aim_times (np.ndarray): (K,) times of the camera aim samples.
        aims (np.ndarray): (K, 3) smoothed aim points.
    """

    routine: Routine
    camera: 'Camera'
    background: 'Background'
    fps: float
    shutter: float
    noise: float
    rng: np.random.Generator
    aim_times: np.ndarray
    aims: np.ndarray

    def aim(self, t: float) -> np.ndarray:
        """(3,) the camera's aim point at time ``t`` (linear between the samples)."""
        return np.array([np.interp(t, self.aim_times, self.aims[:, k]) for k in range(3)])


def _camera_aims(routine: Routine, num: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Aim points at frame times ``-1 s .. T/fps + 1 s``: the root trajectory smoothed (sigma 0.35 s), its
    height clipped to [0.35, 1.0] m and lowered 5 cm."""
    from scipy.ndimage import gaussian_filter1d
    margin = int(round(fps))
    times = np.arange(-margin, num + margin) / fps
    roots = np.array([routine.pose_at(t).root_pos for t in times])
    smooth = gaussian_filter1d(roots, sigma=0.35 * fps, axis=0, mode='nearest')
    aims = smooth.copy()
    aims[:, 1] = np.clip(smooth[:, 1], 0.35, 1.0) - 0.05
    return times, aims


def build_scene(instance: 'Instance', spec: 'MocapSportsSpec', renderer: 'Renderer') -> Scene:
    """Draw the instance's scene from its own seed and dress the renderer's athlete.

    Args:
        instance (Instance): a planned instance.
        spec (MocapSportsSpec): the corpus spec.
        renderer (Renderer): its humanoid gets the instance's appearance and light.

    Returns:
        Scene: the scene (deterministic given the instance).
    """
    from .render import Appearance, Background, Camera
    rng = np.random.default_rng(instance.seed)
    segments = [Segment(**s) for s in instance.segments]
    routine = Routine(segments, _clips(sorted({s.clip for s in segments})), blend=spec.blend,
                      mirror=instance.mirror)
    cam = instance.camera
    camera = Camera(np.radians(cam['yaw']), np.radians(cam['elevation']), cam['distance'], cam['fov'],
                    spec.width, spec.height)
    light = np.array([rng.uniform(-1, 1), rng.uniform(0.8, 2.0), rng.uniform(-1, 1)])
    renderer.set_appearance(Appearance.sample(rng), light_direction=light)
    background = Background.sample(rng, routine.pose_at(0.0).root_pos)
    noise = float(rng.uniform(*spec.noise))
    aim_times, aims = _camera_aims(routine, instance.num_frames, spec.fps)
    return Scene(routine, camera, background, spec.fps, instance.shutter, noise, rng, aim_times, aims)


def ground_truth_pass(scene: Scene, renderer: 'Renderer', num: int, blur_step_px: float,
                      max_subframes: int) -> tuple[GroundTruth, np.ndarray]:
    """Joints, torso scale, speeds, blur extents and sub-frame counts of frames ``0 .. num-1``.

    Joints are taken at the frame times ``f / fps`` (the middle of the exposure). Speeds are central
    differences of the projected joints (frames ``-1`` and ``num`` are posed too), in pixels per frame with
    the camera's own motion included; the streak of a joint during the exposure is its speed times the
    exposure in frames (``shutter * fps``). A frame gets ``ceil(streak / blur_step_px)`` sub-frames (at most
    ``max_subframes``), the streak being the largest of the body joints' and of the ground under the athlete
    (the background moves with the panning camera). Track boxes are left to :func:`render_instance`.

    Returns:
        tuple[GroundTruth, np.ndarray]: the ground truth, and (num,) the image speed of the ground point under
        the camera's aim, pixels per frame.
    """
    from .render import project
    camera, fps = scene.camera, scene.fps
    gt = GroundTruth.empty(num)
    uv_all = np.empty((num + 2, 17, 2))
    ground_uv = np.empty((num + 2, 2))
    for f in range(-1, num + 1):
        t = f / fps
        renderer.set_pose(scene.routine.pose_at(t))
        joints = renderer.keypoints3d()
        target = scene.aim(t)
        matrix = camera.matrix(target)
        uv, depth = project(matrix, joints)
        uv_all[f + 1] = uv
        ground_uv[f + 1] = project(matrix, target * np.array([1.0, 0.0, 1.0]))[0]
        if 0 <= f < num:
            mid_sh, mid_hip = joints[5:7].mean(0), joints[11:13].mean(0)
            _, mid_depth = project(matrix, (mid_sh + mid_hip) / 2)
            torso = camera.focal * float(np.linalg.norm(mid_sh - mid_hip)) / max(float(mid_depth), 1e-6)
            gt.set_frame(f, uv, depth, joints, torso, np.zeros(17), 0.0, 1, matrix, np.zeros(4))
    speed_px = np.linalg.norm(uv_all[2:] - uv_all[:-2], axis=-1) / 2
    ground_px = np.linalg.norm(ground_uv[2:] - ground_uv[:-2], axis=-1) / 2
    exposure = scene.shutter * fps
    body_px = speed_px[:, 5:].max(axis=1)
    gt.speed[:] = speed_px / gt.torso[:, None]
    gt.blur[:] = body_px * exposure / gt.torso
    streak_px = np.maximum(body_px, ground_px) * exposure
    gt.subframes[:] = np.clip(np.ceil(streak_px / blur_step_px), 1, max_subframes).astype(np.int32)
    return gt, ground_px


def render_exposure(scene: Scene, renderer: 'Renderer', t: float, n: int,
                    shared_backdrop: bool) -> tuple[np.ndarray, np.ndarray]:
    """One frame: the mean of ``n`` sub-frame renders over the shutter around ``t``.

    Args:
        scene (Scene): the scene.
        renderer (Renderer): the dressed humanoid.
        t (float): frame time (the middle of the exposure).
        n (int): sub-frames.
        shared_backdrop (bool): draw the background once, at ``t``, for every sub-frame (used when it moves
            less than a blur step during the exposure); otherwise each sub-frame draws its own.

    Returns:
        tuple[np.ndarray, np.ndarray]: (H, W, 3) float32 mean image (no noise, not rounded) and (H, W) bool
        union of the figure masks.
    """
    backdrop = None
    if shared_backdrop:
        backdrop = renderer.draw_backdrop(scene.routine.pose_at(t), scene.camera, scene.aim(t), scene.background)
    acc = np.zeros((scene.camera.height, scene.camera.width, 3), np.float32)
    mask_any = np.zeros((scene.camera.height, scene.camera.width), bool)
    times = exposure_times(t, scene.shutter, n)
    for ts in times:
        image, mask = renderer.render_composite(scene.routine.pose_at(ts), scene.camera, scene.aim(ts),
                                                scene.background, backdrop)
        acc += image
        mask_any |= mask
    return acc / len(times), mask_any


def render_instance(instance: 'Instance', spec: 'MocapSportsSpec',
                    renderer: 'Renderer') -> tuple[np.ndarray, GroundTruth]:
    """Render one routine video and its ground truth.

    Args:
        instance (Instance): from :func:`~vpd_mm.mocap_sports.plan.plan_instances`.
        spec (MocapSportsSpec): the corpus spec (size, fps, blur settings).
        renderer (Renderer): a :class:`~vpd_mm.mocap_sports.render.Renderer` (one pybullet client).

    Returns:
        tuple[np.ndarray, GroundTruth]: frames (T, H, W, 3) uint8 RGB (mean of the sub-frames plus sensor
        noise, rounded), and the ground truth of every frame (joints at the middle of the exposure; boxes around
        the joints and the figure's pixels over the exposure, padded 3 px, clipped to the image).
    """
    scene = build_scene(instance, spec, renderer)
    num = instance.num_frames
    gt, ground_px = ground_truth_pass(scene, renderer, num, spec.blur_step_px, spec.max_subframes)
    exposure = scene.shutter * scene.fps
    frames = np.empty((num, spec.height, spec.width, 3), np.uint8)
    for f in range(num):
        image, mask = render_exposure(scene, renderer, f / scene.fps, int(gt.subframes[f]),
                                      shared_backdrop=bool(ground_px[f] * exposure < spec.blur_step_px))
        if scene.noise > 0:
            image += scene.rng.normal(0.0, scene.noise, size=image.shape).astype(np.float32)
        frames[f] = np.clip(np.round(image), 0, 255).astype(np.uint8)
        gt.boxes[f] = _box(gt.keypoints[f], mask, spec.width, spec.height)
    return frames, gt


def _box(uv: np.ndarray, mask: np.ndarray, width: int, height: int, pad: float = 3.0) -> np.ndarray:
    """[x, y, w, h] around the joints and the figure's pixels, padded, clipped to the image (at least 1x1)."""
    lo = uv.min(axis=0)
    hi = uv.max(axis=0)
    ys, xs = np.nonzero(mask)
    if len(xs):
        lo = np.minimum(lo, [xs.min(), ys.min()])
        hi = np.maximum(hi, [xs.max() + 1, ys.max() + 1])
    lo = np.clip(lo - pad, 0, [width - 1, height - 1])
    hi = np.clip(hi + pad, lo + 1, [width, height])
    return np.array([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]], np.float32)
