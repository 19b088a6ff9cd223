"""Table 4's protocol: fine-grained recognition from CAM crops, with a fixed GAP feature extractor.

1. Extract GAP features of the full images (train, dev, test), fit a linear SVM on the train
   images, its ``C`` chosen on the dev images (:mod:`.full_image`).
2. CAMs from the SVM's weights (train images: the labelled class; dev/test images: the predicted
   class), boxes by the paper's threshold rule in each image's own pixels, enlarged by a margin (:mod:`.boxes`).
3. Crop the images to those boxes, re-extract features from the crops, fit a new SVM on the train
   crops and score the dev crops (to choose the margin) and then, once, the test crops. The same with
   the ground-truth boxes (the upper reference), a random box of a training size and a centre box
   (the chance references), and the ground-truth box cut from the image at the network's input
   resolution (what cropping gains from the extra pixels of a larger photo).
4. Localization: the share of test CAM boxes with IoU >= 0.5 against the ground truth, next to
   chance baselines (see :func:`camlib.methods.baselines.random_boxes`).

:func:`run_cropping` (:mod:`.protocol`) runs every step and returns a :class:`.result.CroppingResult`.
Images are loaded on demand (:class:`BoxedImages`), so the same code runs on the generated bird
benchmark (rendered from its recipe, :mod:`.benchmark`) and on CUB-200-2011's 11,788 JPEGs. Features are
cached under ``<data root>/cache/features``.
"""
from camlib.chapters.ch05_cropping.benchmark import CPU_SPEC, table4_images
from camlib.chapters.ch05_cropping.boxed_images import BoxedImages
from camlib.chapters.ch05_cropping.boxes import enlarge_boxes, pixel_box
from camlib.chapters.ch05_cropping.claims import table4_claims
from camlib.chapters.ch05_cropping.figures import plot_diagnosis, show_examples
from camlib.chapters.ch05_cropping.full_image import choose_c_on_dev
from camlib.chapters.ch05_cropping.protocol import run_cropping
from camlib.chapters.ch05_cropping.result import REFERENCES, SETTINGS

__all__ = [
    "CPU_SPEC", "table4_images", "BoxedImages", "pixel_box", "enlarge_boxes", "choose_c_on_dev",
    "SETTINGS", "REFERENCES", "run_cropping", "table4_claims", "show_examples", "plot_diagnosis",
]
