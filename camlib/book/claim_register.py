"""Whose claim each scorecard row tests, and whether this set-up can decide it.

The register (``resources/claim_register.yaml``) holds one entry per claims row a chapter records, matched
by the start of the claim's text within its chapter: ``source`` (``paper``: a claim the paper makes, counted
once, in the chapter that tests it most faithfully; ``book``: one this book adds), ``where`` (the paper's
table or section, or what the row adds) and ``testable`` (``yes``, or why not: ``scale``, ``data``, ``by
construction``, with a ``reason``). Only the paper's testable rows that were tested are counted as verdicts; the
others are limitations, shown with their verdict.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import yaml

from camlib.utils.errors import CamlibError
from camlib.utils.shipped import shipped_text

SOURCES = ("paper", "book")
TESTABLE = ("yes", "scale", "data", "by construction")
#: The columns :func:`classify` adds to a scorecard.
REGISTER_COLUMNS = ("source", "where", "testable here?")


@dataclass(frozen=True)
class ClaimEntry:
    """One entry of the register: the chapter, the start of its claim text and what it says about it."""

    chapter: str
    claim: str
    source: str
    where: str
    testable: str
    reason: str = ""

    def __post_init__(self) -> None:
        if self.source not in SOURCES or self.testable not in TESTABLE:
            raise CamlibError(f"claim register, {self.chapter} {self.claim!r}: source must be one of {SOURCES} and "
                              f"testable one of {TESTABLE}, got {self.source!r} and {self.testable!r}")
        if (self.testable == "yes") == bool(self.reason):
            raise CamlibError(f"claim register, {self.chapter} {self.claim!r}: give a reason exactly when it is not testable")

    @property
    def testable_here(self) -> str:
        """``yes`` or ``<why not>: <reason>``."""
        return self.testable if self.testable == "yes" else f"{self.testable}: {self.reason}"


def load_register(text: str | None = None) -> list[ClaimEntry]:
    """The register's entries (from ``text``, default the shipped file)."""
    try:
        data = yaml.safe_load(text if text is not None else shipped_text("claim_register.yaml"))
    except yaml.YAMLError as error:
        raise CamlibError(f"the claim register is not valid YAML ({' '.join(str(error).split())})") from None
    if not isinstance(data, dict):
        raise CamlibError("the claim register must map chapters ('ch04') to lists of entries")
    try:
        return [ClaimEntry(chapter, **entry) for chapter, entries in data.items() for entry in entries]
    except TypeError as error:
        raise CamlibError(f"a claim register entry has unknown or missing fields ({error})") from None


def classify(card: pd.DataFrame, register: list[ClaimEntry] | None = None) -> pd.DataFrame:
    """``card`` (scorecard rows) with :data:`REGISTER_COLUMNS` from the register; every row must match exactly one
    entry and every entry of a chapter on the card exactly one row, else a :class:`CamlibError` says which."""
    register = load_register() if register is None else register
    used: set[int] = set()
    added = []
    for _, row in card.iterrows():
        matches = [i for i, e in enumerate(register) if e.chapter == row["chapter"] and row["claim"].startswith(e.claim)]
        if len(matches) != 1:
            raise CamlibError(f"{row['chapter']} claim {row['claim']!r} matches {len(matches)} entries of the claim register; "
                              f"give it exactly one in camlib/resources/claim_register.yaml")
        used.update(matches)
        entry = register[matches[0]]
        added.append((entry.source, entry.where, entry.testable_here))
    stale = [f"{e.chapter} {e.claim!r}" for i, e in enumerate(register) if i not in used and e.chapter in set(card["chapter"])]
    if stale:
        raise CamlibError(f"claim register entries match no recorded claim: {', '.join(stale)}; remove or update them")
    return card.assign(**{name: [row[k] for row in added] for k, name in enumerate(REGISTER_COLUMNS)})


def counted(card: pd.DataFrame) -> pd.DataFrame:
    """The rows of a card from :func:`classify` that count as verdicts: the paper's claims this set-up can decide and
    did (a "not tested" row, whose network did not converge, is no verdict)."""
    return card[(card["source"] == "paper") & (card["testable here?"] == "yes") & (card["verdict"] != "not tested")]
