"""The strict configuration check: unknown keys refused with the closest valid one, command-line
numbers read as numbers, study settings overrides checked against their design's block."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from nenbone.configcheck import check_config, check_designs, coerce_numbers
from nenbone.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text(encoding="utf-8"))
CONFIG = {k: v for f in ("config.yaml", "analysis.yaml", "figures.yaml")
          for k, v in yaml.safe_load((ROOT / "config" / f).read_text(encoding="utf-8")).items()}


def config(**changes):
    out = copy.deepcopy(CONFIG)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = out
        for p in parents:
            node = node[p]
        node[last] = value
    return out


def test_the_shipped_configuration_passes():
    assert check_config(CONFIG, SCHEMA) == CONFIG
    check_designs(CONFIG, SCHEMA)


def test_every_schema_level_is_closed_and_every_key_described():
    open_levels, undescribed = [], []

    def walk(node, where):
        if not isinstance(node, dict):
            return
        if "properties" in node or "patternProperties" in node:
            if node.get("additionalProperties") is not False:
                open_levels.append(where)
        for key, sub in node.get("properties", {}).items():
            if "description" not in sub:
                undescribed.append(f"{where}.{key}")
            walk(sub, f"{where}.{key}")
        for key, sub in node.get("patternProperties", {}).items():
            walk(sub, f"{where}.<{key}>")
        for key in ("items", "additionalProperties"):
            walk(node.get(key), f"{where}[{key}]")

    walk(SCHEMA, "config")
    assert open_levels == [] and undescribed == []


@pytest.mark.parametrize(("changes", "message"), [
    ({"disclosure": {"min_cel_count": 5, "min_cell_count": 0}},
     "config key 'disclosure.min_cel_count' is not known; did you mean 'min_cell_count'?"),
    ({"disclosur": {"min_cell_count": 5}}, "config key 'disclosur' is not known; did you mean 'disclosure'?"),
    ({"mayo__matching__ratoi": 2}, "config key 'mayo.matching.ratoi' is not known; did you mean 'ratio'?"),
])
def test_a_misspelt_key_is_refused_with_the_closest_valid_one(changes, message):
    with pytest.raises(ConfigError) as err:
        check_config(config(**changes), SCHEMA)
    assert message in str(err.value)


def test_every_problem_is_listed_at_once():
    with pytest.raises(ConfigError) as err:
        check_config(config(disclosur={}, figures__dpii=3, analysis__confidence_level=2), SCHEMA)
    text = str(err.value)
    assert "'disclosur'" in text and "'figures.dpii'" in text and "analysis.confidence_level" in text


def test_numbers_from_the_command_line_are_read_as_numbers():
    # snakemake --config 'disclosure={min_cell_count: 5}' hands the workflow the string '5'
    checked = check_config(config(disclosure={"min_cell_count": "5"}, analysis__confidence_level="0.9",
                                  mayo__matching__caliper_sd_logit="null"), SCHEMA)
    assert checked["disclosure"]["min_cell_count"] == 5 and isinstance(checked["disclosure"]["min_cell_count"], int)
    assert checked["analysis"]["confidence_level"] == 0.9
    assert checked["mayo"]["matching"]["caliper_sd_logit"] is None
    with pytest.raises(ConfigError, match="'five' is not of type 'integer'"):
        check_config(config(disclosure={"min_cell_count": "five"}), SCHEMA)
    # strings stay strings where the schema wants a string
    assert coerce_numbers({"render": {"engine": "5"}}, SCHEMA)["render"]["engine"] == "5"


def test_study_settings_and_main_studies_are_checked_against_their_design():
    extra = config()
    extra["studies"]["copy"] = {"design": "mayo", "input": "x.dta", "codebook": "c.yaml",
                                "settings": {"matching": {"ratio": 2, "caliperr": 0.1}}}
    check_config(extra, SCHEMA)  # the override itself is a free mapping here ...
    with pytest.raises(ConfigError, match="studies.copy.settings.matching.caliperr' is not known; did you mean "
                                          "'caliper_sd_logit'"):
        check_designs(extra, SCHEMA)  # ... checked once laid over the design's block
    wrong = config()
    wrong["supplement"]["main_studies"]["mayo"] = "christie"
    with pytest.raises(ConfigError, match="study 'christie' has design 'christie'"):
        check_designs(wrong, SCHEMA)


def test_caliper_sd_convention_is_one_of_the_two_sds_or_absent():
    checked = check_config(config(mayo__matching__caliper_sd_convention="pooled_within"), SCHEMA)
    assert checked["mayo"]["matching"]["caliper_sd_convention"] == "pooled_within"
    with pytest.raises(ConfigError, match="mayo.matching.caliper_sd_convention"):
        check_config(config(mayo__matching__caliper_sd_convention="pooled"), SCHEMA)
    absent = config()
    del absent["mayo"]["matching"]["caliper_sd_convention"]
    check_config(absent, SCHEMA)  # optional: the matcher then uses all units, as MatchIt
