"""The claims scorecard: recording and reading claims, and the committed page listing every chapter's rows."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from camlib.utils.errors import CamlibError, CorruptFileError
from camlib.book.scorecard import COLUMNS, chapter_titles, load_scorecard, record_claims, scorecard_rows

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = ROOT / "book" / "claims"
RECORDS = re.compile(r"""record_claims\(\s*["'](ch\d\d)["']""")


def table(verdicts, why=None):
    rows = {"claim": [f"claim {i}" for i in range(len(verdicts))], "measured": [f"{i}.0%" for i in range(len(verdicts))],
            "holds?": list(verdicts)}
    if why is not None:
        rows["why"] = why
    return pd.DataFrame(rows)


def test_rows_keep_the_printed_strings_and_fill_the_noise_sentence():
    rows = scorecard_rows("ch04", table(["yes", "no, within noise"]))
    assert list(rows.columns) == list(COLUMNS)
    assert rows["claim"].tolist() == ["claim 0", "claim 1"] and rows["measured"].tolist() == ["0.0%", "1.0%"]
    assert rows.loc[0, "why"] == "" and "noise margin" in rows.loc[1, "why"]


def test_a_failed_claim_needs_a_reason():
    with pytest.raises(CamlibError, match="why"):
        scorecard_rows("ch04", table(["no"]))
    rows = scorecard_rows("ch04", table(["no"], why=["Scale: too few images."]), why="why")
    assert rows.loc[0, "why"] == "Scale: too few images."


@pytest.mark.parametrize("bad", [dict(chapter="4"), dict(verdict="maybe"), dict(column="holds")])
def test_bad_input_is_refused_with_a_clear_message(bad):
    frame = table([bad.get("verdict", "yes")])
    with pytest.raises(CamlibError):
        scorecard_rows(bad.get("chapter", "ch01"), frame, verdict=bad.get("column", "holds?"))


def test_a_checkout_records_claims_in_its_book_folder(monkeypatch):
    from camlib.book.scorecard import claims_dir

    monkeypatch.delenv("CAMLIB_CLAIMS_DIR", raising=False)
    assert claims_dir() == Path(__file__).resolve().parents[1] / "book" / "claims"


def test_recorded_claims_read_back_in_chapter_order(tmp_path, monkeypatch):
    monkeypatch.setenv("CAMLIB_CLAIMS_DIR", str(tmp_path))
    record_claims("ch07", table(["yes"]))
    record_claims("ch03", table(["yes, within noise", "yes"]))
    card = load_scorecard()
    assert card["chapter"].tolist() == ["ch03", "ch03", "ch07"] and list(card.columns) == list(COLUMNS)


def test_a_modified_claims_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CAMLIB_CLAIMS_DIR", str(tmp_path))
    record_claims("ch03", table(["yes"]))
    path = tmp_path / "ch03.json"
    path.write_text(path.read_text().replace("claim 0", "claim X"))
    with pytest.raises(CorruptFileError, match="checksum"):
        load_scorecard()
    with pytest.raises(CamlibError, match="no chapter"):
        load_scorecard(tmp_path / "empty")


def notebook_text(path: Path) -> tuple[str, str]:
    """A notebook's code and its outputs' text (HTML unescaped)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    outputs = []
    for cell in cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            outputs.append("".join(output.get("text", "")) + "".join(data.get("text/html", "")) + "".join(data.get("text/plain", "")))
    return code, html.unescape("\n".join(outputs))


def chapters_recording() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for chapter in RECORDS.findall(notebook_text(path)[0]):
            assert chapter == f"ch{path.name[:2]}", f"{path.name} records its claims as {chapter}"
            found[chapter] = path
    return found


def test_every_chapter_with_a_claims_table_records_it_and_every_record_has_its_chapter():
    recording = chapters_recording()
    recorded = {path.stem for path in CLAIMS.glob("ch[0-9][0-9].json")}
    assert recorded == set(recording), f"claims files {sorted(recorded)} but chapters recording {sorted(recording)}"
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        code = notebook_text(path)[0]
        if "show_whole(claims" in code or "claims_table(" in code:
            assert f"ch{path.name[:2]}" in recording, f"{path.name} shows a claims table but does not record it"


def test_committed_claims_match_the_chapters_outputs():
    card = load_scorecard(CLAIMS)
    for chapter, path in chapters_recording().items():
        outputs = notebook_text(path)[1]
        for claim in card.loc[card["chapter"] == chapter, "claim"]:
            assert claim in outputs, f"{chapter}: claim {claim!r} is recorded but not shown in {path.name}'s outputs"


def test_the_scorecard_page_lists_every_recorded_row():
    card = load_scorecard(CLAIMS)
    _, outputs = notebook_text(ROOT / "book" / "scorecard.ipynb")
    titles = chapter_titles(ROOT / "notebooks")
    for row in card.itertuples():
        assert row.claim in outputs and row.measured in outputs, f"the scorecard page misses {row.chapter}: {row.claim!r}"
        assert titles[row.chapter] in outputs
    assert outputs.count("<tr") - 1 >= len(card)  # one body row per claim (plus the header row), besides the counts
