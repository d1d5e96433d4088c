"""HJ 633 AQI levels as the public pages show them: colour, category, health advice.

The level boundaries, category names and colours are the ones of
:data:`envquality.standards.aqi.LEVELS` (one source for each number); this
module adds the text of the standard's health-effect and advice columns and
a vectorised lookup for the pages.

References
----------
HJ 633-2012 §7 Table 2 (空气质量指数及相关信息) and Annex A (colours);
HJ 633-2026 Table 2 and Annex A (same categories, colours and text).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from envquality.standards.aqi import LEVELS, aqi_level

__all__ = ["HEALTH_EFFECT", "ADVICE", "level_table", "aqi_categories", "NO_DATA_COLOUR", "text_colour"]

#: Colour of a division without a valid AQI (not an HJ 633 colour: grey = no data).
NO_DATA_COLOUR = "#9E9E9E"

#: HJ 633-2012 Table 2 column "对健康影响情况" (zh) and an English rendering, per level 1–6.
HEALTH_EFFECT: dict[int, tuple[str, str]] = {
    1: ("空气质量令人满意，基本无空气污染", "Air quality is satisfactory; there is basically no air pollution."),
    2: ("空气质量可接受，但某些污染物可能对极少数异常敏感人群健康有较弱影响",
        "Air quality is acceptable, but some pollutants may slightly affect a very small number of "
        "unusually sensitive people."),
    3: ("易感人群症状有轻度加剧，健康人群出现刺激症状",
        "Symptoms of susceptible people slightly worsen; healthy people show irritation."),
    4: ("进一步加剧易感人群症状，可能对健康人群心脏、呼吸系统有影响",
        "Symptoms of susceptible people worsen further; may affect the heart and respiratory system "
        "of healthy people."),
    5: ("心脏病和肺病患者症状显著加剧，运动耐受力降低，健康人群普遍出现症状",
        "Symptoms of people with heart or lung disease worsen markedly and exercise tolerance drops; "
        "healthy people commonly show symptoms."),
    6: ("健康人群运动耐受力降低，有明显强烈症状，提前出现某些疾病",
        "Exercise tolerance of healthy people drops, with marked strong symptoms; some diseases "
        "appear early."),
}

#: HJ 633-2012 Table 2 column "建议采取的措施" (zh) and an English rendering, per level 1–6.
ADVICE: dict[int, tuple[str, str]] = {
    1: ("各类人群可正常活动", "Everyone can carry on normal activities."),
    2: ("极少数异常敏感人群应减少户外活动", "The very few unusually sensitive people should reduce outdoor activity."),
    3: ("儿童、老年人及心脏病、呼吸系统疾病患者应减少长时间、高强度的户外锻炼",
        "Children, the elderly and people with heart or respiratory disease should reduce long or "
        "strenuous outdoor exercise."),
    4: ("儿童、老年人及心脏病、呼吸系统疾病患者避免长时间、高强度的户外锻炼，一般人群适量减少户外运动",
        "Children, the elderly and people with heart or respiratory disease should avoid long or "
        "strenuous outdoor exercise; everyone else should reduce outdoor exercise somewhat."),
    5: ("儿童、老年人和心脏病、肺病患者应停留在室内，停止户外运动，一般人群减少户外运动",
        "Children, the elderly and people with heart or lung disease should stay indoors and stop "
        "outdoor exercise; everyone else should reduce outdoor exercise."),
    6: ("儿童、老年人和病人应当留在室内，避免体力消耗，一般人群应避免户外活动",
        "Children, the elderly and the sick should stay indoors and avoid physical exertion; everyone "
        "else should avoid outdoor activity."),
}


def text_colour(hex_colour: str) -> str:
    """Black or white, whichever reads better on ``hex_colour`` (WCAG relative luminance)."""
    h = hex_colour.lstrip("#")
    rgb = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "#000000" if lum > 0.179 else "#FFFFFF"


def level_table() -> pd.DataFrame:
    """The six levels: ``level, roman_zh, lower, upper, category_zh, category_en, colour, effect_*, advice_*``.

    References
    ----------
    HJ 633-2012 Table 2 and Annex A; HJ 633-2026 Table 2 and Annex A.
    """
    rows = []
    lower = 0
    for upper, level, roman, cat_zh, cat_en, _colour_zh, colour in LEVELS:
        rows.append({
            "level": level, "roman_zh": roman, "lower": lower, "upper": upper if level < 6 else None,
            "category_zh": cat_zh, "category_en": cat_en, "colour": colour, "text_colour": text_colour(colour),
            "effect_zh": HEALTH_EFFECT[level][0], "effect_en": HEALTH_EFFECT[level][1],
            "advice_zh": ADVICE[level][0], "advice_en": ADVICE[level][1],
        })
        lower = upper + 1
    return pd.DataFrame(rows)


def aqi_categories(aqi: npt.ArrayLike) -> pd.DataFrame:
    """Level, category, colour and advice for each AQI value (NaN -> level 0, grey, empty text).

    References
    ----------
    HJ 633-2012 Table 2 (AQI 0–50 优 … > 300 严重污染) and Annex A (colours).

    Examples
    --------
    >>> aqi_categories([42, 101, float("nan")])[["level", "category_zh", "colour"]].values.tolist()
    [[1, '优', '#00E400'], [3, '轻度污染', '#FF7E00'], [0, '', '#9E9E9E']]
    """
    level = aqi_level(np.asarray(aqi, dtype=float)).astype(int)
    t = level_table().set_index("level")
    out = pd.DataFrame({"level": level})
    for col in ("category_zh", "category_en", "colour", "text_colour", "effect_zh", "effect_en",
                "advice_zh", "advice_en"):
        lookup = t[col].to_dict()
        default = NO_DATA_COLOUR if col == "colour" else ("#000000" if col == "text_colour" else "")
        out[col] = pd.Series(level).map(lookup).fillna(default).to_numpy()
    return out
