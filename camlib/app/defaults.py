"""``camlib cam``'s defaults, chosen on the development split of the composites and reported once on
the real photos (chapter 3, "Choosing camlib's defaults"; the chapter checks that these are its choice).

Kept free of heavy imports so that ``camlib cam --help`` stays fast.
"""

#: The pretrained network (a name of :data:`camlib.models.pretrained.PRETRAINED`).
DEFAULT_MODEL = "efficientnet-lite0"
#: The box threshold, a fraction of the CAM's maximum (the paper's rule uses 0.2).
DEFAULT_THRESHOLD = 0.25
#: Whether to average the CAMs (and logits) of the image and its mirror.
DEFAULT_FLIP = False
#: The most classes one overlay draws (one panel each): ``--topk`` above it with ``--out`` is refused, since a
#: sheet of 1000 panels takes minutes and gigabytes to draw.
MAX_OVERLAY_PANELS = 20
#: The map methods ``camlib cam --method`` runs: CAM (the default: one forward pass) and its successors through
#: pytorch-grad-cam (:data:`camlib.methods.successors.SUCCESSORS`; named here so that ``--help`` needs no torch).
MAP_METHODS = ("cam", "gradcam", "gradcam++", "xgradcam", "layercam", "scorecam", "eigencam")
DEFAULT_METHOD = "cam"
