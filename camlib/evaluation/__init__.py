"""Scoring maps and boxes over a test set: evaluation batches, one pass for every number of Tables 1-3, the pointing game."""
