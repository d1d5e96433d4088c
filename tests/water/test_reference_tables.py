"""The package's water tables agree with the ones typed from the standards (tests/reference_tables.py)."""

from __future__ import annotations

import pytest

from envquality.water import gb3838_2002 as gb
from envquality.water import gbt14848_2017 as gw
from reference_tables import (
    GB3838_DO_MIN,
    GB3838_MAX,
    GB3838_PH,
    GB3838_TABLE2,
    GB3838_TP_LAKE,
    GBT14848_LAS,
    GBT14848_MAX,
)


@pytest.mark.parametrize("key", list(GB3838_MAX))
def test_gb3838_table1_max_items(key):
    assert gb.TABLE1[key].kind == "max"
    assert gb.TABLE1[key].limits == GB3838_MAX[key]


def test_gb3838_table1_other_items():
    assert gb.TABLE1["do"].kind == "min" and gb.TABLE1["do"].limits == GB3838_DO_MIN
    assert tuple(gb.PH_RANGE) == GB3838_PH
    assert gb.TABLE1_LAKE_TP.limits == GB3838_TP_LAKE
    max_items = {k for k, lim in gb.TABLE1.items() if lim.kind == "max"}
    assert max_items == set(GB3838_MAX)


def test_gb3838_table2():
    assert {k: lim.limits for k, lim in gb.TABLE2.items()} == {k: (v,) for k, v in GB3838_TABLE2.items()}


def test_gbt14848_table1():
    got = {k: lim.limits for k, lim in gw.TABLE.items() if lim.kind == "max" and k != "las"}
    assert got == GBT14848_MAX
    assert gw.TABLE["las"].limits == GBT14848_LAS
