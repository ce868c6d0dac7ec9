"""results/numbers.yml: every number the supplement quotes, formatted once, from analysis outputs.

The file has the formatted values under each study's key (what the text shows), after disclosure
control when `disclosure.min_cell_count` is set; it holds no raw values. How a value is printed follows from
its key's name, so one rule serves every table and sentence:

- counts (`n`, `n_*`, `*_n`, `events`, `count_*`): whole numbers;
- percentages (`pct`, `*_pct`): whole percent with a % sign, rounded half up as journals print;
- p-values (`p`, `*_p`, `p_*`): two significant digits, "< 0.001" below, never rounded across 0.05;
- the limits `lower`/`upper` beside an `hr`: the hazard ratio's two decimals;
- quantiles beside `integer_valued: true`: whole when integral ("2 (range 1-10)");
- hazard ratios, test statistics and SMDs (`hr`, `*_hr`, `chi2`, `smd*`, `z`): two decimals;
- everything else numeric (medians, quartiles, CI limits, months): one decimal;
- `None` where a median or a CI limit is not reached: "not reached".
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from nenbone.formatting import NOT_REACHED, p_text, quantile_text, round_half_up
from nenbone.presentation import disclosure as dc

COUNT_KEYS = frozenset({"n", "events", "count_min", "count_max", "df"})
TWO_DP_KEYS = frozenset({"hr", "chi2", "z", "smd", "coef", "caliper_logit", "sd_logit"})


def _is_count(key: str) -> bool:
    return key in COUNT_KEYS or key.startswith("n_") or key.endswith("_n")


def _is_pct(key: str) -> bool:
    return key == "pct" or key.endswith("_pct")


def _is_p(key: str) -> bool:
    return key == "p" or key.endswith("_p") or key.startswith("p_")


def _is_two_dp(key: str) -> bool:
    return key in TWO_DP_KEYS or key.endswith("_hr") or "smd" in key or key.endswith("_chi2")


def format_value(key: str, value: Any) -> str:
    """The text a number is printed as, chosen by its key's name."""
    if value is None:
        return NOT_REACHED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if _is_count(key):
        return str(int(round_half_up(value, 0)))
    if _is_pct(key):
        return f"{round_half_up(value, 0)}%"
    if _is_p(key):
        return p_text(float(value))
    if _is_two_dp(key):
        return str(round_half_up(value, 2))
    if isinstance(value, int):
        return str(value)
    return str(round_half_up(value, 1))


def _is_extreme(key: str) -> bool:
    """A minimum or maximum (one patient's value): hidden under disclosure control."""
    return key in ("min", "max") or key.endswith(("_min", "_max"))


def _int_count(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _hidden_counts(tree: dict[str, Any], k: int, all_counts: bool = False) -> dict[str, bool]:
    """Which count leaves of one node to hide: small ones and, where the node holds a count and
    its denominator (`n` with `denominator_n`, `events` with `n`), the one that gives a hidden one away."""
    hidden = {key: (all_counts or _is_count(key)) and _int_count(v) and dc.is_small(v, k) for key, v in tree.items()}
    for part, whole in (("n", "denominator_n"), ("events", "n"), ("n", "n_selected")):
        if _int_count(tree.get(part)) and _int_count(tree.get(whole)):
            cells = [int(tree[part]), int(tree[whole]) - int(tree[part])]
            if dc.protect_cells(cells, k, shown=[True, False])[0]:
                hidden[part] = True
                if whole == "n_selected" and "events" in tree:  # a curve's hidden size: its events too (as the figure)
                    hidden["events"] = True
    # a variable's known values and its missing ones add up to the cohort's n, printed elsewhere
    if _int_count(tree.get("n")) and _int_count(tree.get("n_missing")):
        known, missing = dc.protect_cells([int(tree["n"]), int(tree["n_missing"])], k)
        hidden["n"] = hidden.get("n", False) or known
        hidden["n_missing"] = hidden.get("n_missing", False) or missing
    return hidden


def _category_group(tree: dict[str, Any]) -> list[str]:
    """Children that are the levels of one variable ({n, pct} each): their counts add up to a known total."""
    levels = [key for key, v in tree.items() if isinstance(v, dict) and set(v) == {"n", "pct"} and _int_count(v["n"])]
    return levels if len(levels) >= 2 else []


def _hidden_curves(tree: dict[str, Any], k: int) -> dict[str, bool]:
    """The Kaplan-Meier curves of one plan split by group ({n, events, ...} children beside the plan's
    `n_selected`): their n and the unprinted remainder add up to the selection."""
    if not _int_count(tree.get("n_selected")):
        return {}
    curves = [key for key, v in tree.items() if isinstance(v, dict) and _int_count(v.get("n")) and "events" in v]
    if not curves:
        return {}
    sizes = [int(tree[c]["n"]) for c in curves]
    cells = [*sizes, int(tree["n_selected"]) - sum(sizes)]
    return dict(zip(curves, dc.protect_cells(cells, k, shown=[True] * len(curves) + [False])))


AT_RISK_KEY = "at_risk"  # a node of numbers at risk by time: every leaf is a count
SURVIVAL_AT_KEY = "survival_at"  # survival at chosen times: {m12: {pct, lower_pct, upper_pct, n_at_risk}}
# what a median-bearing node (a variable's median (IQR), a Kaplan-Meier curve) summarises of its n patients
SUMMARY_KEYS = frozenset({"median", "q1", "q3", "median_midpoint", "ci_lower", "ci_upper", "ci_loglog_lower",
                          "ci_loglog_upper", "ci_spss_lower", "ci_spss_upper", "se_spss"})
SUMMARY_NODES = frozenset({"followup", SURVIVAL_AT_KEY})  # a curve's follow-up and survival at times


def _time_of(key: str) -> float:
    """'t12' / 'm12' -> 12.0 (the numbers' keys of a time in months)."""
    return float(key[1:])


def _at_risk_texts(tree: dict[str, Any], k: int, size_hidden: bool, joint: Collection[float] = ()) -> dict[str, str]:
    """A curve's numbers at risk as printed, by key, after disclosure.at_risk_hidden over the whole grid
    (as the Kaplan-Meier figure prints them); values equal to a hidden curve size, and the times the
    study's register hides in the curve's family (`joint`, protection.at_risk_register), are hidden first."""
    from nenbone.presentation.protection import curve_start_hidden

    at_risk = tree[AT_RISK_KEY]
    keys = sorted(at_risk, key=_time_of)
    counts = [int(at_risk[key]) for key in keys]
    start = curve_start_hidden(counts, tree.get("n"), size_hidden, [_time_of(key) for key in keys], joint, k)
    return dict(zip(keys, dc.at_risk_texts(counts, k, start_hidden=start)))


def _set_at_risk(out: dict[str, Any], tree: dict[str, Any], k: int, size_hidden: bool,
                 joint: Collection[float] = ()) -> None:
    """A formatted curve's numbers at risk (`_at_risk_texts`) and, beside its survival at times, the same
    number as the grid prints."""
    out[AT_RISK_KEY] = _at_risk_texts(tree, k, size_hidden, joint)
    grid = {_time_of(key): text for key, text in out[AT_RISK_KEY].items()}
    for key, node in (out.get(SURVIVAL_AT_KEY) or {}).items():
        if isinstance(node, dict) and "n_at_risk" in node:
            node["n_at_risk"] = grid.get(_time_of(key), dc.SUPPRESSED_PCT)


def _hide_leaves(tree: Any) -> Any:
    """Every leaf of a formatted subtree as 'suppressed'."""
    if isinstance(tree, dict):
        return {key: _hide_leaves(v) for key, v in tree.items()}
    return dc.SUPPRESSED_VALUE


def format_tree(tree: dict[str, Any], min_cell_count: int = 0, all_counts: bool = False,
                size_hidden: bool = False) -> dict[str, Any]:
    """Same nesting as the raw tree, every leaf formatted; lists become lists of formatted leaves.

    With `min_cell_count` (disclosure control, nenbone.presentation.disclosure): a count from 1 to
    k - 1 prints as "<k", a count that would give one away by subtraction (from its denominator,
    or among the levels of one variable) as "suppressed", the percentages beside a hidden count as
    "–", and minima and maxima as "suppressed". A node with both a minimum and a maximum also gets
    `range` ("1–10", or "suppressed" as a whole). Under `at_risk` every leaf is a count; numbers at
    risk that would differ from the last printed one by 1 to k - 1 print "–" (disclosure.at_risk_hidden),
    as does one equal to a hidden curve size (`size_hidden`); `survival_at` prints a number at risk only
    where the grid prints the same one. A median (its quartiles, CI, the curve's follow-up and survival
    at times) of fewer than k patients prints "suppressed" (disclosure.summary_shown).
    """
    k = min_cell_count
    out: dict[str, Any] = {}
    hidden = _hidden_counts(tree, k, all_counts)
    hide_pct = any(hidden.values())
    levels = _category_group(tree)
    level_hidden = dict(zip(levels, dc.protect_cells([int(tree[lv]["n"]) for lv in levels], k))) if levels else {}
    level_hidden.update(_hidden_curves(tree, k))
    for key, value in tree.items():
        if isinstance(value, dict):
            out[key] = format_tree(value, k, all_counts=(key == AT_RISK_KEY), size_hidden=bool(level_hidden.get(key)))
            if level_hidden.get(key):
                out[key]["n"] = dc.hidden_text(int(value["n"]), k)
                for extra in ("pct", "events"):
                    if extra in value:
                        out[key][extra] = dc.hidden_text(int(value[extra]), k) if extra == "events" else dc.SUPPRESSED_PCT
        elif (_int_count(value) and _sibling_rule(tree, key) is not None and not hidden.get(key)
              and not (hide_pct and _is_pct(key)) and not (_is_extreme(key) and not dc.extreme_shown(k))):
            out[key] = _sibling_rule(tree, key)(value)  # type: ignore[misc]
        elif isinstance(value, list):
            out[key] = [format_tree(v, k) if isinstance(v, dict) else format_value(key, v) for v in value]
        elif hidden.get(key):
            out[key] = dc.hidden_text(int(value), k)
        elif all_counts and _int_count(value):
            out[key] = str(int(round_half_up(value, 0)))
        elif hide_pct and _is_pct(key):
            out[key] = dc.SUPPRESSED_PCT
        elif _is_extreme(key) and value is not None and not dc.extreme_shown(k):
            out[key] = dc.SUPPRESSED_VALUE
        else:
            out[key] = format_value(key, value)
    if tree.get("min") is not None and tree.get("max") is not None and "range" not in tree:
        out["range"] = (f"{out['min']}–{out['max']}" if dc.extreme_shown(k) else dc.SUPPRESSED_VALUE)
    if k > 1 and isinstance(tree.get(AT_RISK_KEY), dict) and tree[AT_RISK_KEY]:
        _set_at_risk(out, tree, k, size_hidden or bool(hidden.get("n")))
    if "median" in tree and _int_count(tree.get("n")) and not dc.summary_shown(int(tree["n"]), k):
        for key in tree:
            if key in SUMMARY_KEYS or key in SUMMARY_NODES:
                out[key] = _hide_leaves(out[key])
    return out


QUANTILE_KEYS = frozenset({"median", "q1", "q3", "min", "max"})


def _sibling_rule(tree: dict[str, Any], key: str) -> Any:
    """A value whose decimals follow its estimate's: the limits of a hazard ratio carry its two decimals;
    the quantiles of an integer-valued variable (`integer_valued` beside them) print '2', not '2.0'."""
    if key in ("lower", "upper", "lower_model", "upper_model") and "hr" in tree or key in ("or", "or_lower", "or_upper") and "or" in tree:
        return lambda v: str(round_half_up(v, 2))
    if key.startswith("weight_"):  # weights (IPTW): three decimals
        return lambda v: str(round_half_up(v, 3))
    if key in QUANTILE_KEYS and tree.get("integer_valued") is True:
        return lambda v: quantile_text(v, True)
    return None


def to_plain(value: Any) -> Any:
    """numpy scalars and tuples to plain Python, so YAML stays readable and stable."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    if isinstance(value, float) and value != value:  # NaN: no value
        return None
    return value


def build_numbers(raw: dict[str, Any], min_cell_count: int = 0,
                  protected: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The numbers.yml document: the formatted (and, with `min_cell_count`, suppressed) tree per study.

    `protected` gives each study's register of protected cells (results/analysis/<study>.protected.json,
    presentation.protection): the cells it hides are hidden here too, as in the tables.
    It holds no unsuppressed values: the reproduction check reads the analyses' own outputs
    (results/analysis/*.json, private) for those.
    """
    from nenbone.analysis.plans import group_key
    from nenbone.presentation.protection import apply_to_numbers

    plain = to_plain(raw)
    doc = format_tree(plain, min_cell_count)
    for study, register in (protected or {}).items():
        if isinstance(doc.get(study), dict):
            apply_to_numbers(doc[study], plain[study], register.get("cells", []), min_cell_count)
            for record in register.get("at_risk", []):  # numbers at risk hidden with their family's
                path = [record["plan"]] + ([] if record["curve"] == "all" else [group_key(record["curve"])])
                out, tree = doc[study], plain[study]
                for part in path:
                    out, tree = out[part], tree[part]
                _set_at_risk(out, tree, min_cell_count, dc.is_hidden_text(out["n"]), record["hidden_times"])
    for node in doc.values():
        if isinstance(node, dict) and isinstance(node.get(MISSING_KEY), dict):
            node[MISSING_KEY].update(missing_data_texts(node[MISSING_KEY]))
        if isinstance(node, dict) and isinstance(node.get(PS_MISSING_KEY), dict) and "by_variable" in node[PS_MISSING_KEY]:
            node[PS_MISSING_KEY]["by_variable_text"] = by_variable_text(node[PS_MISSING_KEY]["by_variable"])
    return doc


PS_MISSING_KEY = "ps_missing"  # who the complete-case propensity model leaves out (analysis.effects.ps_missing)


def by_variable_text(by_variable: list[dict[str, Any]]) -> str:
    """'low or intermediate grade (G1/G2), 69; ...' from the formatted (suppressed) counts: each covariate by
    its label, never by its name; 'none' when no covariate is missing."""
    return "; ".join(f"{_lower_first(v['label'])}, {v['n']}" for v in by_variable) or "none"


MISSING_KEY = "missing_data"  # a study's missing values by analysis (analysis.missing_data.missing_by_analysis)


def missing_data_texts(node: dict[str, Any]) -> dict[str, str]:
    """The Methods paragraph's lists, from the formatted (and suppressed) counts of `missing_by_analysis`:

    `variables_text`: each table row with missing values, "Grade 1-2, 137 of 1212 (11%)"; a hidden
    count reads as hidden ("<5"; "suppressed" where it would give a hidden cell of the table's groups
    away by subtraction), without a percentage;
    `survival_text`: each Kaplan-Meier analysis, "overall survival ..., 83 of 85" (used of selected);
    `eligibility_text`: a sentence on the patients a grade exclusion could not judge (no known grade)
    and kept.
    """
    def hidden(text: Any) -> bool:
        return isinstance(text, str) and dc.is_hidden_text(text)

    parts = []
    for v in node.get("variables") or []:
        if hidden(v["n"]) or hidden(v.get("n_smallest_group")):
            shown = v["n"] if hidden(v["n"]) else dc.SUPPRESSED_VALUE
            parts.append(f"{v['label']}, {shown} of {v['denominator_n']}")
        else:
            parts.append(f"{v['label']}, {v['n']} of {v['denominator_n']} ({v['pct']})")
    used = [f"{_lower_first(s['label'])}, {s['n']} of {s['n_selected']}" for s in node.get("survival") or []]
    rules = node.get("kept_unknown_grade") or []
    kept = [f"the exclusion of {k['grade']} {k['primary_group']} NENs needs a known grade, so "
            f"{k['n']} eligible patients of the {k['primary_group']} primary group without one were kept"
            for k in rules if k["n"] != "0"]
    eligibility = (_upper_first("; ".join(kept)) + "." if kept else
                   "Every patient of a primary group with a grade exclusion had a known grade." if rules else
                   "No eligibility rule depends on the grade.")
    return {"variables_text": "; ".join(parts) if parts else "none",
            "survival_text": "; ".join(used) if used else "none",
            "eligibility_text": eligibility}


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def date_text(iso: str) -> str:
    """'2002-04-01' -> '1 April 2002', as the text prints a date."""
    import datetime as dt

    d = dt.date.fromisoformat(str(iso))
    return f"{d.day} {d.strftime('%B')} {d.year}"


def join_words(items: list[str]) -> str:
    """['a', 'b', 'c'] -> 'a, b and c'."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def christie_methods(settings: dict[str, Any], labels: dict[str, str]) -> dict[str, str]:
    """What the methods text states of a study of the christie design (its settings)."""
    eligibility, derivation = settings["eligibility"], settings["derivation"]
    return {
        "from_text": date_text(eligibility["diagnosis_from"]),
        "to_text": date_text(eligibility["diagnosis_to"]),
        "synchronous_window_days": str(derivation["synchronous_window_days"]),
        "same_time_window_days": str(derivation["same_time_window_days"]),
        "age_at": {"nen_diagnosis": "NEN diagnosis", "bm_diagnosis": "diagnosis of bone metastases"}[
            derivation["age_at"]],
        "excluded_text": join_words([f"G{e['grade']} {e['primary_group']} NENs" for e in eligibility["exclude"]]),
        "symptom_denominator": {"all_bm": "all patients with bone metastases",
                                "ever_symptomatic": "patients who ever had symptoms"}[
            derivation["symptom_percent_denominator"]],
    }


def caliper_sd_text(convention: str, treated: str, control: str) -> str:
    """The SD a caliper is a multiple of (matching.caliper_sd_convention), as the methods name it."""
    texts = {
        "all_units": "the standard deviation of the logit of the propensity score over every patient in the model "
                     f"({treated} and {control} together, as MatchIt)",
        "pooled_within": "Austin's pooled standard deviation of the logit of the propensity score (the square root "
                         f"of the mean of the {treated} and the {control} variances)",
    }
    return texts[convention]


def mayo_methods(settings: dict[str, Any], labels: dict[str, str]) -> dict[str, str]:
    """What the methods text states of a study of the mayo design (its settings)."""
    match = settings["matching"]
    caliper = match["caliper_sd_logit"]
    return {
        "from_text": date_text(settings["period"]["from"]),
        "to_text": date_text(settings["period"]["to"]),
        "ratio": str(match["ratio"]),
        "caliper_text": "no caliper" if caliper is None else f"a caliper of {caliper} standard deviations of the logit",
        "caliper_sd_text": caliper_sd_text(match.get("caliper_sd_convention", "all_units"),
                                           match["treated_group"], match["control_group"]),
        "covariates_text": join_words([_lower_first(labels.get(c, c.replace("_", " "))) for c in match["covariates"]]),
        "order_text": {"descending_ps": "in descending order of propensity score",
                       "ascending_ps": "in ascending order of propensity score",
                       "data": "in the order of the data file",
                       "random": "in a random order (seeded)"}[match["treated_order"]],
        "seed": str(match["seed"]),
        "major_min_segments": str(settings["major_resection_min_segments"]),
    }


METHODS = {"christie": christie_methods, "mayo": mayo_methods}  # design -> its methods text


def follow_up_numbers(data_cutoff: str | None, twin_cutoff: str | None = None) -> dict[str, str]:
    """What the Methods state of the end of follow-up, from the study's codebook (`data_cutoff`: a
    calendar date of the export, not a patient's) and, when the input is an embedded synthetic twin,
    the cut-off it was generated to (config `synthetic.<design>.data_cutoff`). The derivations apply no
    administrative censoring: follow-up ends at each patient's recorded date of death or last follow-up,
    and validation refuses any date after the cut-off (without one, after the day of the run)."""
    if data_cutoff:
        text = (f"Follow-up closed at the data cut-off of {date_text(data_cutoff)}, declared in the study's "
                "codebook: an export with any later date is refused at validation, so no follow-up runs past "
                "the cut-off and none had to be cut short at it.")
    else:
        text = ("The study's codebook declares no data cut-off, and the workflow applies none: each patient's "
                "follow-up ends at the date of death or of last follow-up that the export records, and an export "
                "with a date later than the day of the run is refused at validation.")
    if twin_cutoff:
        text += (f" The synthetic twin analysed here was generated with follow-up up to {date_text(twin_cutoff)}, "
                 "the cut-off configured for it.")
    return {"data_cutoff": date_text(data_cutoff) if data_cutoff else "none declared", "cutoff_text": text}


def settings_numbers(config: dict[str, Any], designs: dict[str, str], study_settings: dict[str, dict[str, Any]],
                     labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Study choices from the config that the methods text states (text: they are not results).

    `designs` maps each study to its design, `study_settings` each study to its design settings;
    `labels` maps derived variable names to their codebook labels, so covariates read as words.
    """
    labels = labels or {}
    settings = {
        "ci_pct": f"{round_half_up(100 * config['analysis']['confidence_level'], 0)}",
        "days_per_month": f"{config['days_per_month']}",
        "cox_ties": config["analysis"]["cox_ties"].capitalize(),
        "ph_plot_spline_df": f"{config['analysis']['ph_plot']['spline_df']}",
        "ph_plot_band_se": f"{config['analysis']['ph_plot']['band_se']:g}",
    }
    methods = {study: METHODS[design](study_settings[study], labels) for study, design in sorted(designs.items())}
    return {"settings": settings, "methods": methods}


def disclosure_numbers(min_cell_count: int) -> dict[str, Any]:
    """What the Kaplan-Meier captions add under disclosure control (`km_caption_end` closes the caption's
    last sentence: '.' when control is off, so the caption reads as without it)."""
    k = int(min_cell_count)
    if k <= 1:
        return {"disclosure": {"km_caption_end": "."}}
    end = (f"; with disclosure control (counts below {k} hidden), a number at risk that differs from the last "
           f"one shown in its row by 1 to {k - 1} is shown as '–', the curves of a group split by another "
           f"variable show their numbers at risk only at times where every one of them, and the group's "
           f"patients in none of them, could be shown, and each curve ends at the last time with "
           f"at least {k} patients at risk.")
    return {"disclosure": {"km_caption_end": end}}


def data_origin_numbers(origins: dict[str, dict[str, Any]], labels: dict[str, str]) -> dict[str, Any]:
    """What each input was (from its validation report's `data_origin`, decided by SHA-256), as text:
    the supplement says synthetic only of an input that is an embedded twin."""
    def what(origin: dict[str, Any]) -> str:
        return "the embedded synthetic twin (no real patient)" if origin.get("embedded_twin") else \
            "a user's export, not an embedded twin: real data"
    studies = {study: {"synthetic": "yes" if o.get("embedded_twin") else "no", "input": what(o)}
               for study, o in sorted(origins.items())}
    parts = [f"{labels.get(study, study)}: {studies[study]['input']}" for study in sorted(origins)]
    every = all(o.get("embedded_twin") for o in origins.values())
    none = not any(o.get("embedded_twin") for o in origins.values())
    summary = ("every input was an embedded synthetic twin" if every else
               "no input was an embedded synthetic twin" if none else
               "the inputs mixed embedded synthetic twins and users' exports")
    return {"studies": studies, "summary": summary, "inputs": "; ".join(parts)}


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
