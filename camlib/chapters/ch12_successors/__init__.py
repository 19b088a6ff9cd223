"""Chapter 12 (beyond the paper): CAM and its successors (Grad-CAM, Grad-CAM++, XGrad-CAM, LayerCAM, Eigen-CAM,
Score-CAM, computed by pytorch-grad-cam) on chapter 3's composites and real photos, every method scored the same way
(:mod:`.benchmark`), tabled with intervals over objects and judged against CAM (:mod:`.tables`)."""
from camlib.chapters.ch12_successors.benchmark import (
    METHODS,
    PASSES,
    RAW_CAM,
    TARGET_LAYERS,
    MethodScores,
    dev_threshold,
    map_method,
    mapped_features,
    score_method,
)
from camlib.chapters.ch12_successors.scale import CPU, FULL, Scale
from camlib.chapters.ch12_successors.tables import (LOWER_IS_BETTER, SCORES, TABLE_PARTS, cost_table, method_intervals,
                                                    method_table, successor_claim)

__all__ = ["METHODS", "PASSES", "RAW_CAM", "TARGET_LAYERS", "MethodScores", "dev_threshold", "map_method", "mapped_features",
           "score_method", "CPU", "FULL", "Scale",
           "LOWER_IS_BETTER", "SCORES", "TABLE_PARTS", "cost_table", "method_intervals", "method_table", "successor_claim"]
