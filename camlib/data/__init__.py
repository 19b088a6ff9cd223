"""Data for camlib: offline assets, generated benchmarks of photographed objects, and full-scale loaders.

``python -m camlib.data.fetch`` fetches the offline assets; everything else fetches what it needs
on first use. Boxes are ``[x0, y0, x1, y1]`` float pixels with x1/y1 exclusive.
"""
from camlib.data.assets.packages import imagenet_samples, quokka
from camlib.data.generators.backgrounds import background_photos
from camlib.data.sets.boxdataset import BoxImageDataset, BoxRecord, collate_boxes
from camlib.data.generators.composites import CompositeSpec, CompositeSplit, load_composites
from camlib.data.sets.cub import CUB200
from camlib.data.sets.ilsvrc import ImageNetLocalization, read_synsets, read_voc_xml
from camlib.data.sets.localization_split import LocalizationDataset, LocalizationSplit
from camlib.data.generators.paste import Pasted, paste
from camlib.data.assets.paths import assets_dir, cache_dir, data_root, full_dir
from camlib.data.sets.real_photos import RealPhoto, real_photos
from camlib.data.generators.stamps import Stamp, load_stamps

__all__ = [
    "data_root", "assets_dir", "cache_dir", "full_dir",
    "imagenet_samples", "quokka", "background_photos",
    "LocalizationSplit", "LocalizationDataset",
    "BoxRecord", "BoxImageDataset", "collate_boxes",
    "ImageNetLocalization", "read_synsets", "read_voc_xml", "CUB200",
    "Pasted", "paste", "Stamp", "load_stamps", "CompositeSpec", "CompositeSplit", "load_composites",
    "RealPhoto", "real_photos",
]
