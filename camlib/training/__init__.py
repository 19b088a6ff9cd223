"""Training classifiers, the paper's fine-tuned conversion, and the shipped checkpoints the chapters read."""
