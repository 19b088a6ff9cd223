"""Generated images with exact ground truth for the pattern-discovery chapters (Sec. 4.2).

:mod:`camlib.synth.text`: words in real fonts on real photos (the weakly supervised text detector);
:mod:`camlib.synth.scenes`: Fashion-MNIST objects on real photos with captions and scene classes
(concept localization, informative objects).
"""
from .scenes import CaptionSpec, ObjectScenes, SceneClassSpec, make_captioned_scenes, make_scene_classes
from .text import TextScenes, TextSceneSpec, load_text_scenes, make_text_scenes

__all__ = [
    "TextScenes", "TextSceneSpec", "load_text_scenes", "make_text_scenes",
    "ObjectScenes", "CaptionSpec", "SceneClassSpec", "make_captioned_scenes", "make_scene_classes",
]
