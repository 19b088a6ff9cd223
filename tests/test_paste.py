"""camlib.data.generators.paste: blending, mask, box, flip, scale and clipping with hand-computed answers."""
from __future__ import annotations

import numpy as np
import pytest

from camlib.data.generators.paste import paste, scale_rgba
from camlib.metrics.boxes import mask_box
from camlib.utils.errors import CamlibError


def _object() -> np.ndarray:
    """A 2x3 RGBA object: opaque red, half-transparent green (alpha 128), transparent blue; second row opaque white."""
    obj = np.zeros((2, 3, 4), dtype=np.uint8)
    obj[0, 0] = (255, 0, 0, 255)
    obj[0, 1] = (0, 255, 0, 128)
    obj[0, 2] = (0, 0, 255, 0)
    obj[1, :] = (255, 255, 255, 255)
    return obj


def test_paste_blends_and_masks_exactly():
    background = np.full((4, 5, 3), 100, dtype=np.uint8)
    out = paste(background, _object(), x=1, y=2)
    a = 128 / 255
    assert out.image[2, 1].tolist() == [255, 0, 0]
    assert out.image[2, 2].tolist() == [round(100 * (1 - a)), round(255 * a + 100 * (1 - a)), round(100 * (1 - a))]
    assert out.image[2, 3].tolist() == [100, 100, 100]  # alpha 0 leaves the background
    assert out.image[3, 1:4].tolist() == [[255, 255, 255]] * 3
    expected = np.zeros((4, 5), dtype=bool)
    expected[2, 1:3] = True  # alpha 128/255 > 0.5
    expected[3, 1:4] = True
    assert np.array_equal(out.mask, expected)
    assert out.box.tolist() == [1, 2, 4, 4]
    assert np.array_equal(background, np.full((4, 5, 3), 100)), "the background must not change"


def test_flip_mirrors_the_object():
    out = paste(np.zeros((2, 3, 3), dtype=np.uint8), _object(), x=0, y=0, flip=True)
    assert out.image[0, 2].tolist() == [255, 0, 0] and out.image[0, 0].tolist() == [0, 0, 0]
    assert out.mask[0].tolist() == [False, True, True] and out.box.tolist() == [0, 0, 3, 2]


def test_scale_enlarges_an_opaque_pixel_to_a_block_and_keeps_edges_clean():
    obj = np.array([[[10, 20, 30, 255]]], dtype=np.uint8)
    out = paste(np.zeros((6, 6, 3), dtype=np.uint8), obj, x=2, y=1, scale=3)
    assert out.box.tolist() == [2, 1, 5, 4] and out.mask.sum() == 9
    assert (out.image[1:4, 2:5] == [10, 20, 30]).all()
    # a transparent pixel's colour never leaks into the object when shrinking: premultiplied resize
    half = np.zeros((2, 2, 4), dtype=np.uint8)
    half[:, 0] = (200, 0, 0, 255)
    half[:, 1] = (0, 0, 255, 0)
    scaled = scale_rgba(half, 0.5)
    assert scaled.shape == (1, 1, 4)
    np.testing.assert_allclose(scaled[0, 0], [200, 0, 0, 0.5], atol=1e-4)


def test_objects_partly_outside_are_clipped_and_fully_outside_refused():
    out = paste(np.zeros((3, 3, 3), dtype=np.uint8), _object(), x=-1, y=1)
    assert out.box.tolist() == [0, 1, 2, 3]
    assert out.image[1, 0].tolist() == [0, 128, 0]  # the half-green pixel, its red neighbour clipped
    with pytest.raises(CamlibError, match="outside the background"):
        paste(np.zeros((3, 3, 3), dtype=np.uint8), _object(), x=5, y=0)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(CamlibError, match="uint8 \\(H, W, 3\\)"):
        paste(np.zeros((3, 3, 3)), _object(), 0, 0)
    with pytest.raises(CamlibError, match="RGBA"):
        paste(np.zeros((3, 3, 3), dtype=np.uint8), _object()[..., :3], 0, 0)
    with pytest.raises(CamlibError, match="positive"):
        paste(np.zeros((3, 3, 3), dtype=np.uint8), _object(), 0, 0, scale=0)
    with pytest.raises(CamlibError, match="empty"):
        mask_box(np.zeros((2, 2), dtype=bool))


def test_mask_box_by_hand():
    mask = np.zeros((6, 8), dtype=bool)
    mask[1, 2] = mask[3, 5] = True
    np.testing.assert_array_equal(mask_box(mask), [2, 1, 6, 4])  # x1/y1 exclusive
