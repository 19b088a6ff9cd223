"""Visual question answering with CAM (Sec. 4.2): a generated VQA set with exact ground truth, the
"simple baseline" (bag of words + GAP feature -> linear softmax), answer CAMs, pointing accuracy,
and the real VQA v1 files as the full-scale path.
"""
from .accuracy import accuracy_table, normalize_answer, vqa_accuracy
from .answer_cam import answer_cams
from .bow import AnswerVocabulary, BagOfWords, tokenize
from .claims import beats, image_gain, vqa_claims
from .dataset import VQASpec, VQASplit, generate_vqa
from .features import scene_features
from .figures import show_answer_cams, show_scenes
from .model import INPUTS, SimpleBaseline, select_l2, train_simple_baseline
from .pipeline import Baselines, fit_baselines
from .pointing import centre_hits, near_mask, peak_points, pointing_hits, pointing_table, random_hit_rates
from .probe import scene_probes
from .questions import QUESTION_TYPES, Question, ask
from .scenes import CATEGORIES, COLOURS, SceneObject, render_scene
from .table import QuestionTable
from .vqa_v1 import ImageFiles, VQAv1Split, fit_vqa_v1, load_vqa_v1, vqa_v1_features

__all__ = [
    "VQASpec", "VQASplit", "generate_vqa", "QuestionTable", "Question", "ask", "QUESTION_TYPES",
    "SceneObject", "render_scene", "CATEGORIES", "COLOURS", "scene_features", "scene_probes",
    "BagOfWords", "AnswerVocabulary", "tokenize",
    "SimpleBaseline", "train_simple_baseline", "select_l2", "INPUTS", "Baselines", "fit_baselines",
    "answer_cams", "peak_points", "pointing_hits", "centre_hits", "random_hit_rates", "near_mask", "pointing_table",
    "vqa_accuracy", "normalize_answer", "accuracy_table", "beats", "image_gain", "vqa_claims", "show_scenes", "show_answer_cams",
    "load_vqa_v1", "VQAv1Split", "ImageFiles", "vqa_v1_features", "fit_vqa_v1",
]
