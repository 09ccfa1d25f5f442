"""A chip constant's source must cite keys of the package bibliography: checked when the sheet loads."""

from __future__ import annotations

import pytest

from spikebench.core.errors import UnknownNameError
from spikebench.hardware_models.params import _param_from_table

GOOD = {"value": 1.0, "unit": "pJ", "grade": "primary", "band": True}


def test_a_cited_key_missing_from_the_bibliography_is_refused_with_one_line():
    with pytest.raises(UnknownNameError, match=r"loihi\.toml: parameter e_x.*nosuch2020.*references\.bib") as e:
        _param_from_table("e_x", {**GOOD, "source": "[@nosuch2020, Table 9]: 1 pJ"}, "loihi.toml")
    assert "\n" not in str(e.value)


def test_known_keys_and_placeholders_load():
    p = _param_from_table("e_x", {**GOOD, "source": "[@davies2018, Table 2]; [@frady2020]"}, "loihi.toml")
    assert p.low == pytest.approx(0.9) and p.high == pytest.approx(1.1)
    assert _param_from_table("p", {**GOOD, "source": "placeholder, not from the reference"}, "cpu.toml").source
