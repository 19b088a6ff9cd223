"""Chapter 8 (Sec. 4.3, concept localization): concepts learned from captions alone, localized by
their probes' CAMs in scenes whose objects are known exactly.

The scenes (:mod:`camlib.data.generators.object_scenes`) are captioned (:mod:`.captions`); phrases mined from
the captions are the concepts, each read back to the scene objects it describes (:mod:`.phrases`); a probe per
concept is trained on caption positives and negatives and scored on the scenes (:mod:`.probes`).
"""
from camlib.chapters.ch08_concepts.captions import (CaptionSpec, caption_for, make_captions, neighbours, side_word,
                                                    with_article)
from camlib.chapters.ch08_concepts.phrases import clause_tokens, concept_kind, concept_objects, mine_phrases, phrase_in
from camlib.chapters.ch08_concepts.probes import concept_negatives, concept_probe, concept_scores

__all__ = [
    "CaptionSpec", "neighbours", "side_word", "with_article", "caption_for", "make_captions",
    "clause_tokens", "phrase_in", "mine_phrases", "concept_kind", "concept_objects",
    "concept_negatives", "concept_probe", "concept_scores",
]
