"""The renderer: thick humanoid, projection onto rendered pixels, motion blur as the mean of sub-frames."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from vpd_mm.mocap import read_deepmimic_motion
from vpd_mm.mocap_sports.motion import clip_pose
from vpd_mm.mocap_sports.render import Appearance, Background, Camera, project, thick_humanoid_urdf


def test_thick_urdf_changes_only_geometry(tmp_path):
    root = ET.parse(thick_humanoid_urdf(str(tmp_path))).getroot()
    links = {link.get('name'): link for link in root.iter('link')}
    thigh = links['right_hip'].find('collision/geometry/capsule')
    assert float(thigh.get('radius')) == pytest.approx(0.34)
    assert float(thigh.get('length')) == pytest.approx(1.2)
    assert links['chest'].find('collision/geometry/box') is not None
    assert links['chest'].find('collision/geometry/sphere') is None
    joints = {j.get('name'): j.find('origin').get('xyz') for j in root.iter('joint')}
    assert joints['left_shoulder'] == '-0.096200 0.974000 -0.732440'  # joint frames untouched


def test_projection_matches_a_pinhole_by_hand():
    cam = Camera(yaw=0.0, elevation=0.0, distance=3.0, fov=90.0, width=100, height=100)
    target = np.array([0.0, 1.0, 0.0])  # camera at (3, 1, 0) looking along -x; image right is -z
    matrix = cam.matrix(target)
    uv, depth = project(matrix, np.array([[0.0, 1.0, 0.0], [0.0, 1.0, -1.5], [0.0, 2.5, 0.0]]))
    assert cam.focal == pytest.approx(50.0)
    np.testing.assert_allclose(depth, [3.0, 3.0, 3.0], atol=1e-6)
    # f = 50 px: 1.5 m at 3 m depth is 25 px right of / above the centre (50, 50)
    np.testing.assert_allclose(uv, [[50, 50], [75, 50], [50, 25]], atol=1e-4)


@pytest.mark.parametrize('yaw', [0.0, 2.0, 4.0])
def test_joints_project_onto_the_rendered_body(renderer, yaw):
    """In a sharp frame every projected body joint lies on a figure pixel; a point beside the figure does not."""
    rng = np.random.default_rng(0)
    renderer.set_appearance(Appearance.sample(rng))
    pose = clip_pose(read_deepmimic_motion('spinkick'), 0.6)
    cam = Camera(yaw=yaw, elevation=np.radians(10), distance=3.0, width=160, height=160)
    target = pose.root_pos * np.array([1, 0, 1]) + np.array([0, 0.8, 0])
    renderer.set_pose(pose)
    joints = renderer.keypoints3d()
    image, mask = renderer.render_figure(cam, target)
    assert image.shape == (160, 160, 3) and mask.shape == (160, 160)
    assert 0.01 < mask.mean() < 0.5
    uv, _ = project(cam.matrix(target), joints)
    cols, rows = np.floor(uv[5:]).astype(int).T
    # joint centres can sit 2-3 px inside a limb's rounded end: allow the pixel's 8 neighbours (rasterisation)
    near = np.zeros_like(mask)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            near |= np.roll(np.roll(mask, dr, axis=0), dc, axis=1)
    assert near[rows, cols].all()
    assert mask[rows, cols].mean() >= 0.75
    # control: the same points 50 px to the side mostly hit the background
    shifted = np.clip(cols + 50, 0, 159)
    assert mask[rows, shifted].mean() < 0.5


def test_background_follows_the_camera(renderer):
    rng = np.random.default_rng(3)
    bg = Background.sample(rng, np.zeros(3))
    cam = Camera(yaw=1.0, elevation=np.radians(15), distance=3.0, width=96, height=96)
    a = bg.draw(cam, cam.matrix(np.array([0, 0.8, 0])))
    b = bg.draw(cam, cam.matrix(np.array([0.5, 0.8, 0])))
    assert a.shape == (96, 96, 3) and a.dtype == np.float32 and np.isfinite(a).all()
    assert np.abs(a - b).mean() > 1.0  # a camera move shifts the ground
    np.testing.assert_array_equal(a, bg.draw(cam, cam.matrix(np.array([0, 0.8, 0]))))
