"""Networks: the paper's *-GAP conversions and pretrained classifiers that load offline."""
from camlib.models.gap import (
    GapNet,
    alexnet_gap,
    alexnet_star_gap,
    count_parameters,
    gap_network,
    googlenet_gap,
    googlenet_gmp,
    vgg16_gap,
)
from camlib.models.pretrained import (
    PRETRAINED,
    PretrainedClassifier,
    efficientnet_lite,
    efficientnet_lite0,
    load_pretrained,
    squeezenet1_1,
)

__all__ = [
    "GapNet", "gap_network", "vgg16_gap", "alexnet_gap", "alexnet_star_gap", "googlenet_gap", "googlenet_gmp",
    "count_parameters", "PretrainedClassifier", "PRETRAINED", "efficientnet_lite", "efficientnet_lite0",
    "squeezenet1_1", "load_pretrained",
]
