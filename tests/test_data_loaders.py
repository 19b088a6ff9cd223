"""Full-scale loaders on miniature copies of ILSVRC2012 and CUB-200-2011 in their own file formats.

The fixture JPEGs are grey with a red rectangle exactly where the ground-truth box says, so the
box conversions are checked against the pixels.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader
from torchvision import transforms

from camlib.data import CUB200, BoxImageDataset, BoxRecord, ImageNetLocalization, collate_boxes, read_voc_xml
from camlib.data.sets.ilsvrc import read_synsets
from camlib.utils.errors import CamlibError, CorruptFileError, DatasetNotFoundError

FIXTURES = Path(__file__).parent / "fixtures"
IMAGENET = FIXTURES / "ILSVRC2012_mini"
CUB = FIXTURES / "CUB_200_2011_mini"


def _assert_box_on_red_rectangle(image: torch.Tensor, box: torch.Tensor) -> None:
    """Pixels inside the box are red; the pixels just outside it (inside the image) are grey."""
    red = (image[0] > 0.75) & (image[1] < 0.35)
    x0, y0, x1, y1 = box.int().tolist()
    assert red[y0:y1, x0:x1].all()
    h, w = red.shape
    border = torch.zeros_like(red)
    border[max(y0 - 1, 0):min(y1 + 1, h), max(x0 - 1, 0):min(x1 + 1, w)] = True
    border[y0:y1, x0:x1] = False
    assert not (red & border).any()


def test_read_voc_xml_converts_one_based_inclusive_boxes():
    objects = read_voc_xml(IMAGENET / "val_xml" / "ILSVRC2012_val_00000001.xml")
    assert [name for name, _ in objects] == ["n01443537", "n01443537"]
    np.testing.assert_array_equal(objects[0][1], [10, 5, 30, 25])  # xmin=11 ymin=6 xmax=30 ymax=25
    np.testing.assert_array_equal(objects[1][1], [33, 20, 46, 34])


def test_imagenet_val_items():
    dataset = ImageNetLocalization(IMAGENET, "val", progress=False)
    assert len(dataset) == 3
    assert dataset.labels.tolist() == [1, 0, 2]
    assert dataset.wnids[1] == "n01443537" and dataset.class_names[0] == "tench, Tinca tinca"
    image, label, boxes, size = dataset[0]
    assert label == 1 and image.shape == (3, 36, 48) and size.tolist() == [36, 48]
    assert boxes.dtype == torch.float32 and boxes.shape == (2, 4)
    for box in boxes:
        _assert_box_on_red_rectangle(image, box)
    image, _, boxes, _ = dataset[1]
    assert boxes.tolist() == [[0, 0, 40, 40]]
    _assert_box_on_red_rectangle(image, boxes[0])


def test_imagenet_train_items_have_labels_and_no_boxes():
    dataset = ImageNetLocalization(IMAGENET, "train")
    assert [p.name for p in (r.path for r in dataset.records)] == [
        "n01440764_10026.JPEG", "n01440764_10027.JPEG", "n01484850_1000.JPEG"]
    assert dataset.labels.tolist() == [0, 0, 2]
    assert dataset[2][2].shape == (0, 4)


def test_transform_keeps_boxes_in_original_pixels_and_collate_batches_them():
    resize = transforms.Compose([transforms.Resize((16, 16)), transforms.ToTensor()])
    dataset = ImageNetLocalization(IMAGENET, "val", transform=resize, progress=False)
    images, labels, boxes, sizes = next(iter(DataLoader(dataset, batch_size=3, collate_fn=collate_boxes)))
    assert images.shape == (3, 3, 16, 16) and labels.tolist() == [1, 0, 2]
    assert [len(b) for b in boxes] == [2, 1, 1]
    assert boxes[0][0].tolist() == [10, 5, 30, 25]
    assert sizes.tolist() == [[36, 48], [40, 40], [48, 36]]


def test_collate_refuses_images_of_different_sizes():
    dataset = ImageNetLocalization(IMAGENET, "val", progress=False)
    with pytest.raises(CamlibError, match="resizes and crops"):
        collate_boxes([dataset[0], dataset[1]])


def test_missing_imagenet_names_path_and_source(monkeypatch, tmp_path):
    monkeypatch.setenv("CAMLIB_DATA", str(tmp_path))
    with pytest.raises(DatasetNotFoundError) as info:
        ImageNetLocalization()
    assert str(tmp_path / "full" / "ILSVRC2012") in str(info.value) and "image-net.org" in str(info.value)
    copy = tmp_path / "inet"
    shutil.copytree(IMAGENET, copy)
    (copy / "val_xml" / "ILSVRC2012_val_00000002.xml").unlink()
    with pytest.raises(DatasetNotFoundError, match="ILSVRC2012_val_00000002.xml"):
        ImageNetLocalization(copy, "val", progress=False)


def test_malformed_imagenet_files_are_reported(tmp_path):
    (tmp_path / "LOC_synset_mapping.txt").write_text("tench n01440764\n")
    with pytest.raises(CorruptFileError, match=":1:"):
        read_synsets(tmp_path / "LOC_synset_mapping.txt")
    (tmp_path / "bad.xml").write_text("<annotation><object><name>n1</name></object>")
    with pytest.raises(CorruptFileError, match="not valid XML"):
        read_voc_xml(tmp_path / "bad.xml")


def test_cub_splits_boxes_and_names():
    test = CUB200(CUB, "test")
    train = CUB200(CUB, "train")
    assert len(test) == 2 and len(train) == 2
    assert test.labels.tolist() == [0, 1] and train.labels.tolist() == [0, 1]
    assert test.class_names == ("Black footed Albatross", "Laysan Albatross")
    image, label, boxes, size = test[0]
    assert boxes.tolist() == [[10, 5, 30, 20]] and size.tolist() == [36, 48]
    _assert_box_on_red_rectangle(image, boxes[0])
    image, label, boxes, size = test[1]
    assert boxes.tolist() == [[20, 10, 36, 30]] and size.tolist() == [30, 36]
    _assert_box_on_red_rectangle(image, boxes[0])
    for item in train:
        _assert_box_on_red_rectangle(item[0], item[2][0])


def test_missing_cub_names_file_and_source(tmp_path):
    shutil.copytree(CUB, tmp_path / "cub")
    (tmp_path / "cub" / "bounding_boxes.txt").unlink()
    with pytest.raises(DatasetNotFoundError) as info:
        CUB200(tmp_path / "cub")
    assert "bounding_boxes.txt" in str(info.value) and "caltech.edu" in str(info.value)
    with pytest.raises(CamlibError, match="'train' or 'test'"):
        CUB200(CUB, "val")


def test_boxes_are_clipped_to_the_image():
    path = CUB / "images" / "002.Laysan_Albatross" / "Laysan_Albatross_0003_1033.jpg"  # 36 x 30
    record = BoxRecord(path, 0, np.array([[-3, 2, 50, 40]], dtype=np.float32))
    _, _, boxes, _ = BoxImageDataset([record], ["bird"])[0]
    assert boxes.tolist() == [[0, 2, 36, 30]]
