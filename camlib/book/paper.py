"""The paper's published numbers, read from the one data file ``resources/paper_numbers.yaml``."""
from __future__ import annotations

from functools import lru_cache

import pandas as pd
import yaml

from camlib.utils.errors import CamlibError
from camlib.utils.shipped import shipped_text


@lru_cache(maxsize=1)
def _all_tables() -> dict:
    text = shipped_text("paper_numbers.yaml")
    return yaml.safe_load(text)


def table_names() -> list[str]:
    """The names of the stored tables."""
    return list(_all_tables())


def paper_table(name: str) -> pd.DataFrame:
    """One published table as a DataFrame whose columns are labelled ``(paper)``."""
    tables = _all_tables()
    if name not in tables:
        raise CamlibError(f"no paper table {name!r}; available: {', '.join(tables)}")
    spec = tables[name]
    frame = pd.DataFrame.from_dict(spec["rows"], orient="index", columns=spec["columns"])
    frame.index.name = spec["caption"]
    return frame


def side_by_side(ours: pd.DataFrame, paper: pd.DataFrame, rows: dict[str, str] | None = None) -> pd.DataFrame:
    """Join our measured table with the paper's: columns ``<col> (ours)`` and ``<col> (paper)``.

    ``rows`` maps our row names to the paper's (rows without a counterpart show NaN for the paper).
    """
    rows = rows or {}
    paper_rows = paper.reindex([rows.get(r, r) for r in ours.index])
    paper_rows.index = ours.index
    out = pd.DataFrame(index=ours.index)
    for col in ours.columns:
        out[f"{col} (ours)"] = ours[col]
        if col in paper.columns:
            out[f"{col} (paper)"] = paper_rows[col]
    if rows:
        out.insert(0, "paper row", [rows.get(r, "") for r in ours.index])
    return out
