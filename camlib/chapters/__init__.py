"""Code that exists for one chapter of the book, one module or package per chapter (``chNN_topic``).

Chapters import the library (everything in ``camlib`` outside this package); the library never
imports a chapter, and chapters never import each other: what two chapters share belongs in the
library. ``tests/test_layout.py`` checks these rules.
"""
