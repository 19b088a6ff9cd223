"""Data for camlib: offline assets, generated benchmarks of photographed objects, and full-scale loaders.

``python -m camlib.data.fetch`` fetches the offline assets; everything else fetches what it needs
on first use. Boxes are ``[x0, y0, x1, y1]`` float pixels with x1/y1 exclusive.
"""
from .assets import imagenet_samples, quokka
from .backgrounds import background_photos
from .boxdataset import BoxImageDataset, BoxRecord, collate_boxes
from .composites import CompositeSpec, CompositeSplit, load_composites
from .cub import CUB200
from .ilsvrc import ImageNetLocalization, read_synsets, read_voc_xml
from .localization_split import LocalizationDataset, LocalizationSplit
from .paste import Pasted, paste
from .paths import assets_dir, cache_dir, data_root, full_dir
from .real_photos import RealPhoto, real_photos
from .stamps import Stamp, load_stamps

__all__ = [
    "data_root", "assets_dir", "cache_dir", "full_dir",
    "imagenet_samples", "quokka", "background_photos",
    "LocalizationSplit", "LocalizationDataset",
    "BoxRecord", "BoxImageDataset", "collate_boxes",
    "ImageNetLocalization", "read_synsets", "read_voc_xml", "CUB200",
    "Pasted", "paste", "Stamp", "load_stamps", "CompositeSpec", "CompositeSplit", "load_composites",
    "RealPhoto", "real_photos",
]
