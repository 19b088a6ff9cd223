"""How many composites the chapter scores: the CPU default (Lite0 and SqueezeNet, the two head designs, in about three
minutes on two cores) and the full run (the four networks, every composite, Score-CAM scored too)."""
from __future__ import annotations

from dataclasses import dataclass

from camlib.metrics.bootstrap import RESAMPLES
from camlib.utils.errors import CamlibError


@dataclass(frozen=True)
class Scale:
    """``test_images`` / ``dev_images`` composites per network (by chapter 3's row name; the same seeded draw as
    chapter 3's, so every network sees a prefix of one sample); Score-CAM (hundreds of forward passes per map) is
    scored on ``scorecam_network`` when ``scorecam_images`` covers its test images (the full scale), else only timed."""

    test_images: tuple[tuple[str, int], ...] = (("Lite0", 100), ("SqueezeNet 1.1", 100))
    dev_images: int = 40
    scorecam_network: str = "SqueezeNet 1.1"
    scorecam_images: int = 2
    resamples: int = RESAMPLES
    batch_size: int = 20
    seed: int = 0

    def __post_init__(self):
        counts = dict(self.test_images)
        if min(counts.values(), default=0) < 2 or self.dev_images < 2 or self.scorecam_images < 1:
            raise CamlibError("every network needs at least 2 test and 2 dev images (intervals), Score-CAM at least 1")
        if "Lite0" not in counts or self.scorecam_network not in counts:
            raise CamlibError("the claims use Lite0 and Score-CAM runs on a scored network: both must be in test_images")


#: What the chapter runs on 2 CPU cores; :data:`FULL` scores every composite with every method (a GPU helps).
CPU = Scale()
FULL = Scale(test_images=(("Lite0", 3000), ("SqueezeNet 1.1", 3000), ("Lite1", 3000), ("Lite2", 3000)), dev_images=500,
             scorecam_images=3000)
