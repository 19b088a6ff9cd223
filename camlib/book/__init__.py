"""What exists only for the book: the paper's numbers and tables, claims and their verdicts, the scorecard, chapter set-up, book figures.

The library never imports it; chapters do."""
