"""Networks: the paper's *-GAP conversions and pretrained classifiers that load offline."""
from .gap import (
    GapNet,
    alexnet_gap,
    alexnet_star_gap,
    count_parameters,
    gap_network,
    googlenet_gap,
    googlenet_gmp,
    vgg16_gap,
)
from .pretrained import PretrainedClassifier, efficientnet_lite0, load_pretrained

__all__ = [
    "GapNet", "gap_network", "vgg16_gap", "alexnet_gap", "alexnet_star_gap", "googlenet_gap", "googlenet_gmp",
    "count_parameters", "PretrainedClassifier", "efficientnet_lite0", "load_pretrained",
]
