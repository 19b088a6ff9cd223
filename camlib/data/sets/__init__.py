"""Data sets read from disk: ILSVRC, CUB-200-2011, the hand-boxed real photos, scene text, and in-memory localization splits."""
