"""HJ 633 colours, categories and advice as the pages show them (values typed from HJ 633-2012 Table 2 / Annex A)."""

from __future__ import annotations

import numpy as np
import pytest

from envquality.site.levels import aqi_categories, level_table, text_colour

# (AQI, level, category, colour) — HJ 633-2012 Table 2 ranges and Annex A RGB values:
# green 0,228,0; yellow 255,255,0; orange 255,126,0; red 255,0,0; purple 153,0,76; maroon 126,0,35
CASES = [
    (0, 1, "优", "Excellent", (0, 228, 0)), (50, 1, "优", "Excellent", (0, 228, 0)),
    (51, 2, "良", "Good", (255, 255, 0)), (100, 2, "良", "Good", (255, 255, 0)),
    (101, 3, "轻度污染", "Lightly polluted", (255, 126, 0)), (150, 3, "轻度污染", "Lightly polluted", (255, 126, 0)),
    (151, 4, "中度污染", "Moderately polluted", (255, 0, 0)), (200, 4, "中度污染", "Moderately polluted", (255, 0, 0)),
    (201, 5, "重度污染", "Heavily polluted", (153, 0, 76)), (300, 5, "重度污染", "Heavily polluted", (153, 0, 76)),
    (301, 6, "严重污染", "Severely polluted", (126, 0, 35)), (500, 6, "严重污染", "Severely polluted", (126, 0, 35)),
]


@pytest.mark.parametrize("aqi,level,cat_zh,cat_en,rgb", CASES)
def test_category_and_colour(aqi, level, cat_zh, cat_en, rgb):
    r = aqi_categories([aqi]).iloc[0]
    assert (r["level"], r["category_zh"], r["category_en"]) == (level, cat_zh, cat_en)
    assert r["colour"].upper() == "#%02X%02X%02X" % rgb


def test_missing_aqi_is_grey_without_category():
    r = aqi_categories([np.nan]).iloc[0]
    assert r["level"] == 0 and r["category_zh"] == "" and r["advice_zh"] == ""


def test_health_advice_follows_the_standard_text():
    t = level_table().set_index("level")
    # HJ 633-2012 Table 2, "建议采取的措施" of levels I, III and VI
    assert t.loc[1, "advice_zh"] == "各类人群可正常活动"
    assert t.loc[3, "advice_zh"] == "儿童、老年人及心脏病、呼吸系统疾病患者应减少长时间、高强度的户外锻炼"
    assert t.loc[6, "advice_zh"] == "儿童、老年人和病人应当留在室内，避免体力消耗，一般人群应避免户外活动"
    # "对健康影响情况" of level IV
    assert t.loc[4, "effect_zh"] == "进一步加剧易感人群症状，可能对健康人群心脏、呼吸系统有影响"
    assert (t["advice_en"].str.len() > 0).all()


def test_numbers_stay_readable_on_every_colour():
    # WCAG contrast of the label colour against the category colour is at least 4.5 for the six colours
    def lum(h):
        c = [int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    for colour in level_table()["colour"]:
        a, b = sorted((lum(colour), lum(text_colour(colour))), reverse=True)
        assert (a + 0.05) / (b + 0.05) >= 4.5, colour
