"""The book's claims scorecard: each chapter records its claims table, one page lists them all.

A chapter calls :func:`record_claims` on the claims table it shows; the rows are written (atomically,
with a checksum) to ``<claims dir>/<chapter>.json``, and :func:`load_scorecard` reads every chapter's
file back (verified) for the scorecard page. The claims directory is ``$CAMLIB_CLAIMS_DIR`` when set,
else ``book/claims`` of the checkout camlib runs from, else ``<data root>/claims``. Rows are stored as
the strings the chapter printed, so the page and the notebooks cannot disagree.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd

from camlib.utils.cache import atomic_write_bytes, read_verified_bytes
from camlib.book.claims import VERDICT_COLUMN, VERDICTS
from camlib.data.assets.paths import data_root
from camlib.utils.shipped import PACKAGE_DIR
from camlib.utils.errors import CamlibError, CorruptFileError

#: The scorecard's columns, in order.
COLUMNS = ("chapter", "claim", "paper", "measured", "verdict", "why")
#: Verdicts a claims row may carry besides :data:`~camlib.book.claims.VERDICTS` (a claim not testable at this scale).
OTHER_VERDICTS = ("not tested",)
_CHAPTER = re.compile(r"^ch\d{2}$")


def claims_dir() -> Path:
    """Where chapters record their claims (see the module docstring)."""
    if os.environ.get("CAMLIB_CLAIMS_DIR"):
        return Path(os.environ["CAMLIB_CLAIMS_DIR"])
    checkout = PACKAGE_DIR.parent
    if (checkout / "_toc.yml").is_file() and (checkout / "book").is_dir():
        return checkout / "book" / "claims"
    return data_root() / "claims"


def _row_why(verdict: str, why: str) -> str:
    if why:
        return why
    if verdict == "no":
        raise CamlibError("a claim that does not hold needs a one-sentence 'why' (set-up, scale, metric or the method)")
    return ""


def scorecard_rows(chapter: str, table: pd.DataFrame, *, claim: str = "claim", measured: str = "measured",
                   verdict: str = VERDICT_COLUMN, paper: str | None = None, why: str | None = None) -> pd.DataFrame:
    """``table``'s claims as scorecard rows (:data:`COLUMNS`), the named columns read as strings.

    ``paper`` and ``why`` name optional columns (the paper's evidence; why a claim failed). A "no" row must carry
    a 'why'; an undecided row needs none (its verdict says the test could not tell).
    """
    if not _CHAPTER.match(chapter):
        raise CamlibError(f"chapter is 'chNN' (e.g. 'ch04'), got {chapter!r}")
    names = [name for name in (claim, measured, verdict, paper, why) if name is not None]
    missing = [name for name in names if name not in table.columns]
    if missing:
        raise CamlibError(f"the claims table has no column(s) {missing}; its columns are {list(table.columns)}")
    rows = []
    for _, row in table.iterrows():
        judged = str(row[verdict])
        if judged not in VERDICTS + OTHER_VERDICTS:
            raise CamlibError(f"verdict {judged!r} of claim {row[claim]!r} is not one of {VERDICTS + OTHER_VERDICTS}")
        reason = "" if why is None or pd.isna(row[why]) else str(row[why])
        rows.append({"chapter": chapter, "claim": str(row[claim]), "paper": "" if paper is None else str(row[paper]),
                     "measured": str(row[measured]), "verdict": judged, "why": _row_why(judged, reason)})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def record_claims(chapter: str, table: pd.DataFrame, **columns: str | None) -> pd.DataFrame:
    """Write ``table``'s claims (see :func:`scorecard_rows` for ``columns``) to ``<claims dir>/<chapter>.json``
    and return the rows written."""
    rows = scorecard_rows(chapter, table, **columns)
    data = json.dumps(rows.to_dict(orient="records"), indent=1, ensure_ascii=False, sort_keys=True).encode()
    atomic_write_bytes(claims_dir() / f"{chapter}.json", data + b"\n")
    return rows


def chapter_titles(notebooks: str | Path) -> dict[str, str]:
    """``{"ch04": "4. Trained localization networks", ...}`` from the first heading of each ``NN_*.ipynb`` in ``notebooks``."""
    titles = {}
    for path in sorted(Path(notebooks).glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        heading = next(("".join(c["source"]).splitlines()[0] for c in cells if c["cell_type"] == "markdown" and c["source"]), "")
        titles[f"ch{path.name[:2]}"] = heading.lstrip("# ").strip() or path.stem
    return titles


def styled(card: pd.DataFrame, titles: dict[str, str] | None = None):
    """The scorecard as a pandas Styler: chapters by title, each verdict cell coloured by
    :data:`camlib.book.figures.VERDICT_COLOURS`, no cell cut short."""
    from camlib.book.figures import VERDICT_COLOURS

    shown = card.assign(chapter=card["chapter"].map(lambda c: (titles or {}).get(c, c)))
    return (shown.style.hide(axis="index")
            .map(lambda v: f"background-color: {VERDICT_COLOURS.get(v, 'white')}", subset=["verdict"])
            .set_properties(**{"text-align": "left", "vertical-align": "top"}))


def load_scorecard(directory: str | Path | None = None) -> pd.DataFrame:
    """Every recorded chapter's claims, chapter by chapter, as one table of :data:`COLUMNS` (files verified)."""
    folder = Path(directory) if directory is not None else claims_dir()
    files = sorted(path for path in folder.glob("ch[0-9][0-9].json")) if folder.is_dir() else []
    if not files:
        raise CamlibError(f"no chapter has recorded its claims in {folder}; run the chapters first (make book)")
    frames = []
    for path in files:
        try:
            records = json.loads(read_verified_bytes(path))
        except (ValueError, UnicodeDecodeError) as error:
            raise CorruptFileError(f"{path} is not a claims file ({error}); delete it and re-run its chapter") from error
        frame = pd.DataFrame(records)
        if list(frame.columns) != sorted(COLUMNS) or (frame["chapter"] != path.stem).any():
            raise CorruptFileError(f"{path} does not hold {path.stem}'s claims in columns {COLUMNS}; re-run its chapter")
        frames.append(frame[list(COLUMNS)])
    return pd.concat(frames, ignore_index=True)
