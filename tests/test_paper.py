"""The paper's numbers come from one data file, labelled paper."""
from __future__ import annotations

import pandas as pd
import pytest

from camlib import CamlibError
from camlib.book.paper import paper_table, side_by_side, table_names


def test_tables_load():
    assert "table1_classification_error" in table_names()
    t2 = paper_table("table2_localization_error")
    assert t2.loc["GoogLeNet-GAP", "top5"] == 43.00
    assert list(paper_table("table5_deep_features").columns)[0] == "SUN397"


def test_side_by_side_labels_paper_columns():
    ours = pd.DataFrame({"top1": [40.0]}, index=["our GAP"])
    both = side_by_side(ours, paper_table("table1_classification_error"), rows={"our GAP": "GoogLeNet-GAP"})
    assert list(both.columns) == ["paper row", "top1 (ours)", "top1 (paper)"]
    assert both.loc["our GAP", "top1 (paper)"] == 35.0


def test_unknown_table():
    with pytest.raises(CamlibError, match="available"):
        paper_table("table9")
