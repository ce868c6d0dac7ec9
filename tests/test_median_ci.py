"""One interval per median: the study's convention (config <design>.median_ci) in numbers, tables and legends."""

import pandas as pd
import pytest

from nenbone.analysis import survival as sv
from nenbone.analysis.plans import curves_document, run_survival_plan
from nenbone.errors import ConfigError
from nenbone.presentation.figure_km import km_input, median_text
from nenbone.presentation.tables import survival_table

FRAME = pd.DataFrame({"months": [2.0, 3.0, 5.0, 7.0, 8.0, 11.0, 13.0, 17.0, 19.0, 23.0],
                      "dead": [True, True, False, True, True, True, False, True, True, False]})
PLAN = {"name": "os", "label": "OS", "duration": "months", "event": "dead"}


@pytest.mark.parametrize("choice", ["spss", "loglog"])
def test_the_chosen_interval_is_the_one_quoted_everywhere(choice):
    km = sv.kaplan_meier(FRAME["months"], FRAME["dead"])
    spss, loglog = (km.spss.lower, km.spss.upper), km.median_ci_loglog
    assert spss != loglog  # the two conventions differ on these data, so the test can tell them apart
    expected = spss if choice == "spss" else loglog
    numbers, curves = run_survival_plan(FRAME, PLAN, 0.95, [0, 12], median_ci=choice)
    assert (numbers["ci_lower"], numbers["ci_upper"]) == expected
    assert (numbers["ci_spss_lower"], numbers["ci_loglog_lower"]) == (spss[0], loglog[0])  # both stored
    table = survival_table([numbers], choice)
    header = {"spss": "95% CI (SPSS)", "loglog": "95% CI (log-log)"}[choice]
    assert list(table.columns) == ["Analysis", "n", "Events", "Median, months", header]
    assert table.iloc[0][header] == f"{expected[0]:.1f}–{expected[1]:.1f}"
    doc = curves_document({"os": numbers}, {"os": curves}, choice)
    assert doc["os"]["median_ci"] == choice
    legend = median_text(km_input(doc["os"]).curves[0], doc["os"]["median_ci"], "months")
    assert f"{expected[0]:.1f}–{expected[1]:.1f}" in legend and legend.endswith(
        {"spss": "SPSS)", "loglog": "log-log)"}[choice])


def test_an_unknown_convention_is_refused():
    with pytest.raises(ConfigError, match="median_ci"):
        run_survival_plan(FRAME, PLAN, 0.95, [0, 12], median_ci="plain")
