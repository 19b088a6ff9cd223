"""Scene rendering: stamps pasted with exact instance maps, tight boxes, their own colours, by seed."""
import numpy as np
import pytest

from camlib.metrics.boxes import mask_box
from camlib.data.generators.stamps import Stamp
from camlib.data.generators.vqa_scenes import GAP, LONGEST_STAMP, pieces, place_boxes, render_scene, stamp_colour
from camlib.utils.errors import CamlibError


def block(rgb, group: str, height: int = 40, width: int = 30, name: str = "x.png") -> Stamp:
    """An opaque solid rectangle of colour ``rgb`` inside a 2-px transparent border."""
    rgba = np.zeros((height + 4, width + 4, 4), np.uint8)
    rgba[2:-2, 2:-2] = (*rgb, 255)
    return Stamp(name, rgba, rgba[..., 3] > 127, 0, group)


STAMPS = [block((220, 20, 20), "fruit", name="red.png"), block((128, 128, 128), "fruit", 30, 40, name="grey.png"),
          block((20, 40, 220), "vehicle", 20, 44, name="blue.png")]
BACKGROUNDS = [np.full((120, 150, 3), 90, np.uint8)]


def scene(seed: int):
    return render_scene(np.random.default_rng(seed), pieces(STAMPS, ["fruit", "vehicle"]), BACKGROUNDS, canvas=112,
                        max_objects=4, object_size=(20, 32))


def test_pieces_name_each_stamps_own_colour():
    pool = pieces(STAMPS, ["fruit", "vehicle"])
    assert [(p.category, p.colour) for p in pool["fruit"]] == [("fruit", "red"), ("fruit", None)]
    assert [(p.category, p.colour) for p in pool["vehicle"]] == [("vehicle", "blue")]
    assert stamp_colour(STAMPS[0]) == "red"
    with pytest.raises(CamlibError, match="unknown"):
        pieces(STAMPS, ["fruit", "hat"])
    with pytest.raises(CamlibError, match="no stamp"):
        pieces(STAMPS, ["fruit", "bird"])


def test_large_stamps_are_shrunk_once_keeping_their_colour():
    big = block((20, 160, 30), "fruit", 600, 300)
    (piece,) = pieces([big], ["fruit"])["fruit"]
    x0, y0, x1, y1 = mask_box(piece.stamp.mask)
    assert LONGEST_STAMP - 1 <= max(x1 - x0, y1 - y0) <= LONGEST_STAMP and piece.colour == "green"  # +-1 px of resampling
    assert piece.stamp.rgba.dtype == np.uint8 and (piece.stamp.rgba[piece.stamp.mask][:, :3] == (20, 160, 30)).all()


def test_same_seed_same_scene_exact_masks_tight_boxes_and_colours():
    a, b = scene(3), scene(3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2] == b[2]
    assert any(not np.array_equal(scene(s)[0], a[0]) for s in range(4, 8))
    colours = {"red.png": (220, 20, 20), "grey.png": (128, 128, 128), "blue.png": (20, 40, 220)}
    for seed in range(6):
        image, instances, objects = scene(seed)
        assert image.shape == (112, 112, 3) and image.dtype == np.uint8 and instances.shape == (112, 112)
        assert set(np.unique(instances)) == {-1, *range(len(objects))}
        for i, obj in enumerate(objects):
            mask = instances == i
            assert tuple(mask_box(mask).astype(int)) == obj.box  # the box is the mask's tight box
            # a solid opaque stamp: every mask pixel at least 1 px inside is exactly the stamp's colour
            x0, y0, x1, y1 = obj.box
            inner = mask[y0 + 1:y1 - 1, x0 + 1:x1 - 1]
            np.testing.assert_array_equal(image[y0 + 1:y1 - 1, x0 + 1:x1 - 1][inner], np.broadcast_to(colours[obj.stamp], (inner.sum(), 3)))
            assert max(x1 - x0, y1 - y0) in range(19, 34)  # the drawn longer side, give or take resampling
            assert obj.colour == {"red.png": "red", "grey.png": None, "blue.png": "blue"}[obj.stamp]
        assert (image[instances == -1] == 90).mean() > 0.95  # the background, less the objects' soft edges


def test_boxes_keep_their_gap_and_impossible_layouts_are_refused():
    boxes = place_boxes(np.random.default_rng(0), [(20, 20)] * 4, canvas=100)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            separated = a[2] + GAP <= b[0] or b[2] + GAP <= a[0] or a[3] + GAP <= b[1] or b[3] + GAP <= a[1]
            assert separated, (a, b)
    assert place_boxes(np.random.default_rng(0), [(60, 60)] * 3, canvas=100, tries=50) is None


def test_bad_sizes_raise():
    with pytest.raises(CamlibError, match="object_size"):
        render_scene(np.random.default_rng(0), pieces(STAMPS, ["fruit"]), BACKGROUNDS, canvas=32, object_size=(20, 40))
