"""One dummy coding for the propensity and Cox models (nenbone.analysis.coding)."""

import numpy as np
import pandas as pd

from nenbone.analysis import coding
from nenbone.analysis.matching import design_matrix
from nenbone.analysis.survival import cox


def test_treatment_dummies_by_hand():
    values = pd.Series(["GI", "pancreas", "other", "GI", None])
    cols = coding.treatment_dummies(values, "primary_group", ["GI", "other", "pancreas"])
    assert list(cols) == ["primary_group[T.other]", "primary_group[T.pancreas]"]
    np.testing.assert_array_equal(cols["primary_group[T.other]"], [0, 0, 1, 0, 0])
    np.testing.assert_array_equal(cols["primary_group[T.pancreas]"], [0, 1, 0, 0, 0])
    cols = coding.treatment_dummies(values, "primary_group", ["GI", "other", "pancreas"], reference="other")
    assert list(cols) == ["primary_group[T.GI]", "primary_group[T.pancreas]"]


def test_propensity_and_cox_models_name_the_same_terms():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"t": rng.exponential(10, 60), "d": rng.integers(0, 2, 60),
                          "sex": rng.choice(["female", "male"], 60), "age": rng.normal(60, 8, 60)})
    ps_terms = [c for c in design_matrix(frame, ["sex", "age"]).columns if c != "const"]
    cox_terms = list(cox(frame, "t", "d", ["sex", "age"]).terms["term"])
    assert ps_terms == cox_terms == ["sex[T.male]", "age"]
