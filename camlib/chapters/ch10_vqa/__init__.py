"""Visual question answering with CAM (Sec. 4.2): a generated VQA set with exact ground truth, the
"simple baseline" (bag of words + GAP feature -> linear softmax; trained once by
``python -m camlib.commands.retrain`` and shipped), answer CAMs, pointing accuracy, and the real VQA v1
files as the full-scale path.
"""
from camlib.chapters.ch10_vqa.accuracy import accuracy_table, normalize_answer, vqa_accuracy
from camlib.chapters.ch10_vqa.answer_cam import answer_cams
from camlib.chapters.ch10_vqa.answer_figures import show_answer_cams, show_scenes
from camlib.chapters.ch10_vqa.attribute_readout import scene_probes
from camlib.chapters.ch10_vqa.bow import AnswerVocabulary, BagOfWords, tokenize
from camlib.chapters.ch10_vqa.dataset import VQASpec, VQASplit, generate_vqa, stamp_table
from camlib.chapters.ch10_vqa.model import INPUTS, SimpleBaseline, select_l2, train_simple_baseline
from camlib.chapters.ch10_vqa.pipeline import Baselines, fit_baselines
from camlib.chapters.ch10_vqa.pointing_table import pointing_frame, pointing_table
from camlib.chapters.ch10_vqa.questions import QUESTION_TYPES, Question, ask
from camlib.chapters.ch10_vqa.scene_features import scene_features
from camlib.chapters.ch10_vqa.shipped import shipped_baselines, shipped_probe_models, shipped_probes, vqa_recipes
from camlib.chapters.ch10_vqa.table import QuestionTable
from camlib.chapters.ch10_vqa.verdicts import image_gain, vqa_claims
from camlib.chapters.ch10_vqa.vqa_v1 import ImageFiles, VQAv1Split, fit_vqa_v1, load_vqa_v1, vqa_v1_features
from camlib.data.generators.vqa_scenes import CATEGORIES, COLOURS, SceneObject, render_scene

__all__ = [
    "VQASpec", "VQASplit", "generate_vqa", "stamp_table", "QuestionTable", "Question", "ask", "QUESTION_TYPES",
    "SceneObject", "render_scene", "CATEGORIES", "COLOURS", "scene_features", "scene_probes",
    "BagOfWords", "AnswerVocabulary", "tokenize",
    "SimpleBaseline", "train_simple_baseline", "select_l2", "INPUTS", "Baselines", "fit_baselines",
    "vqa_recipes", "shipped_baselines", "shipped_probes", "shipped_probe_models",
    "answer_cams", "pointing_frame", "pointing_table",
    "vqa_accuracy", "normalize_answer", "accuracy_table", "image_gain", "vqa_claims", "show_scenes", "show_answer_cams",
    "load_vqa_v1", "VQAv1Split", "ImageFiles", "vqa_v1_features", "fit_vqa_v1",
]
