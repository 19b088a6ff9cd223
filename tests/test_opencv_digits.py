"""OpenCV's digit sheet: cutting it into cells and labelling them; unknown opencv-doc files."""
import numpy as np
import pytest

from camlib.data.opencv_digits import split_digit_sheet
from camlib.data.opencv_doc import opencv_doc_paths
from camlib.errors import CamlibError


def test_split_digit_sheet_is_row_major_with_consecutive_classes():
    # A 2 x 3 sheet of 2x2 cells, each cell filled with its own index; 2 cells per class.
    sheet = np.kron(np.arange(6, dtype=np.uint8).reshape(2, 3), np.ones((2, 2), dtype=np.uint8))
    images, labels = split_digit_sheet(sheet, size=2, per_class=2)
    assert images.shape == (6, 2, 2)
    assert [int(im[0, 0]) for im in images] == [0, 1, 2, 3, 4, 5]
    assert (images == np.arange(6)[:, None, None]).all()
    assert labels.tolist() == [0, 0, 1, 1, 2, 2]


def test_unknown_sample_is_a_readable_error():
    with pytest.raises(CamlibError, match="unknown opencv-doc file 'data/lena.png'"):
        opencv_doc_paths(["data/digits.png", "data/lena.png"])
