"""The CLI's overlay figure: each top-k class's CAM and box drawn on the original photo."""
from __future__ import annotations

import io

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from camlib.app.defaults import MAX_OVERLAY_PANELS
from camlib.app.localize import Localization
from camlib.app.plots import draw_boxes, overlay
from camlib.utils.errors import CamlibError, printable

#: Longest side of the photo as drawn; coordinates stay in original pixels.
DISPLAY_SIDE = 1024
CMAP = "jet"


def overlay_figure(loc: Localization, title: str, ncols: int = 5, size: float = 3.2) -> Figure:
    """One panel per prediction: the CAM (min-max scaled) over the original photo, the class and
    its probability, and its box in original pixels; ``title`` (the file name, shown as
    :func:`~camlib.utils.errors.printable` text) above, a colour bar beside. A plain ``Figure`` (no pyplot),
    so it neither opens a window nor changes the backend. At most :data:`MAX_OVERLAY_PANELS` predictions."""
    if len(loc.predictions) > MAX_OVERLAY_PANELS:
        raise CamlibError(f"an overlay draws at most {MAX_OVERLAY_PANELS} classes, got {len(loc.predictions)}; localize fewer (topk)")
    photo = loc.image if loc.image is not None else loc.input_image
    width, height = photo.size
    scale = min(1.0, DISPLAY_SIDE / max(width, height))
    shown = photo.resize((max(1, round(width * scale)), max(1, round(height * scale)))) if scale < 1 else photo
    count = len(loc.predictions)
    ncols = min(ncols, count)
    nrows = int(np.ceil(count / ncols))
    aspect = height / width
    fig = Figure(figsize=(size * ncols + 0.8, size * aspect * nrows + 0.7))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= count:
            continue
        p = loc.predictions[i]
        ax.imshow(overlay(shown, loc.cams[i], cmap=CMAP), extent=(-0.5, width - 0.5, height - 0.5, -0.5))
        draw_boxes(ax, np.asarray(p.box))
        ax.set_title(f"{p.label}  p={p.prob:.2f}", fontsize=9)
    fig.suptitle(printable(title), fontsize=10, parse_math=False)  # a name like "$\\x$.jpg" is no formula
    bar = fig.colorbar(ScalarMappable(Normalize(0, 1), cmap=CMAP), ax=axes.ravel().tolist(), fraction=0.02, pad=0.02)
    bar.set_label("CAM, fraction of its range", fontsize=8)
    return fig


def overlay_png(loc: Localization, title: str) -> bytes:
    """:func:`overlay_figure` as PNG bytes."""
    buffer = io.BytesIO()
    overlay_figure(loc, title).savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
