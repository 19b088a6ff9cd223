"""Scene rendering: placement, exact instance maps and colours."""
import numpy as np
import pytest

from camlib.data.vqa_scenes import COLOURS, GAP, place_boxes, render_scene
from camlib.errors import CamlibError


def block_items() -> dict[str, np.ndarray]:
    """Two fake categories whose items are solid 255 rectangles (so pasted pixels equal the tint)."""
    bag = np.zeros((3, 28, 28), np.uint8)
    bag[:, 4:24, 4:24] = 255
    boot = np.zeros((3, 28, 28), np.uint8)
    boot[:, 10:18, 2:26] = 255
    return {"bag": bag, "boot": boot}


def test_same_seed_same_scene_and_instances_match_objects():
    a = render_scene(np.random.default_rng(3), block_items(), canvas=96, max_objects=4, object_size=(20, 30))
    b = render_scene(np.random.default_rng(3), block_items(), canvas=96, max_objects=4, object_size=(20, 30))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2] == b[2]
    image, instances, objects = a
    assert image.shape == (96, 96, 3) and image.dtype == np.uint8 and instances.shape == (96, 96)
    assert set(np.unique(instances)) == {-1, *range(len(objects))}
    for i, obj in enumerate(objects):
        ys, xs = np.nonzero(instances == i)
        x0, y0, x1, y1 = obj.box
        assert x0 <= xs.min() and xs.max() < x1 and y0 <= ys.min() and ys.max() < y1
        # fully opaque interior pixels are exactly the tint (intensity 255 -> shade 1.0)
        inner = instances[y0 + 3:y1 - 3, x0 + 3:x1 - 3] == i
        np.testing.assert_array_equal(image[y0 + 3:y1 - 3, x0 + 3:x1 - 3][inner], np.broadcast_to(COLOURS[obj.colour], (inner.sum(), 3)))


def test_boxes_keep_their_gap_and_impossible_layouts_are_refused():
    boxes = place_boxes(np.random.default_rng(0), [(20, 20)] * 4, canvas=100)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            separated = a[2] + GAP <= b[0] or b[2] + GAP <= a[0] or a[3] + GAP <= b[1] or b[3] + GAP <= a[1]
            assert separated, (a, b)
    assert place_boxes(np.random.default_rng(0), [(60, 60)] * 3, canvas=100, tries=50) is None


def test_bad_sizes_raise():
    with pytest.raises(CamlibError, match="object_size"):
        render_scene(np.random.default_rng(0), block_items(), canvas=32, object_size=(20, 40))
