"""The supplement's "Additional cohorts" section: every study that is not a design's main study,
written from its design's template (manuscript/designs/<design>.md).

A template is Markdown with `$study` (the study's name, as in results/ paths and numbers.yml keys)
and `$label` (its label) placeholders; its `{{< meta $study.… >}}` shortcodes and includes are
resolved by the renderer like the rest of the supplement.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Template

HEADING = "# Additional cohorts\n\n"
INTRO = ("Each cohort below is analysed by the design of one of the published studies, with the same\n"
         "derivation, analyses and figures; its last table sets each published number beside the value of\n"
         "that design's study in the main sections and this cohort's.\n\n")


def additional_cohorts_section(studies: Mapping[str, Mapping[str, str]], templates: Mapping[str, str]) -> str:
    """The section's Markdown ('' when every study is a design's main study)."""
    if not studies:
        return ""
    parts = [HEADING, INTRO]
    for study, spec in sorted(studies.items()):
        parts.append(Template(templates[spec["template"]]).substitute(study=study, label=spec["label"]).rstrip() + "\n\n")
    return "".join(parts)
