"""Every figure, as pure functions: analysis results + style -> Figure; one module per figure family
(figure_base, figure_km, figure_flow, figure_bars, figure_matching, figure_schoenfeld), all re-exported here.

No file is read here and no statistic is estimated here: Kaplan-Meier curves (with their band,
numbers at risk, medians and log-rank p) come from the analysis rules' curves documents, flow
counts from the attrition documents of the derivation and match rules, matching results as the
frames the `match` rule writes. Each `plot_*` function returns a matplotlib `Figure` built without pyplot (no global
state); `save_figure` writes it as PNG (web) and PDF (print), byte-identical on every rerun.

Nothing that could identify a patient is ever drawn: no IDs, no dates, no row-level labels; only
counts, percentages, curves and model estimates.
"""

from __future__ import annotations

from nenbone.presentation.figure_bars import *  # noqa: F403
from nenbone.presentation.figure_base import *  # noqa: F403
from nenbone.presentation.figure_base import format_number, layout_problems, save_figure  # noqa: F401
from nenbone.presentation.figure_flow import *  # noqa: F403
from nenbone.presentation.figure_km import *  # noqa: F403
from nenbone.presentation.figure_matching import *  # noqa: F403
from nenbone.presentation.figure_schoenfeld import *  # noqa: F403
from nenbone.formatting import count_text  # noqa: F401
