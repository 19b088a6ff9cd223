"""The book's one noise rule for claims, with hand-computed margins."""
import math

import numpy as np
import pandas as pd
import pytest

from camlib.book.claims import VERDICTS, higher, lower, margin, rate_claim, sign_claim, similar, tenths
from camlib.utils.errors import CamlibError


def test_margin_is_two_standard_errors_of_the_difference():
    assert margin(60.0, 50.0, 1000) == pytest.approx(2 * math.sqrt((60 * 40 + 50 * 50) / 1000))  # 4.43
    assert margin(0.0, 100.0, 10) == 0.0


def test_verdicts_beyond_and_within_the_margin():
    assert higher(60.0, 50.0, 1000) == "yes"
    assert higher(52.0, 50.0, 1000) == "undecided, leans yes"
    assert higher(50.0, 52.0, 1000) == "undecided, leans no"
    assert higher(40.0, 60.0, 1000) == "no"
    assert higher(50.0, 50.0, 1000) == "undecided"                  # a tie leans nowhere
    assert [tenths(v) for v in (-0.0, -0.04, 0.04, -0.06, 1.25)] == ["0.0", "0.0", "0.0", "-0.1", "1.2"]
    assert higher(50.04, 50.0, 1000) == "undecided" and higher(50.06, 50.0, 1000) == "undecided, leans yes"  # 0.0 printed
    assert lower(40.0, 60.0, 1000) == "yes" and lower(60.0, 40.0, 1000) == "no"
    assert {higher(a, b, 100) for a in (10.0, 50.0, 90.0) for b in (10.0, 50.0, 90.0)} <= set(VERDICTS)


def test_similar_holds_inside_the_margin():
    assert similar(50.0, 52.0, 1000) == "yes"
    assert similar(50.0, 60.0, 1000) == "no"


def test_rate_and_sign_claims():
    row = rate_claim("c", 40.0, 100 * 3 / 36, 100)
    assert row["holds?"] == "yes" and row["measured"] == "40.0% vs chance 8.3% (n=100)"
    assert sign_claim("c", pd.Series([5.0, 6.0]), pd.Series([1.0, 1.0]))["holds?"] == "undecided, leans yes"  # p = 0.5
    row = sign_claim("c", pd.Series([5.0] * 9 + [0.0]), pd.Series([1.0] * 10))
    assert row["holds?"] == "yes" and "higher in 9 of 10, lower in 1" in row["measured"]  # p = 2 x 11/1024
    assert "p=0.021" in row["measured"]
    # two-sided: 11 of 14 is p = 2 x 0.0287 = 0.057, within noise; 1 of 8 the other way is p = 2 x 9/256 = 0.070
    assert sign_claim("c", [1.0] * 11 + [0.0] * 3, [0.5] * 14)["holds?"] == "undecided, leans yes"
    assert sign_claim("c", [1.0] + [0.0] * 7, [0.5] * 8)["holds?"] == "undecided, leans no"
    assert sign_claim("c", [0.0] * 8, [0.5] * 8)["holds?"] == "no"  # p = 2 / 256
    assert sign_claim("c", [1.0, 1.0], [1.0, 1.0])["holds?"] == "undecided"  # ties only: nothing to tell
    assert sign_claim("c", [1.0, 0.0], [0.5, 0.5])["holds?"] == "undecided"  # one win, one loss: no majority


@pytest.mark.parametrize("args", [(50.0, 50.0, 0), (120.0, 50.0, 10), (-1.0, 50.0, 10)])
def test_bad_rates_or_counts_say_what_is_wrong(args):
    with pytest.raises(CamlibError, match="trial|percentages"):
        margin(*args)


def test_sign_claim_needs_paired_values():
    with pytest.raises(CamlibError, match="equally long"):
        sign_claim("c", [1.0, 2.0], [1.0])


def test_interval_verdicts():
    from camlib.book.claims import interval_verdict

    assert interval_verdict(3.0, 1.0, 5.0) == "yes"
    assert interval_verdict(-3.0, -5.0, -1.0) == "no"
    assert interval_verdict(1.0, -1.0, 3.0) == "undecided, leans yes"
    assert interval_verdict(-1.0, -3.0, 1.0) == "undecided, leans no"
    assert interval_verdict(0.0, -1.0, 1.0) == interval_verdict(-0.0, -1.0, 1.0) == "undecided"
    assert interval_verdict(-0.04, -1.0, 1.0) == "undecided" and interval_verdict(-0.06, -1.0, 1.0) == "undecided, leans no"
    assert interval_verdict(-0.5, 0.2, 1.0) == "undecided, leans no"  # a percentile interval that misses its estimate is widened


def test_contain_widens_an_interval_to_its_estimate():
    from camlib.book.claims import contain

    assert contain(4.0, 0.0, 1.0) == (0.0, 4.0) and contain(-1.0, 0.0, 1.0) == (-1.0, 1.0)
    assert contain(0.5, 0.0, 1.0) == (0.0, 1.0) and str(contain(-0.0, -0.0, 0.0)[0]) == "0.0"  # no "-0.0"


@pytest.mark.parametrize("difference, low, high, expected", [
    (0.5, -1.0, 1.5, "yes"),               # the whole interval inside +-2: equivalence shown
    (1.0, -3.0, 5.0, "undecided, leans yes"),  # the estimate inside, the interval not
    (3.0, -1.0, 6.0, "undecided, leans no"),   # the estimate outside, the interval reaches inside
    (4.0, 2.5, 6.0, "no"),                  # the whole interval beyond the margin
    (-4.0, -6.0, -2.5, "no"),
])
def test_equivalence_is_judged_against_a_stated_margin(difference, low, high, expected):
    from camlib.book.claims import equivalence_verdict

    assert equivalence_verdict(difference, low, high, margin=2.0) == expected


def test_equivalence_needs_a_positive_margin_and_widens_the_interval():
    from camlib.book.claims import equivalence_verdict

    with pytest.raises(CamlibError, match="margin"):
        equivalence_verdict(0.0, -1.0, 1.0, margin=0.0)
    assert equivalence_verdict(3.0, -1.0, 1.0, margin=2.0) == "undecided, leans no"  # widened to [-1, 3]


def test_paired_gain_claims_resample_units_and_print_the_detectable_effect():
    from camlib.book.claims import paired_gain_claim

    hits = np.repeat([1.0, 0.0], 50)  # right on every image of unit 0, wrong on unit 1's
    better, worse = (lambda rows: 100.0 * hits[rows].mean()), (lambda rows: 0.0)
    naive = paired_gain_claim("c", "p", better, worse, 100, resamples=200)
    clustered = paired_gain_claim("c", "p", better, worse, 100, units=np.repeat([0, 1], 50), unit_name="birds", resamples=200)
    assert naive["holds?"] == "yes" and clustered["holds?"] == "undecided, leans yes"
    # two units: a draw holds unit 0 twice, once or never, so the gain's interval is [0, 100] and the effect the test
    # can detect is (1.96 + 0.84) standard errors of 100 / 3.92 each
    assert clustered["measured"] == "50.0 vs 0.0; gain 50.0 [0.0, 100.0] (n=100 of 2 birds; detectable 71.4)"
    errors = paired_gain_claim("c", "p", worse, better, 100, lower_is_better=True, resamples=200)  # 0% vs 50% error
    assert errors["holds?"] == "yes" and errors["measured"].startswith("0.0 vs 50.0; gain 50.0")
    with pytest.raises(CamlibError, match="one unit per image"):
        paired_gain_claim("c", "p", better, worse, 100, units=np.zeros(3))


def test_a_claims_table_shows_its_reasons_as_numbered_notes_below(capsys):
    from camlib.book.notebook import show_claims

    table = pd.DataFrame({"claim": ["a", "b", "c"], "measured": ["1", "2", "3"], "holds?": ["yes", "no", "undecided, leans no"],
                          "why": ["", "Scale: too few objects.", None], "paper": ["x", "y", "z"]}).set_index("claim")
    show_claims(table, hide=("paper",))
    out = capsys.readouterr().out
    assert "(1) Scale: too few objects." in out and "(2)" not in out and "paper" not in out and "note" in out
