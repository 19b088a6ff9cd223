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


def test_rows_keep_the_printed_strings_and_need_no_reason_when_undecided():
    rows = scorecard_rows("ch04", table(["yes", "undecided, leans no"]))
    assert list(rows.columns) == list(COLUMNS)
    assert rows["claim"].tolist() == ["claim 0", "claim 1"] and rows["measured"].tolist() == ["0.0%", "1.0%"]
    assert rows["why"].tolist() == ["", ""]


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
    record_claims("ch03", table(["undecided, leans yes", "yes"]))
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


# -- the claim register: whose claim each row is, and whether it is testable here ------------------------------------
REGISTER = """
ch03:
  - claim: "claim 0"
    source: paper
    where: "Table 2"
    testable: "yes"
  - claim: "claim 1"
    source: book
    where: "another metric"
    testable: by construction
    reason: "it cannot fail"
"""


def card(verdicts=("yes", "undecided, leans no")):
    return scorecard_rows("ch03", table(list(verdicts)))


def test_the_register_names_each_row_and_only_the_papers_testable_rows_count():
    from camlib.book.claim_register import classify, counted, load_register

    classified = classify(card(), load_register(REGISTER))
    assert classified["source"].tolist() == ["paper", "book"]
    assert classified["testable here?"].tolist() == ["yes", "by construction: it cannot fail"]
    assert counted(classified)["claim"].tolist() == ["claim 0"]
    assert counted(classify(card(("not tested", "yes")), load_register(REGISTER))).empty  # no verdict, not counted


@pytest.mark.parametrize("change, message", [
    (('claim: "claim 1"', 'claim: "claim 9"'), "matches 0 entries"),        # a recorded row without an entry
    (('claim: "claim 1"', 'claim: "claim"'), "matches 2 entries"),          # an entry that matches two rows
    (('claim: "claim 0"', 'claim: "claim 7"'), "matches 0 entries"),
    (("source: paper", "source: reviewer"), "source must be one of"),
    (("testable: by construction", "testable: maybe"), "testable one of"),
    (('    reason: "it cannot fail"\n', ""), "reason exactly when"),
    (("where:", "wher:"), "unknown or missing fields"),
    (("ch03:", "ch03: ["), "not valid YAML"),
])
def test_a_register_that_does_not_fit_the_rows_is_refused(change, message):
    from camlib.book.claim_register import classify, load_register

    with pytest.raises(CamlibError, match=message):
        classify(card(), load_register(REGISTER.replace(*change)))


def test_a_stale_register_entry_is_refused():
    from camlib.book.claim_register import classify, load_register

    extra = REGISTER + '  - claim: "claim 2"\n    source: book\n    where: "x"\n    testable: "yes"\n'
    with pytest.raises(CamlibError, match="match no recorded claim"):
        classify(card(), load_register(extra))


def test_every_committed_claim_has_one_register_entry_and_the_page_counts_only_the_papers_testable_claims():
    from camlib.book.claim_register import classify, counted

    classified = classify(load_scorecard(CLAIMS))
    decided = counted(classified)
    paper = classified[classified["source"] == "paper"]
    assert 15 <= len(paper) < len(classified) and len(decided) <= len(paper)
    assert not paper.duplicated(["claim"]).any()
    _, outputs = notebook_text(ROOT / "book" / "scorecard.ipynb")
    assert "testable here?" in outputs and "The book's own claims" in json.loads(
        (ROOT / "book" / "scorecard.ipynb").read_text())["cells"][5]["source"][0]
    totals = re.findall(r"<th>all</th>\s*((?:<td>\d+</td>\s*)+)", outputs)
    assert totals and sum(int(v) for v in re.findall(r"\d+", totals[0])) == len(decided)
