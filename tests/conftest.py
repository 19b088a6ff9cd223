"""Shared fixtures: the pretrained Lite0 classifier is loaded once per test session."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session")
def lite0():
    from camlib.models import load_pretrained

    torch.set_num_threads(2)
    return load_pretrained("efficientnet-lite0")


@pytest.fixture(scope="session")
def photo():
    from PIL import Image
    from skimage import data

    return Image.fromarray(data.coffee())
