"""Scene-text images with exact ground truth: words in real fonts rendered onto real photographs.

Positives carry 1-3 words (varied font, size, angle, colour, sometimes on a sign plate or with an
outline); negatives are made the same way (same backgrounds, clutter shapes and empty sign plates)
but without the letters, so that only the glyphs tell the two apart. Every word's pixel mask
(coverage >= 0.5 after anti-aliasing and rotation) and its tight box are exact.

Backgrounds are crops of text-free photographs (:func:`photo_pool`); the ``test`` split draws on
photographs that the ``train`` split never sees.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from skimage import data as skdata

from camlib.utils.cache import cache_key
from camlib.utils.errors import CamlibError
from camlib.utils.images import load_image
from camlib.utils.progress import progress as progress_bar
from camlib.data.assets.packages import imagenet_samples
from camlib.data.sets.opencv_text import text_free_photos
from camlib.metrics.boxes import mask_box

#: Bump when the generator changes (the spec's key, and so every cache named by it, changes with it).
GENERATOR_VERSION = 1
SPLITS = ("train", "test")

#: Words of the kind street signs carry (SVT's words are shop names, street names and signs).
VOCABULARY = (
    "STOP", "EXIT", "OPEN", "SALE", "HOTEL", "PARKING", "TAXI", "POLICE", "BANK", "CAFE", "BAKERY",
    "PHARMACY", "MUSEUM", "LIBRARY", "MARKET", "STREET", "AVENUE", "ROAD", "CENTRE", "STATION",
    "ENTRANCE", "TOILETS", "PIZZA", "COFFEE", "BAR", "GARAGE", "SCHOOL", "HOSPITAL", "THEATRE",
    "CINEMA", "BOOKS", "FLOWERS", "SHOES", "DINER", "MOTEL", "BURGER", "GROCERY", "LAUNDRY", "SALON",
    "TICKETS", "PLAZA", "PARK", "NORTH", "SOUTH", "EAST", "WEST", "FIRE", "AUTO", "REPAIR", "DENTAL",
    "OFFICE", "POST", "BUS", "TRAIN", "GALLERY", "STUDIO", "FITNESS", "TOWER", "BRIDGE", "HARBOUR",
    "LIQUOR", "DELI", "CLOSED", "WELCOME", "PRIVATE", "NO", "ENTRY", "ONLY", "SLOW", "ONE", "WAY",
    "24", "100", "2016", "7", "55", "A1", "B12",
)

#: Text fonts bundled with matplotlib (DejaVu, STIX, Computer Modern): the same files on every machine.
MATPLOTLIB_FONTS = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf", "DejaVuSansMono-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf",
    "cmr10.ttf", "cmb10.ttf", "cmss10.ttf", "cmti10.ttf", "cmtt10.ttf",
)
#: Folders of the Debian font packages fonts-dejavu, fonts-liberation2, fonts-freefont-ttf.
SYSTEM_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation2",
                    "/usr/share/fonts/truetype/freefont")

#: scikit-image samples without legible text (``page``, ``text``, ``coins``, ``astronaut`` are left out).
SKIMAGE_TEXT_FREE = ("chelsea", "coffee", "rocket", "camera", "brick", "grass", "gravel",
                     "immunohistochemistry", "hubble_deep_field")
#: foolbox ImageNet samples showing text (a bottle cap with a brand name), left out.
IMAGENET_WITH_TEXT = ("imagenet_09_455.jpg",)
#: Every ``TEST_EVERY``-th photo of the pool is reserved for the test split.
TEST_EVERY = 4


def font_files(source: str = "matplotlib") -> list[Path]:
    """TrueType fonts to draw words with.

    ``"matplotlib"``: :data:`MATPLOTLIB_FONTS` (identical on every machine, so generated images are
    too); ``"system"``: every ``.ttf`` in :data:`SYSTEM_FONT_DIRS`; ``"auto"``: system fonts when any
    are installed, else matplotlib's.
    """
    bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    if source == "matplotlib":
        return [bundled / name for name in MATPLOTLIB_FONTS]
    if source not in ("system", "auto"):
        raise CamlibError(f"font source must be 'matplotlib', 'system' or 'auto', got {source!r}")
    found = sorted(p for d in SYSTEM_FONT_DIRS for p in Path(d).glob("*.ttf"))
    if found or source == "system":
        if not found:
            raise CamlibError(f"no .ttf fonts in {', '.join(SYSTEM_FONT_DIRS)}; "
                              "`apt-get install fonts-dejavu fonts-liberation2 fonts-freefont-ttf` or use 'matplotlib'")
        return found
    return [bundled / name for name in MATPLOTLIB_FONTS]


def photo_pool() -> dict[str, np.ndarray]:
    """Text-free real photographs by name, uint8 (H, W, 3): scikit-image samples, foolbox ImageNet
    samples and opencv-doc photos (fetched on first use)."""
    photos = {}
    for name in SKIMAGE_TEXT_FREE:
        image = getattr(skdata, name)()
        photos[f"skimage/{name}"] = np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image[:, :, :3]
    for path, _ in imagenet_samples():
        if path.name not in IMAGENET_WITH_TEXT:
            photos[f"imagenet/{path.name}"] = np.asarray(load_image(path))
    for path in text_free_photos():
        photos[f"opencv-doc/{path.name}"] = np.asarray(load_image(path))
    return {name: np.ascontiguousarray(p, dtype=np.uint8) for name, p in photos.items()}


def split_photos(photos: dict[str, np.ndarray], split: str) -> list[np.ndarray]:
    """The photos a split draws from: every :data:`TEST_EVERY`-th (in name order) for ``test``, the rest for ``train``."""
    if split not in SPLITS:
        raise CamlibError(f"split must be one of {SPLITS}, got {split!r}")
    names = sorted(photos)
    return [photos[n] for i, n in enumerate(names) if (i % TEST_EVERY == 0) == (split == "test")]


@dataclass(frozen=True)
class TextSceneSpec:
    """What determines a generated text data set. Sizes in pixels; ``angle`` in degrees (+-)."""

    size: int = 224
    n_train: int = 400
    n_test: int = 200
    positive_fraction: float = 0.5
    words: tuple[int, int] = (1, 3)
    font_size: tuple[int, int] = (16, 44)
    angle: float = 25.0
    clutter: tuple[int, int] = (2, 6)
    plate_probability: float = 0.4
    outline_probability: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("words", "font_size", "clutter"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi:
                raise CamlibError(f"{name} must be a range (min, max) with 0 <= min <= max, got {(lo, hi)}")
            object.__setattr__(self, name, (int(lo), int(hi)))
        if self.words[0] < 1 or self.font_size[0] < 6 or self.font_size[1] > self.size // 2:
            raise CamlibError("need words >= 1 per positive and 6 <= font_size <= size / 2")
        for name in ("positive_fraction", "plate_probability", "outline_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise CamlibError(f"{name} must lie in [0, 1], got {getattr(self, name)}")

    def count(self, split: str) -> int:
        """Number of images of ``split``."""
        return {"train": self.n_train, "test": self.n_test}[split]

    def key(self) -> str:
        """A short hash of the spec and :data:`GENERATOR_VERSION` (for cache file names)."""
        return cache_key(version=GENERATOR_VERSION, spec=asdict(self))


@dataclass
class TextScenes:
    """Images with and without text and their exact ground truth.

    images uint8 (N, S, S, 3); has_text bool (N,); masks bool (N, S, S), the union of the words'
    pixels; boxes: per image float32 (M_i, 4) ``[x0, y0, x1, y1]`` (x1/y1 exclusive), one per word
    (M_i = 0 for negatives); words: per image the strings drawn; photos int (N,): the background photo each
    image is cut from (images of one photo are not independent: the unit a bootstrap resamples).
    """

    images: np.ndarray
    has_text: np.ndarray
    masks: np.ndarray
    boxes: list[np.ndarray]
    words: list[list[str]]
    photos: np.ndarray

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, index: np.ndarray) -> TextScenes:
        """The images at ``index`` (int or bool array) as a new :class:`TextScenes`."""
        index = np.flatnonzero(index) if np.asarray(index).dtype == bool else np.asarray(index)
        return TextScenes(self.images[index], self.has_text[index], self.masks[index],
                          [self.boxes[i] for i in index], [self.words[i] for i in index], self.photos[index])


@dataclass
class RenderedWord:
    """Coverages float32 (h, w) in [0, 1] on one canvas: ``fill`` the glyphs, ``paint`` the glyphs
    with their outline (equal to ``fill`` without one), ``plate`` the rotated rectangle around the word."""

    fill: np.ndarray
    paint: np.ndarray
    plate: np.ndarray


def render_word(word: str, font: Path, font_size: int, angle: float, outline: int = 0, margin: int = 4) -> RenderedWord:
    """Render ``word`` anti-aliased, rotated by ``angle`` degrees (counter-clockwise), with an
    ``outline`` px stroke and a ``margin`` px plate around it, on a canvas just large enough."""
    face = ImageFont.truetype(str(font), font_size)
    left, top, right, bottom = face.getbbox(word, stroke_width=outline)
    if right <= left or bottom <= top:
        raise CamlibError(f"font {Path(font).name} draws nothing for {word!r}")
    size = (right - left + 2 * margin, bottom - top + 2 * margin)
    origin = (margin - left, margin - top)
    layers = []
    for stroke in (0, outline):
        canvas = Image.new("L", size, 0)
        ImageDraw.Draw(canvas).text(origin, word, font=face, fill=255, stroke_width=stroke, stroke_fill=255)
        layers.append(canvas)
    layers.append(Image.new("L", size, 255))
    fill, paint, plate = (np.asarray(layer.rotate(angle, resample=Image.BICUBIC, expand=True), dtype=np.float32) / 255.0
                          for layer in layers)
    return RenderedWord(fill, paint, plate)


def random_crop(photo: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random square crop (side 35-100% of the photo's shorter side), randomly mirrored, resized to ``size``."""
    h, w = photo.shape[:2]
    side = max(8, int(min(h, w) * rng.uniform(0.35, 1.0)))
    y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = photo[y:y + side, x:x + side]
    crop = crop[:, ::-1] if rng.random() < 0.5 else crop
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(crop), (size, size), interpolation=interpolation).astype(np.float32)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def contrasting_colour(background: float, rng: np.random.Generator, gap: float = 90.0) -> np.ndarray:
    """A random RGB colour (float32 (3,), 0..255) whose luminance differs from ``background`` by >= ``gap``."""
    dark = background > 127.5
    for _ in range(100):
        colour = rng.uniform(0, 255, 3).astype(np.float32)
        target = rng.uniform(0, background - gap) if dark else rng.uniform(background + gap, 255)
        lum = float(_luminance(colour))
        colour = colour * (target / lum) if lum > 0 else np.full(3, target, np.float32)
        if colour.max() <= 255 and abs(float(_luminance(colour)) - background) >= gap:
            return colour
    return np.zeros(3, np.float32) if dark else np.full(3, 255.0, np.float32)


def draw_clutter(canvas: np.ndarray, count: int, rng: np.random.Generator) -> None:
    """Draw ``count`` random lines, rectangles and ellipses (random colours) into ``canvas`` in place."""
    size = canvas.shape[0]
    for _ in range(count):
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        kind = rng.integers(0, 3)
        p, q = rng.integers(0, size, 2), rng.integers(0, size, 2)
        thickness = int(rng.integers(1, 5)) if rng.random() < 0.6 else -1
        if kind == 0:
            cv2.line(canvas, tuple(map(int, p)), tuple(map(int, q)), colour, max(thickness, 1), cv2.LINE_AA)
        elif kind == 1:
            cv2.rectangle(canvas, tuple(map(int, p)), tuple(map(int, q)), colour, thickness, cv2.LINE_AA)
        else:
            axes = tuple(int(a) for a in rng.integers(4, size // 4, 2))
            cv2.ellipse(canvas, tuple(map(int, p)), axes, float(rng.uniform(0, 180)), 0, 360, colour, thickness, cv2.LINE_AA)


def _place(shape: tuple[int, int], size: int, taken: list[np.ndarray], rng: np.random.Generator, gap: int = 6) -> tuple[int, int] | None:
    """A top-left corner where a (h, w) patch fits inside the canvas without touching ``taken`` boxes."""
    h, w = shape
    if h >= size or w >= size:
        return None
    for _ in range(30):
        top, left = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
        if all(left + w + gap <= b[0] or b[2] + gap <= left or top + h + gap <= b[1] or b[3] + gap <= top for b in taken):
            return top, left
    return None


def _scene(photo: np.ndarray, with_text: bool, spec: TextSceneSpec, fonts: list[Path],
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """One image: (uint8 image, bool mask, boxes (M, 4), words). Negatives lay out the same
    "phantom" words (and draw their plates) but leave out the letters."""
    size = spec.size
    canvas = random_crop(photo, size, rng)
    draw_clutter(canvas, int(rng.integers(spec.clutter[0], spec.clutter[1] + 1)), rng)
    mask = np.zeros((size, size), dtype=bool)
    boxes, words, taken = [], [], []
    for _ in range(int(rng.integers(spec.words[0], spec.words[1] + 1))):
        word = str(rng.choice(VOCABULARY))
        word = word.title() if rng.random() < 0.3 else word.lower() if rng.random() < 0.2 else word
        outline = int(rng.integers(1, 3)) if rng.random() < spec.outline_probability else 0
        rendered = render_word(word, fonts[int(rng.integers(len(fonts)))],
                               int(rng.integers(spec.font_size[0], spec.font_size[1] + 1)),
                               float(rng.uniform(-spec.angle, spec.angle)), outline, int(rng.integers(3, 9)))
        spot = _place(rendered.plate.shape, size, taken, rng)
        if spot is None:
            continue
        top, left = spot
        h, w = rendered.plate.shape
        taken.append(np.array([left, top, left + w, top + h]))
        region = canvas[top:top + h, left:left + w]
        if rng.random() < spec.plate_probability:
            plate = rendered.plate[..., None]
            region *= 1 - plate
            region += plate * rng.uniform(0, 255, 3).astype(np.float32)
        on = rendered.paint >= 0.5
        if not with_text or not on.any():
            continue
        colour = contrasting_colour(float(_luminance(region[on].mean(axis=0))), rng)
        for coverage, paint in ((rendered.paint, contrasting_colour(float(_luminance(colour)), rng)), (rendered.fill, colour)):
            region *= 1 - coverage[..., None]
            region += coverage[..., None] * paint
        word_mask = np.zeros((size, size), dtype=bool)
        word_mask[top:top + h, left:left + w] = on
        mask |= word_mask
        boxes.append(mask_box(word_mask))
        words.append(word)
    if rng.random() < 0.3:
        canvas = cv2.GaussianBlur(canvas, (0, 0), float(rng.uniform(0.3, 1.0)))
    image = np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
    return image, mask, np.asarray(boxes, dtype=np.float32).reshape(-1, 4), words


def make_text_scenes(spec: TextSceneSpec, split: str, photos: list[np.ndarray], fonts: list[Path],
                     progress: bool = True) -> TextScenes:
    """Generate ``split`` of ``spec`` on crops of ``photos`` (uint8 (H, W, 3)) with ``fonts``.

    Exactly ``round(positive_fraction * count)`` images are positives (in random order); a positive
    whose words found no room is redrawn on a new background, so every positive has >= 1 word.
    """
    if not photos or not fonts:
        raise CamlibError("make_text_scenes needs at least one photo and one font")
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed).spawn(len(SPLITS))[SPLITS.index(split)])
    n = spec.count(split)
    has_text = np.zeros(n, dtype=bool)
    has_text[: round(spec.positive_fraction * n)] = True
    rng.shuffle(has_text)
    images = np.empty((n, spec.size, spec.size, 3), dtype=np.uint8)
    masks = np.zeros((n, spec.size, spec.size), dtype=bool)
    boxes, words, sources = [], [], np.empty(n, dtype=np.int64)
    for i in progress_bar(range(n), desc=f"text scenes ({split})", disable=not progress):
        for _ in range(100):
            sources[i] = int(rng.integers(len(photos)))
            image, mask, word_boxes, drawn = _scene(photos[sources[i]], bool(has_text[i]), spec, fonts, rng)
            if drawn or not has_text[i]:
                break
        else:
            raise CamlibError(f"no word fitted a {spec.size} px image in 100 tries; lower font_size {spec.font_size}")
        images[i], masks[i] = image, mask
        boxes.append(word_boxes)
        words.append(drawn)
    return TextScenes(images, has_text, masks, boxes, words, sources)


def load_text_scenes(spec: TextSceneSpec = TextSceneSpec(), fonts: str = "matplotlib") -> dict[str, TextScenes]:
    """``{"train", "test"}`` for ``spec``; the test split's backgrounds come from held-out photos."""
    photos = photo_pool()
    files = font_files(fonts)
    return {split: make_text_scenes(spec, split, split_photos(photos, split), files) for split in SPLITS}


def box_masks(boxes: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Bool masks (N, H, W) filled inside each image's boxes (for data sets that give boxes only)."""
    masks = np.zeros((len(boxes), *shape), dtype=bool)
    for mask, image_boxes in zip(masks, boxes):
        for x0, y0, x1, y1 in np.asarray(image_boxes).reshape(-1, 4).astype(int):
            mask[y0:y1, x0:x1] = True
    return masks


def scenes_from_photos(photos: list[np.ndarray], boxes: list[np.ndarray], size: int = 224) -> TextScenes:
    """Real photos (uint8 (H_i, W_i, 3)) with word boxes (M_i, 4) in their own pixels as
    :class:`TextScenes` of ``size`` x ``size`` (each photo resized, boxes scaled; masks fill the
    boxes, rounded outwards; words unknown)."""
    if len(photos) != len(boxes):
        raise CamlibError(f"got {len(photos)} photos and {len(boxes)} box arrays")
    images = np.empty((len(photos), size, size, 3), dtype=np.uint8)
    scaled = []
    for i, (photo, photo_boxes) in enumerate(zip(photos, boxes)):
        h, w = photo.shape[:2]
        images[i] = cv2.resize(np.ascontiguousarray(photo), (size, size), interpolation=cv2.INTER_AREA)
        scaled.append((np.asarray(photo_boxes, dtype=np.float32).reshape(-1, 4) * [size / w, size / h, size / w, size / h]).astype(np.float32))
    rounded = [np.concatenate([np.floor(b[:, :2]), np.ceil(b[:, 2:])], axis=1) for b in scaled]
    return TextScenes(images, np.array([len(b) > 0 for b in scaled]), box_masks(rounded, (size, size)),
                      scaled, [[] for _ in photos], np.arange(len(photos)))
