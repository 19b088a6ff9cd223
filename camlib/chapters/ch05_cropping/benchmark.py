"""Table 4's images: CUB-200-2011, or its CPU-scale stand-in of generated scenes of photographed birds."""
from __future__ import annotations

import numpy as np

from camlib.data.generators.composites import (
    CUB_BOX_HISTOGRAM,
    CompositeSpec,
    class_names,
    load_composites,
)
from camlib.data.sets.cub import CUB200
from camlib.data.generators.stamps import GROUPS_FILE
from camlib.utils.errors import CamlibError
from camlib.chapters.ch05_cropping.boxed_images import BoxedImages


#: Group 1 of ``stamps_groups.tsv``: 35 photographed birds, each a different species.
BIRD_GROUP = 1
#: The CPU-scale stand-in for CUB-200-2011: each bird stamp its own class, one bird per image with
#: CUB's box sizes (``box_statistics.md``), on real background photos, 448 px images (CUB's photos
#: are about 500 x 360; the network sees 224 px), train / dev / test drawn independently.
CPU_SPEC = CompositeSpec(size=448, splits=(("train", 175), ("dev", 105), ("test", 280)), stamps=GROUPS_FILE,
                         multi_share=0.0, share_histogram=CUB_BOX_HISTOGRAM, classes="stamp", groups=(BIRD_GROUP,), seed=5)


def table4_images(scale: str = "default") -> dict[str, BoxedImages]:
    """Train, dev and test images of Table 4: CUB-200-2011 (``scale="full"``, from ``<data root>/full``;
    dev = every fifth training image) or the generated :data:`CPU_SPEC` bird benchmark (``"default"``)."""
    if scale == "full":
        train, test = (BoxedImages.from_dataset(CUB200(split=split), f"cub-{split}") for split in ("train", "test"))
        index = np.arange(len(train))
        return {"train": train.subset(index[index % 5 != 0], "cub-train-fit"),
                "dev": train.subset(index[index % 5 == 0], "cub-train-dev"), "test": test}
    if scale not in ("default", "gpu"):
        raise CamlibError(f"scale must be 'default', 'gpu' or 'full', got {scale!r}")
    splits, names = load_composites(CPU_SPEC, progress=False), class_names(CPU_SPEC)
    return {name: BoxedImages.from_composites(split, f"birds-{CPU_SPEC.key()}-{name}", names)
            for name, split in splits.items()}
