"""Pattern-discovery helpers: C by cross-validation, agreement with a reference detector, concept
probes on features whose answer is known, informative-object scores, the paper's two-column lists."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from camlib.chapters.ch07_text_detector import PhotoCAM, agreement, photo_cam, svt_scores
from camlib.chapters.ch08_concepts import concept_scores
from camlib.chapters.ch09_informative_objects import (
    bootstrap_difference,
    compare_lists,
    informative_objects,
    list_precision,
    object_frequency,
    object_lists,
    paper_object_lists,
)
from camlib.data.generators.object_scenes import CONCEPTS, ObjectScenes
from camlib.methods.probe import LinearProbe, choose_c

FIXTURE = Path(__file__).parent / "fixtures" / "svt_mini"
BAG, SHIRT = CONCEPTS.index("cow"), CONCEPTS.index("pig")


def test_choose_c_breaks_ties_towards_small_c():
    rng = np.random.default_rng(0)
    labels = np.arange(40) % 2
    features = rng.normal(size=(40, 3)) + 100.0 * (2 * labels[:, None] - 1)  # separable by a tiny w for every C
    assert choose_c(features, labels, grid=(0.001, 0.1, 10.0), folds=5)[0] == 0.001


def test_agreement_by_hand():
    cam = np.zeros((40, 40), np.float32)
    cam[5, 5] = 1.0
    ours = PhotoCAM(score=1.0, cam=cam, box=np.array([0, 0, 10, 10], np.float32))
    result = agreement(ours, np.array([[0, 0, 10, 10], [20, 20, 30, 30]]))
    assert result["peak in a reference box"] and result["reference boxes"] == 2
    assert result["best IoU with a box"] == pytest.approx(1.0)
    assert result["IoU with text region"] == pytest.approx(100 / 900)  # region [0, 0, 30, 30]
    assert result["agree"]
    assert agreement(ours, np.zeros((0, 4)))["agree"] is False


def _scenes(bag_cells: list[int | None]) -> tuple[ObjectScenes, torch.Tensor]:
    """Scenes of 30x30 px (3x3 grid of 10 px cells): a cow in the given cell (or none) and a pig in
    cell 4, with 2-channel 30x30 "conv maps": channel 0 is the cow's mask, channel 1 the pig's."""
    n = len(bag_cells)
    instances = np.full((n, 30, 30), -1, np.int16)
    maps = torch.zeros(n, 2, 30, 30)
    table = {"image": [], "category": [], "cell": [], "box": []}
    first = [0]
    for i, cell in enumerate(bag_cells):
        for category, at in ((BAG, cell), (SHIRT, 4)):
            if at is None:
                continue
            row, col = divmod(at, 3)
            instances[i, row * 10 + 2:row * 10 + 8, col * 10 + 2:col * 10 + 8] = len(table["image"])
            maps[i, 0 if category == BAG else 1, row * 10 + 2:row * 10 + 8, col * 10 + 2:col * 10 + 8] = 1.0
            for key, value in zip(table, (i, category, at, [col * 10 + 2, row * 10 + 2, col * 10 + 8, row * 10 + 8])):
                table[key].append(value)
        first.append(len(table["image"]))
    arrays = {k: np.asarray(v, dtype=np.float32 if k == "box" else np.int64) for k, v in table.items()}
    arrays.update(labels=np.zeros(n, np.int64), first=np.asarray(first))
    return ObjectScenes("test", 30, arrays, rendered=(np.zeros((n, 30, 30, 3), np.uint8), instances)), maps


def test_concept_scores_with_features_that_know_the_answer():
    # Training: GAP features are [cow evidence, pig evidence]; captions say "a cow" exactly
    # when the cow feature is on. The probe learns channel 0, whose CAM peaks on the cow.
    captions = ["a cow, a pig"] * 10 + ["a pig"] * 30
    train_pooled = torch.tensor([[1.0, 1.0]] * 10 + [[0.0, 1.0]] * 30)
    test, maps = _scenes([0, 2, 6, None, None])
    scores = concept_scores("cow", captions, train_pooled, test, maps.mean(dim=(2, 3)), maps, hard=False, C=1.0,
                            tolerance=0.0)
    assert scores["positives"] == 10 and scores["negatives"] == 20  # twice as many, none sharing a word
    assert scores["test scenes"] == 3 and scores["AP"] == 100.0 and scores["pointing"] == 100.0
    assert scores["prevalence"] == 60.0  # 3 of the 5 test scenes show it
    assert scores["chance"] == pytest.approx(100 * 36 / 900)  # one 6x6 box in a 30x30 image


def test_informative_objects_and_frequency_by_hand():
    scenes, _ = _scenes([0, 2])
    cams = np.zeros((2, 30, 30))
    cams[0, 0:10, 0:10] = 1.0      # image 0: covers its bag (cell 0) entirely
    cams[1, 20:30, 20:30] = 1.0    # image 1: covers nothing
    scores = informative_objects(cams, scenes, np.array([0, 1]))
    assert scores[BAG] == 0.5 and scores[SHIRT] == 0.0 and scores.sum() == 0.5
    frequency = object_frequency(scenes, np.array([0, 1]))
    assert frequency[BAG] == 1.0 and frequency[SHIRT] == 1.0 and frequency.sum() == 2.0


def test_list_precision_and_bootstrap_by_hand():
    scores = np.zeros(len(CONCEPTS))
    scores[[BAG, SHIRT]] = [0.9, 0.5]
    assert list_precision(scores, ["cow"]) == 100.0 and list_precision(scores, ["pig"]) == 0.0
    assert list_precision(scores, ["pig", "hen"]) == 50.0  # top 2: cow, pig
    # one class, two images: the CAM hits only the cow; both images show a pig, one a cow.
    hits, presence = np.zeros((2, len(CONCEPTS)), bool), np.zeros((2, len(CONCEPTS)), bool)
    hits[:, BAG], presence[:, SHIRT], presence[0, BAG] = True, True, True
    cam, frequency = compare_lists([hits], [presence], [["cow"]])
    assert cam.tolist() == [100.0] and frequency.tolist() == [0.0]  # frequency ranks the pig (1.0) over the cow (0.5)
    # a second class with the same images that wants the pig: the CAM's list (cow first) misses it, frequency finds it
    cam, frequency = compare_lists([hits, hits], [presence, presence], [["cow"], ["pig"]])
    assert cam.tolist() == [100.0, 0.0] and frequency.tolist() == [0.0, 100.0]
    # resampled in two stages, the classes and then each class's images: a draw may hold one class twice (a quarter of
    # the time each), and its images are both image 0 a quarter of the time (cow and pig tie at 1.0 and the cow,
    # earlier, ranks first), else the class keeps its difference; so a draw's mean difference reaches -100 (both
    # classes the second, neither drawn image 0 twice: 1/4 x 9/16 = 14%) and +100 as often
    assert bootstrap_difference([hits, hits], [presence, presence], [["cow"], ["pig"]], resamples=400) == (0.0, -100.0, 100.0)


def test_object_lists_and_paper_lists():
    lists = object_lists({"a": pd.Series({"x": 0.5, "y": 0.96, "z": 1.0})}, k=4)
    assert lists["a"].tolist() == ["z 1.00", "y .96", "x .50", ""]
    paper = paper_object_lists()
    assert set(paper) == {"dining room", "bathroom"}
    assert paper["dining room"].loc[1].tolist() == ["table .96", "wall .99"]
    assert paper["bathroom"]["informative (CAM)"].tolist()[-1] == "towel .54"


def test_photo_cam_and_svt_scores_run_on_real_formats(lite0):
    from PIL import Image

    probe = LinearProbe(torch.randn(1, 1280, generator=torch.Generator().manual_seed(0)), torch.zeros(1), np.array([0, 1]))
    photo = Image.open(FIXTURE / "img" / "00_00.jpg").convert("RGB")
    result = photo_cam(lite0, probe, photo, short_side=64)
    assert result.cam.shape == (48, 64)
    assert 0 <= result.box[0] < result.box[2] <= 64 and 0 <= result.box[1] < result.box[3] <= 48
    scores = svt_scores(lite0, probe, "test", FIXTURE, canvas=32, size=64)
    assert scores["images"] == 2 and set(scores) >= {"called text", "pointing", "PxAP", "MaxBoxAccV2"}
    assert all(0.0 <= v <= 100.0 for k, v in scores.items() if k != "images")


def test_text_detector_claims_resample_the_background_photos():
    from camlib.chapters.ch07_text_detector import text_detector_claims

    photos = np.repeat(np.arange(4), 25)  # 100 images cut from 4 photos
    correct = photos < 3  # right on three photos' images, wrong on the fourth's: 75% + 0
    cam = {"pointing": lambda r=None: 80.0, "PxAP": lambda r=None: 60.0, "box IoU>=0.5": lambda r=None: 40.0}
    base = {"pointing": lambda r=None: 50.0, "PxAP": lambda r=None: 70.0, "box IoU>=0.5": lambda r=None: 0.0}
    real = pd.DataFrame({"peak in a reference box": [True] * 5 + [False], "agree": [True, False, False, False, False, False]})
    claims = text_detector_claims(correct, photos, {"CAM of the text SVM": cam, "centre": base}, photos, real)
    verdicts = claims["holds?"].tolist()
    assert verdicts[:4] == ["undecided", "yes", "no", "no"]  # 75 vs 75 (a tie); 80 vs 50; 60 vs 70; 40 vs 50
    assert "(n=100 of 4 photos; detectable" in claims["measured"].iloc[0]
    assert claims["measured"].iloc[4] == "5 of 6" and verdicts[4:] == ["undecided, leans yes", "undecided, leans no"]  # six photos
