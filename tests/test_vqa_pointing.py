"""The VQA chapter's pointing table: CAM peaks, the image centre and a random point per question type."""
import numpy as np
import torch

from camlib.chapters.ch10_vqa.pointing_table import pointing_table


def test_table_per_group():
    masks = np.zeros((3, 4, 4), bool)
    masks[0, :2, :2] = True
    masks[1, 2:, 2:] = True
    masks[2, :2, 2:] = True
    cams = torch.zeros(3, 2, 2)
    cams[0, 0, 0] = cams[1, 0, 0] = cams[2, 0, 1] = 1.0  # peaks at cells (0,0), (0,0), (0,1)
    table = pointing_table(cams, masks, ["a", "a", "b"], tolerance=0.0)
    assert list(table.index) == ["a", "b", "all"]
    np.testing.assert_allclose(table["CAM peak"], [50.0, 100.0, 200 / 3])
    np.testing.assert_allclose(table["centre"], [50.0, 0.0, 100 / 3])  # centre pixel (2, 2) lies in mask 1
    np.testing.assert_allclose(table["random"], [25.0, 25.0, 25.0])
    assert list(table["maps"]) == [2, 1, 3]
    assert (pointing_table(cams, masks, ["a", "a", "b"])["random"] > 25.0).all()  # the pointing game's 15 px by default


def test_pointing_frame_gives_each_maps_hits_and_scene():
    from camlib.chapters.ch10_vqa.pointing_table import pointing_frame

    masks = np.zeros((2, 4, 4), bool)
    masks[0, :2, :2] = True
    masks[1, 2:, 2:] = True
    cams = torch.zeros(2, 2, 2)
    cams[:, 0, 0] = 1.0
    frame = pointing_frame(cams, masks, scenes=np.array([7, 7]), tolerance=0.0)
    assert frame["CAM peak"].tolist() == [True, False] and frame["centre"].tolist() == [False, True]
    assert frame["random"].tolist() == [0.25, 0.25] and frame["scene"].tolist() == [7, 7]
