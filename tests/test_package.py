"""The package face: ``camlib.<name>`` for every name of ``camlib.__all__``, ``dir(camlib)``, and nothing else."""
from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import camlib

HOMES = {  # where each public name is defined (the layer that owns it)
    "CAM": "camlib.cam.extractor", "CAMResult": "camlib.cam.extractor",
    "class_activation_maps": "camlib.cam.compute", "upsample": "camlib.cam.compute",
    "box_from_cam": "camlib.cam.box_rules", "boxes_from_cams": "camlib.cam.box_rules",
    "released_code_boxes": "camlib.cam.box_rules", "heuristic_guesses": "camlib.cam.box_rules",
    "load_image": "camlib.utils.images", "seed_everything": "camlib.utils.repro",
    "localize": "camlib.app.localize", "Localization": "camlib.app.localize", "Prediction": "camlib.app.localize",
    "CamlibError": "camlib.utils.errors", "BadImageError": "camlib.utils.errors", "NoGapHeadError": "camlib.utils.errors",
    "NotLinearClassifierError": "camlib.utils.errors", "DatasetNotFoundError": "camlib.utils.errors",
    "CorruptFileError": "camlib.utils.errors",
    "instance_boxes": "camlib.cam.box_rules", "preprocess": "camlib.models.preprocess", "overlay": "camlib.app.plots",
    "load_pretrained": "camlib.models.pretrained", "as_classifier": "camlib.app.own_models",
    "load_checkpoint": "camlib.app.own_models",
}


def test_all_names_are_the_documented_ones():
    assert len(camlib.__all__) == len(set(camlib.__all__))
    assert set(camlib.__all__) == set(HOMES)


@pytest.mark.parametrize("name", sorted(HOMES))
def test_every_public_name_resolves_to_its_definition(name):
    value = getattr(camlib, name)
    assert value is getattr(importlib.import_module(HOMES[name]), name)
    assert callable(value) and value.__name__ == name  # a function or class, never a module of the same name
    assert name in dir(camlib)


def test_errors_are_camlib_errors():
    for name in ("BadImageError", "NoGapHeadError", "NotLinearClassifierError", "DatasetNotFoundError", "CorruptFileError"):
        assert issubclass(getattr(camlib, name), camlib.CamlibError)
    assert issubclass(camlib.CamlibError, Exception)


def test_dir_lists_every_public_name_before_any_is_imported():
    code = ("import sys, camlib\nnames = dir(camlib)\n"
            "assert set(camlib.__all__) <= set(names), set(camlib.__all__) - set(names)\n"
            "assert '__version__' in names and names == sorted(names)\n"
            "assert 'torch' not in sys.modules, 'import camlib imported torch'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="module 'camlib' has no attribute 'no_such_thing'"):
        camlib.no_such_thing  # noqa: B018
    assert not hasattr(camlib, "generator") and not hasattr(camlib, "Cam")
    assert getattr(camlib, "no_such_thing", None) is None
    with pytest.raises(ImportError):
        from camlib import no_such_thing  # noqa: F401
