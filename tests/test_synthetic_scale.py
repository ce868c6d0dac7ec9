"""synthetic.<study>.scale: k copies of the twin, same proportions and KM curves; k = 1 unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nenbone.analysis.survival import kaplan_meier
from nenbone.errors import ConfigError
from nenbone.synthetic import generator, scale_cohort
from nenbone.synthetic.christie import generate as christie_generate

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return christie_generate(CONFIG["synthetic"]["christie"], CONFIG["christie"])


def test_scale_one_is_the_published_twin(base):
    settings = {**CONFIG["synthetic"]["christie"], "scale": 1}
    pd.testing.assert_frame_equal(generator("christie")(settings, CONFIG["christie"]), base)
    pd.testing.assert_frame_equal(generator("christie")(CONFIG["synthetic"]["christie"], CONFIG["christie"]), base)


def test_scale_k_multiplies_counts_and_keeps_proportions_and_curves(base):
    k = 3
    big = generator("christie")({**CONFIG["synthetic"]["christie"], "scale": k}, CONFIG["christie"])
    assert len(big) == k * len(base) == k * CONFIG["synthetic"]["christie"]["n_screened"]
    assert big["patient_id"].is_unique
    assert (big["bone_mets"] == 1).sum() == k * (base["bone_mets"] == 1).sum()
    for col in ("primary_site", "grade", "vital_status"):
        pd.testing.assert_series_equal(big[col].value_counts(normalize=True).sort_index(),
                                       base[col].value_counts(normalize=True).sort_index())
    days = lambda f: (f["date_death_or_last_fu"] - f["date_nen_diagnosis"]).dt.days.to_numpy(float)  # noqa: E731
    km_base, km_big = kaplan_meier(days(base), base["vital_status"] == 1), kaplan_meier(days(big), big["vital_status"] == 1)
    np.testing.assert_allclose(km_big.table["S"], km_base.table["S"], rtol=0, atol=1e-12)
    assert km_big.median == km_base.median


def test_bad_scale_is_a_config_error(base):
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ConfigError, match="scale must be a whole number"):
            scale_cohort(base, bad)
