"""CPU rendering of the DeepMimic humanoid with pybullet's TinyRenderer, composited onto a moving background.

The athlete is pybullet's ``humanoid/humanoid.urdf`` (loaded as DeepMimic does: ``globalScaling=0.25``, fixed
base, link order kept) with thickened limbs and boxes for chest and pelvis (:func:`thick_humanoid_urdf`),
coloured clothes and skin and a textured face (:class:`Appearance`). Only the figure is rendered by pybullet
(about 1 ms per 160x160 image); its segmentation mask composites it onto a background drawn with two
homographies, a textured ground plane and a distant wall (:class:`Background`), plus a soft contact shadow, so
the background moves with the camera exactly as a 3D scene would. Motion blur is the mean of sub-frame
renders over the shutter interval (:meth:`Renderer.render_frame`); the camera re-aims for every sub-frame,
like a panning operator.

Conventions: world Y up; the character faces +x with its right side at +z in the rest pose. Image pixels:
``u`` right, ``v`` down, continuous coordinates with pixel ``(i, j)`` covering ``[i, i+1) x [j, j+1)``.

pybullet is imported inside the functions that need it, so importing this module is cheap.
"""
from __future__ import annotations

import os.path as osp
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..corpus.corpus import atomic_write_bytes
from ..mocap import FACE_OFFSETS, LINK, DeepMimicHumanoid, HumanoidPose, humanoid_urdf_path, import_pybullet
from ..utils.native_output import quiet_native_output

__all__ = ['Camera', 'Appearance', 'Background', 'Renderer', 'thick_humanoid_urdf', 'face_texture', 'project']


def _face_angles() -> list[tuple[float, float]]:
    """(elevation, azimuth) in degrees of the COCO face points 0..4 on the head sphere (azimuth from the front
    +x towards the right +z), from the skeleton definition in :mod:`vpd_mm.mocap.kinematics`."""
    out = []
    for k in range(5):
        x, y, z = FACE_OFFSETS[k] / np.linalg.norm(FACE_OFFSETS[k])
        out.append((float(np.degrees(np.arcsin(y))), float(np.degrees(np.arctan2(z, x)))))
    return out

# Thick body (collision geometry is what TinyRenderer draws; nothing is simulated): radii in URDF units.
_THICK_CAPSULES = {'right_hip': 0.34, 'left_hip': 0.34, 'right_knee': 0.26, 'left_knee': 0.26,
                   'right_shoulder': 0.23, 'left_shoulder': 0.23, 'right_elbow': 0.19, 'left_elbow': 0.19}
_THICK_SPHERES = {'right_wrist': 0.20, 'left_wrist': 0.20}
_THICK_BOXES = {'chest': (0.75, 1.15, 1.25), 'root': (0.7, 0.62, 1.0)}


def thick_humanoid_urdf(folder: str) -> str:
    """Write the thick-bodied humanoid URDF into ``folder`` (atomically) and return its path.

    Only the geometry changes: limb capsules get larger radii (same lengths, so their rounded ends now overlap
    at the knees and elbows instead of leaving gaps), hands grow a little, and the chest and pelvis spheres
    become boxes (sizes from the feasibility study, ``shared/notes/mocap_benchmark.md`` section B). Joint frames are untouched, so poses
    and joint centres are those of the stock humanoid.
    """
    source = humanoid_urdf_path()
    with open(source, 'rb') as f:
        text = f.read()
    end = text.find(b'</robot>')
    if end < 0:
        raise RuntimeError(f'{source}: no </robot> element; is pybullet_data complete?')
    root = ET.fromstring(text[:end + len(b'</robot>')])  # the shipped file has stray bytes after </robot>
    for link in root.iter('link'):
        name = link.get('name')
        geometry = link.find('collision/geometry')
        if geometry is None:
            continue
        if name in _THICK_CAPSULES:
            geometry.find('capsule').set('radius', f'{_THICK_CAPSULES[name]:.6f}')
        elif name in _THICK_SPHERES:
            geometry.find('sphere').set('radius', f'{_THICK_SPHERES[name]:.6f}')
        elif name in _THICK_BOXES:
            for child in list(geometry):
                geometry.remove(child)
            ET.SubElement(geometry, 'box', size=' '.join(f'{v:.6f}' for v in _THICK_BOXES[name]))
    path = osp.join(folder, 'humanoid_thick.urdf')
    data = ET.tostring(root)
    atomic_write_bytes(path, lambda f: f.write(data))
    return path


# ------------------------------------------------------------------------------------------------ camera
@dataclass
class Camera:
    """An orbit camera that follows a target point.

    Args:
        yaw (float): azimuth of the camera around the target, radians (0: camera on the +x side).
        elevation (float): angle above the horizontal, radians.
        distance (float): metres from the target.
        fov (float): vertical field of view, degrees.
        width (int): image width in pixels.
        height (int): image height in pixels.
    """

    yaw: float
    elevation: float
    distance: float
    fov: float = 45.0
    width: int = 160
    height: int = 160

    def offset(self) -> np.ndarray:
        """(3,) eye minus target."""
        ce = np.cos(self.elevation)
        return self.distance * np.array([ce * np.cos(self.yaw), np.sin(self.elevation), ce * np.sin(self.yaw)])

    def matrix(self, target: np.ndarray) -> np.ndarray:
        """(3, 4) matrix mapping homogeneous world points to homogeneous pixels ``(u*w, v*w, w)``.

        Built from pybullet's own view and projection matrices (column-major lists), the ones the renderer
        uses, so projected joints land on rendered pixels.
        """
        view, proj = self.gl_matrices(target)
        vm = np.asarray(view, dtype=np.float64).reshape(4, 4).T
        pm = np.asarray(proj, dtype=np.float64).reshape(4, 4).T
        clip = pm @ vm
        to_pixels = np.array([[self.width / 2, 0, self.width / 2],
                              [0, -self.height / 2, self.height / 2],
                              [0, 0, 1.0]])
        return to_pixels @ clip[[0, 1, 3]]

    def gl_matrices(self, target: np.ndarray) -> tuple[list[float], list[float]]:
        """pybullet ``(view, projection)`` matrices for the camera aimed at ``target``."""
        import pybullet as p
        target = np.asarray(target, dtype=np.float64)
        eye = target + self.offset()
        view = p.computeViewMatrix(eye.tolist(), target.tolist(), [0, 1, 0])
        proj = p.computeProjectionMatrixFOV(self.fov, self.width / self.height, 0.05, 60.0)
        return view, proj

    @property
    def focal(self) -> float:
        """Focal length in pixels (vertical)."""
        return self.height / 2 / np.tan(np.radians(self.fov) / 2)


def project(matrix: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project (..., 3) world points with a (3, 4) :meth:`Camera.matrix`.

    Returns:
        tuple[np.ndarray, np.ndarray]: (..., 2) pixel coordinates ``(u, v)`` and (...,) depths ``w`` (the
        distance along the viewing axis, positive in front of the camera).
    """
    points = np.asarray(points, dtype=np.float64)
    homog = np.concatenate([points, np.ones(points.shape[:-1] + (1,))], axis=-1) @ matrix.T
    depth = homog[..., 2]
    return homog[..., :2] / depth[..., None], depth


# ------------------------------------------------------------------------------------------------ appearance
@dataclass
class Appearance:
    """Colours of one athlete (RGB in [0, 1]) and the face texture's hair colour.

    Args:
        skin, shirt, shorts, shoes, hair (tuple[float, float, float]): colours.
        long_sleeves (bool): forearms in the shirt colour instead of skin.
        long_pants (bool): shanks in the shorts colour instead of skin.
    """

    skin: tuple[float, float, float]
    shirt: tuple[float, float, float]
    shorts: tuple[float, float, float]
    shoes: tuple[float, float, float]
    hair: tuple[float, float, float]
    long_sleeves: bool = False
    long_pants: bool = False

    @staticmethod
    def sample(rng: np.random.Generator) -> 'Appearance':
        """A random athlete: skin tone, clothes in saturated or dark colours, shoes, hair."""
        skins = ((0.96, 0.80, 0.69), (0.87, 0.67, 0.52), (0.72, 0.52, 0.38), (0.55, 0.37, 0.25),
                 (0.38, 0.25, 0.17))
        skin = np.array(skins[rng.integers(len(skins))]) * rng.uniform(0.92, 1.05)

        def cloth() -> tuple[float, float, float]:
            import colorsys
            if rng.random() < 0.25:  # black, white or grey garments
                g = float(rng.choice([0.12, 0.5, 0.92]))
                return (g, g, g)
            return colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.5, 1.0), rng.uniform(0.35, 0.95))

        hair = np.array([0.08, 0.06, 0.05]) if rng.random() < 0.6 else np.array([0.45, 0.3, 0.15]) * \
            rng.uniform(0.6, 1.6)
        return Appearance(tuple(np.clip(skin, 0, 1)), cloth(), cloth(), cloth(), tuple(np.clip(hair, 0, 1)),
                          bool(rng.random() < 0.3), bool(rng.random() < 0.35))

    def link_colours(self) -> dict[int, tuple[float, float, float]]:
        """Colour of every link (the head gets white: its face texture carries the colour)."""
        lower_arm = self.shirt if self.long_sleeves else self.skin
        shank = self.shorts if self.long_pants else self.skin
        colours = {LINK['root']: self.shorts, LINK['chest']: self.shirt, LINK['neck']: (1.0, 1.0, 1.0)}
        for side in ('left', 'right'):
            colours[LINK[f'{side}_hip']] = self.shorts
            colours[LINK[f'{side}_knee']] = shank
            colours[LINK[f'{side}_ankle']] = self.shoes
            colours[LINK[f'{side}_shoulder']] = self.shirt
            colours[LINK[f'{side}_elbow']] = lower_arm
            colours[LINK[f'{side}_wrist']] = self.skin
        return colours


def face_texture(skin: tuple[float, float, float], hair: tuple[float, float, float], size: int = 256) -> np.ndarray:
    """A face texture for the head sphere: (size, size, 3) uint8 RGB.

    TinyRenderer maps the sphere with ``u = 0.75`` at the front (+x), 0.5 at the right ear (+z), 0.25 at the
    back, ``v = 0`` at the top. Eyes, nose and ears sit where the skeleton puts the COCO face keypoints
    (:data:`vpd_mm.mocap.FACE_OFFSETS`); brows and mouth around them; hair covers the top and the back.
    """
    def uv(elevation: float, azimuth: float) -> tuple[int, int]:
        u = (0.75 - azimuth / 360.0) % 1.0
        v = (90.0 - elevation) / 180.0
        return int(round(u * size)), int(round(v * size))

    img = np.empty((size, size, 3), np.float32)
    img[:] = np.array(skin) * 255
    s = size / 256
    # Hair: the crown (top 30 %) and the back of the head down to the neck.
    hair_rgb = tuple(float(c) * 255 for c in hair)
    cv2.rectangle(img, (0, 0), (size, int(0.30 * size)), hair_rgb, -1)
    back_l, _ = uv(0, 150)
    back_r, _ = uv(0, -150)
    cv2.rectangle(img, (min(back_l, back_r), 0), (max(back_l, back_r), int(0.62 * size)), hair_rgb, -1)
    face = _face_angles()
    for elev, azim in face[1:3]:  # eyes and brows
        cx, cy = uv(elev, azim)
        cv2.ellipse(img, (cx, cy), (int(9 * s), int(6 * s)), 0, 0, 360, (250, 250, 250), -1)
        cv2.circle(img, (cx, cy), int(4 * s), (40, 30, 25), -1)
        cv2.line(img, (cx - int(10 * s), cy - int(12 * s)), (cx + int(10 * s), cy - int(12 * s)), hair_rgb,
                 max(1, int(4 * s)))
    nx, ny = uv(*face[0])
    darker = tuple(float(c) * 200 for c in skin)
    cv2.line(img, (nx, ny - int(14 * s)), (nx, ny), darker, max(1, int(4 * s)))
    cv2.ellipse(img, (nx, ny), (int(6 * s), int(3 * s)), 0, 0, 360, darker, -1)
    mx, my = uv(face[0][0] - 22, 0)
    cv2.ellipse(img, (mx, my), (int(14 * s), int(4 * s)), 0, 0, 360, (150, 60, 60), -1)
    for elev, azim in face[3:5]:  # ears
        ex, ey = uv(elev, azim)
        cv2.ellipse(img, (ex, ey), (int(6 * s), int(12 * s)), 0, 0, 360, darker, -1)
    return np.clip(img, 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------------ background
def _periodic_noise(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Tileable smooth noise in [-1, 1]: white noise low-passed in the Fourier domain (periodic by design)."""
    noise = rng.standard_normal(shape)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.fftfreq(shape[1])[None, :]
    filt = np.exp(-(fx ** 2 + fy ** 2) * (scale ** 2))
    out = np.real(np.fft.ifft2(np.fft.fft2(noise) * filt))
    return out / (np.abs(out).max() + 1e-9)


def _ground_texture(rng: np.random.Generator, size: int = 512) -> tuple[np.ndarray, float]:
    """A tileable ground texture (size, size, 3) uint8 RGB and its metres per texel."""
    kind = rng.choice(['grass', 'court', 'wood', 'mat', 'track', 'sand'])
    fine = _periodic_noise(rng, (size, size), 2.0)
    coarse = _periodic_noise(rng, (size, size), 40.0)
    yy, xx = np.mgrid[0:size, 0:size]
    if kind == 'grass':
        base = np.array([0.25, 0.50, 0.18]) * rng.uniform(0.8, 1.2)
        stripes = 0.08 * np.sign(np.sin(2 * np.pi * xx / (size / 8)))
        img = base * (1 + 0.25 * fine[..., None] + 0.2 * coarse[..., None] + stripes[..., None])
    elif kind == 'court':
        base = np.array(rng.choice([[0.25, 0.35, 0.6], [0.6, 0.35, 0.25], [0.3, 0.55, 0.35]]))
        img = base * (1 + 0.06 * fine[..., None] + 0.05 * coarse[..., None])
        line = (np.abs((xx % (size // 2)) - size // 4) < 2) | (np.abs((yy % (size // 2)) - 40) < 2)
        img[line] = 0.92
    elif kind == 'wood':
        base = np.array([0.72, 0.52, 0.32]) * rng.uniform(0.8, 1.15)
        plank = (yy // 24) % 7
        grain = _periodic_noise(rng, (size, size), 1.0) * 0.5 + np.sin(xx / 9.0 + plank * 1.7) * 0.5
        img = base * (1 + 0.08 * grain[..., None] + 0.05 * plank[..., None] / 7)
        img[(yy % 24) == 0] *= 0.6
    elif kind == 'mat':
        base = np.array(rng.choice([[0.2, 0.3, 0.7], [0.75, 0.2, 0.2], [0.2, 0.2, 0.25]]))
        img = base * (1 + 0.05 * fine[..., None])[..., :] * np.ones(3)
        img[(xx % 128 < 2) | (yy % 128 < 2)] *= 0.55
    elif kind == 'track':
        base = np.array([0.65, 0.28, 0.2]) * rng.uniform(0.85, 1.15)
        img = base * (1 + 0.15 * fine[..., None] + 0.05 * coarse[..., None])
        img[(np.abs(yy % 96 - 48) < 2)] = 0.95
    else:
        base = np.array([0.82, 0.72, 0.52]) * rng.uniform(0.85, 1.1)
        img = base * (1 + 0.12 * fine[..., None] + 0.12 * coarse[..., None])
    metres_per_texel = float(rng.uniform(0.02, 0.04))
    return (np.clip(img, 0, 1) * 255).astype(np.uint8), metres_per_texel


def _wall_texture(rng: np.random.Generator, width: int = 1024, height: int = 192) -> np.ndarray:
    """A wide backdrop: crowd stands, advertising boards or trees under a sky."""
    kind = rng.choice(['crowd', 'boards', 'trees'])
    img = np.empty((height, width, 3), np.float64)
    yy, xx = np.mgrid[0:height, 0:width]
    if kind == 'crowd':
        img[:] = rng.uniform(0.15, 0.45, size=3)
        dots = rng.uniform(0, 1, size=(height // 4, width // 4, 3))
        dots = cv2.resize(dots, (width, height), interpolation=cv2.INTER_NEAREST)
        img = 0.5 * img + 0.5 * dots * (yy[..., None] < 0.75 * height)
        img[int(0.75 * height):] = rng.uniform(0.2, 0.6, size=3)
    elif kind == 'boards':
        img[:] = rng.uniform(0.5, 0.85, size=3)
        board_h = int(0.3 * height)
        for x0 in range(0, width, 64):
            colour = rng.uniform(0, 1, size=3)
            img[height - board_h:, x0:x0 + 62] = colour
            y0 = height - board_h + board_h // 3
            img[y0:y0 + board_h // 3, x0 + 8:x0 + 8 + int(rng.integers(16, 48))] = 1 - colour  # a logo
    else:
        sky = np.array([0.55, 0.7, 0.9]) * rng.uniform(0.8, 1.1)
        img[:] = sky
        canopy = _periodic_noise(rng, (height, width), 6.0)
        tree_line = 0.45 * height + 0.15 * height * canopy[0]
        trees = yy > tree_line[None, :]
        img[trees] = (np.array([0.15, 0.35, 0.12]) * (1 + 0.3 * canopy[..., None]))[trees]
    img = img * (1 + 0.05 * _periodic_noise(rng, (height, width), 1.5)[..., None])
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


@dataclass
class Background:
    """A textured ground plane (``y = 0``) and a distant vertical wall facing the camera, drawn by homography.

    Args:
        ground (np.ndarray): (Hg, Wg, 3) uint8 RGB tileable ground texture.
        ground_scale (float): metres per ground texel.
        wall (np.ndarray): (Hw, Ww, 3) uint8 RGB wall texture, centred on the view axis (its edge rows and
            columns extend beyond it).
        wall_height (float): metres covered by the wall texture's height.
        wall_distance (float): metres from ``origin`` to the wall, along the camera's horizontal view direction.
        origin (np.ndarray): (3,) point the wall distance is measured from (the routine's start).
        brightness (float): global gain applied to the background.
    """

    ground: np.ndarray
    ground_scale: float
    wall: np.ndarray
    wall_height: float
    wall_distance: float
    origin: np.ndarray = field(default_factory=lambda: np.zeros(3))
    brightness: float = 1.0

    @staticmethod
    def sample(rng: np.random.Generator, origin: np.ndarray) -> 'Background':
        """A random ground and wall, 10 to 16 m away and 8 to 12 m high."""
        ground, scale = _ground_texture(rng)
        wall = _wall_texture(rng)
        return Background(ground, scale, wall, float(rng.uniform(8.0, 12.0)), float(rng.uniform(10.0, 16.0)),
                          np.asarray(origin, dtype=np.float64), float(rng.uniform(0.8, 1.15)))

    def draw(self, camera: Camera, matrix: np.ndarray) -> np.ndarray:
        """The background seen by ``camera`` with its :meth:`Camera.matrix` ``matrix``: (H, W, 3) float32 RGB."""
        w, h = camera.width, camera.height
        # Ground: texel (i, j) -> world (x0 + i*s, 0, z0 + j*s) -> pixels.
        s = self.ground_scale
        ground_h = matrix[:, [0, 2, 3]] @ np.array([[s, 0, 0], [0, s, 0], [0, 0, 1.0]])
        image = cv2.warpPerspective(self.ground, ground_h, (w, h), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_WRAP).astype(np.float32)
        # Wall: plane through origin + D*d (d: horizontal view direction), spanned by the camera's horizontal
        # right vector e and the vertical; texel (i, j) -> origin + D*d + ((i - Ww/2)*sw)*e + (H_wall - j*sw)*up.
        d = -camera.offset()
        d[1] = 0.0
        d /= np.linalg.norm(d)
        e = np.array([-d[2], 0.0, d[0]])
        base = self.origin * np.array([1.0, 0.0, 1.0]) + self.wall_distance * d
        sw = self.wall_height / self.wall.shape[0]
        half = self.wall.shape[1] / 2 * sw
        to_world = np.array([[e[0] * sw, 0, base[0] - half * e[0]], [0, -sw, self.wall_height],
                             [e[2] * sw, 0, base[2] - half * e[2]], [0, 0, 1.0]])
        wall = cv2.warpPerspective(self.wall, matrix @ to_world, (w, h), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        base_uv, _ = project(matrix, base)
        row = int(np.clip(np.ceil(base_uv[1]), 0, h))
        image[:row] = wall[:row]
        return image * self.brightness


def _shadow_mask(matrix: np.ndarray, centre: np.ndarray, radius: float, width: int, height: int) -> np.ndarray:
    """A soft elliptical shadow on the ground around ``centre`` (x, z): (H, W) float32 in [0, 1]."""
    angles = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    ring = np.stack([centre[0] + radius * np.cos(angles), np.zeros_like(angles),
                     centre[1] + radius * np.sin(angles)], axis=1)
    uv, depth = project(matrix, ring)
    mask = np.zeros((height, width), np.float32)
    if (depth > 0).all():
        cv2.fillConvexPoly(mask, np.round(uv * 4).astype(np.int32), 1.0, lineType=cv2.LINE_AA, shift=2)
        mask = cv2.GaussianBlur(mask, (0, 0), sigmaX=max(1.0, width / 100))
    return mask


# ------------------------------------------------------------------------------------------------ renderer
class Renderer:
    """One pybullet DIRECT client holding the thick humanoid; poses it, computes joints and renders.

    Posing and joints are those of :class:`vpd_mm.mocap.DeepMimicHumanoid` (the skeleton of VIPE*'s training
    data). Files it needs (the URDF, face textures) are written to temporary folders removed right after pybullet
    has loaded them.

    Example:
        >>> r = Renderer()
        >>> r.set_appearance(Appearance.sample(np.random.default_rng(0)))
        >>> r.set_pose(clip_pose(clip, 0.5)); joints = r.keypoints3d()
    """

    def __init__(self) -> None:
        self._p = import_pybullet()
        with tempfile.TemporaryDirectory(prefix='vpd_render_') as folder:
            self.humanoid = DeepMimicHumanoid(urdf=thick_humanoid_urdf(folder))
        self.client = self.humanoid.client
        self.body = self.humanoid.body
        self.light = dict(lightDirection=[1.0, 2.0, 1.0], lightAmbientCoeff=0.55, lightDiffuseCoeff=0.55,
                          lightSpecularCoeff=0.05)

    def close(self) -> None:
        """Disconnect the pybullet client."""
        if self.client is not None:
            self.humanoid.close()
            self.client = None

    def __enter__(self) -> 'Renderer':
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # appearance ----------------------------------------------------------------------------------------
    def set_appearance(self, appearance: Appearance, light_direction: np.ndarray | None = None) -> None:
        """Colour the links, put a face texture on the head, and optionally move the light."""
        p = self._p
        for link, colour in appearance.link_colours().items():
            p.changeVisualShape(self.body, link, rgbaColor=[*colour, 1.0], physicsClientId=self.client)
        texture = face_texture(appearance.skin, appearance.hair)
        ok, encoded = cv2.imencode('.png', cv2.cvtColor(texture, cv2.COLOR_RGB2BGR))
        if not ok:
            raise RuntimeError('cannot encode the face texture')
        with tempfile.TemporaryDirectory(prefix='vpd_face_') as folder:
            path = osp.join(folder, 'face.png')
            atomic_write_bytes(path, lambda f: f.write(encoded.tobytes()))
            with quiet_native_output():
                tex = p.loadTexture(path, physicsClientId=self.client)
        if tex < 0:
            raise RuntimeError('pybullet could not load the face texture')
        p.changeVisualShape(self.body, LINK['neck'], textureUniqueId=tex, physicsClientId=self.client)
        if light_direction is not None:
            self.light['lightDirection'] = [float(v) for v in light_direction]

    # pose and joints -----------------------------------------------------------------------------------
    def set_pose(self, pose: HumanoidPose) -> None:
        """Pose the humanoid (root and every joint)."""
        self.humanoid.set_pose(pose)

    def keypoints3d(self) -> np.ndarray:
        """(17, 3) COCO-17 joints of the current pose in world metres (:meth:`vpd_mm.mocap.DeepMimicHumanoid.coco17`).

        The face points lie on the head sphere where the face texture draws them. The thick body changes only
        geometry, not joint frames, so these are the joints of the stock humanoid (VIPE*'s training data).
        """
        return self.humanoid.coco17()

    # rendering -----------------------------------------------------------------------------------------
    def render_figure(self, camera: Camera, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Render only the figure: (H, W, 3) uint8 RGB and (H, W) bool mask of its pixels."""
        p = self._p
        view, proj = camera.gl_matrices(target)
        _, _, rgba, _, seg = p.getCameraImage(camera.width, camera.height, view, proj,
                                              renderer=p.ER_TINY_RENDERER, shadow=0,
                                              physicsClientId=self.client, **self.light)
        rgba = np.asarray(rgba, dtype=np.uint8).reshape(camera.height, camera.width, 4)
        seg = np.asarray(seg).reshape(camera.height, camera.width)
        return rgba[..., :3], seg == self.body

    def render_composite(self, pose: HumanoidPose, camera: Camera, target: np.ndarray, background: Background,
                         backdrop: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Pose, render and composite one instant: (H, W, 3) float32 RGB image and (H, W) bool figure mask.

        Args:
            pose (HumanoidPose): the athlete's pose.
            camera (Camera): the camera.
            target (np.ndarray): (3,) the camera's aim point.
            background (Background): ground and wall.
            backdrop (np.ndarray, optional): (H, W, 3) float32 background already drawn for this camera (with
                the shadow); drawn here when None.
        """
        self.set_pose(pose)
        rgb, mask = self.render_figure(camera, target)
        image = self.draw_backdrop(pose, camera, target, background) if backdrop is None else backdrop.copy()
        image[mask] = rgb[mask]
        return image, mask

    @staticmethod
    def draw_backdrop(pose: HumanoidPose, camera: Camera, target: np.ndarray,
                      background: Background) -> np.ndarray:
        """Background and the athlete's soft contact shadow: (H, W, 3) float32 RGB."""
        matrix = camera.matrix(target)
        image = background.draw(camera, matrix)
        shadow = _shadow_mask(matrix, pose.root_pos[[0, 2]], 0.38, camera.width, camera.height)
        fade = float(np.exp(-max(0.0, pose.root_pos[1] - 0.9) / 0.4))
        image *= (1.0 - 0.45 * fade * shadow)[..., None]
        return image
