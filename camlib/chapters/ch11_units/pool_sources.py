"""The images of the pool of Lite0's units: ImageNet-class composites, stamp-group composites and real photos, each
with its label map."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
from PIL import Image

from camlib.training import stamp_groups
from camlib.data.generators.composites import CompositeSpec, CompositeSplit, load_composites, load_stamps_cached
from camlib.data.sets.real_photos import RealPhoto, real_photos
from camlib.data.generators.stamps import MAPPING_FILE, stamp_mapping
from camlib.utils.errors import CamlibError
from camlib.models.preprocess import resize_crop
from camlib.chapters.ch11_units.label_maps import GROUP_OFFSET, box_label_map, mask_label_map


#: The pool's parts, in pool order: chapter 3's ImageNet-class composites (test split), the stamp-group
#: composites of :func:`camlib.training.stamp_groups.group_composites` (train, then test) and the annotated real photos.
POOL_PARTS: tuple[str, ...] = ("ImageNet composites", "group composites", "real photos")
PHOTO_SIZE = 224


@dataclass
class PoolSources:
    """The pool's images: chapter 3's ImageNet-class ``composites`` (test split), the stamp-group
    composites ``groups`` (train, then test) and the annotated real ``photos``."""

    composites: CompositeSplit
    groups: tuple[CompositeSplit, ...]
    photos: tuple[RealPhoto, ...]

    @property
    def counts(self) -> tuple[int, int, int]:
        """Images in each part of :data:`POOL_PARTS`."""
        return len(self.composites), sum(len(s) for s in self.groups), len(self.photos)

    def render(self, part: int, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Image ``index`` of ``part`` as uint8 (H, W, 3) (composites at their size, photos resized and centre-cropped
        to :data:`PHOTO_SIZE`) and its label map int64 (H, W): the ImageNet class of the object at each pixel
        (group stamps without one: ``GROUP_OFFSET + group``), BACKGROUND elsewhere (real photos: boxes)."""
        if part == 0:
            image, masks = self.composites.render(index)
            return image, mask_label_map(masks, [int(self.composites.labels[index])] * len(masks))
        if part == 1:
            split, local = self._group_split(index)
            image, masks = split.render(local)
            first = split.arrays["first"]
            stamps, imagenet = load_stamps_cached(split.stamps), _imagenet_class_of_stamp()
            classes = [imagenet.get(stamps[s].path, GROUP_OFFSET + int(split.labels[local]))
                       for s in split.arrays["stamp"][first[local]:first[local + 1]]]
            return image, mask_label_map(masks, classes)
        if part == 2:
            photo = self.photos[index]
            crop, geometry = resize_crop(Image.open(photo.path).convert("RGB"), PHOTO_SIZE, PHOTO_SIZE)
            scale = np.array([geometry.scale_x, geometry.scale_y] * 2)
            offset = np.array([geometry.offset_x, geometry.offset_y] * 2)
            boxes = photo.boxes * scale - offset
            return np.asarray(crop), box_label_map(boxes, photo.labels, (PHOTO_SIZE, PHOTO_SIZE))
        raise CamlibError(f"part must index {POOL_PARTS}, got {part}")

    def _group_split(self, index: int) -> tuple[CompositeSplit, int]:
        for split in self.groups:
            if index < len(split):
                return split, index
            index -= len(split)
        raise CamlibError(f"group composite {index} is out of range")

    def describe(self, part: int, index: int, class_names: Sequence[str], group_names: Sequence[str]) -> str:
        """A short caption: the part and the image's class."""
        if part == 0:
            return f"composite: {class_names[int(self.composites.labels[index])]}"
        if part == 1:
            split, local = self._group_split(index)
            return f"group comp.: {group_names[int(split.labels[local])]}"
        return f"photo: {self.photos[index].class_names[0]}"


@lru_cache(maxsize=1)
def _imagenet_class_of_stamp() -> dict[str, int]:
    """The ImageNet class of every stamp of the ImageNet mapping, by stamp path."""
    return {e.path: e.class_index for e in stamp_mapping(MAPPING_FILE)}


def pool_sources() -> PoolSources:
    """The pool's recipes (cached composites, annotated photos); nothing is rendered."""
    groups = load_composites(_group_spec(), progress=False)
    return PoolSources(load_composites(CompositeSpec(), progress=False)["test"], (groups["train"], groups["test"]),
                       tuple(real_photos()))


#: The stamp-group composites (train, test) in the pool of Lite0's units.
GROUP_POOL_IMAGES = (960, 320)


def _group_spec() -> CompositeSpec:
    return stamp_groups.group_composites(*GROUP_POOL_IMAGES)
