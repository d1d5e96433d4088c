"""The projection's 80 % band covers the truth at about its nominal rate on a known process.

Synthetic history: every week is independently a "spell" week (probability
0.3; a day is good with probability 0.3) or a clean week (day good with
probability 0.95) — weeks are whole blocks, as the resampling assumes.
Ten earlier years and the current year come from the same process; the
truth is the year's actual ratio.  Over 120 seeded replications the share
of truths inside [p10, p90] must be near 0.80 (binomial s.d. ≈ 0.037).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from envquality.targets import load_targets, progress_from_daily

GOOD = [t for t in load_targets() if t.id == "gansu-2020-good-day-ratio"][0]


def _year_aqi(rng: np.random.Generator, n_days: int) -> np.ndarray:
    weeks = -(-n_days // 7)
    spell = rng.random(weeks) < 0.3
    p_good = np.repeat(np.where(spell, 0.3, 0.95), 7)[:n_days]
    return np.where(rng.random(n_days) < p_good, 60.0, 160.0)


def test_band_covers_at_nominal_rate():
    hits, n_rep = 0, 120
    day = pd.Timestamp("2019-07-01")
    for rep in range(n_rep):
        rng = np.random.default_rng(1000 + rep)
        dates = pd.date_range("2009-01-01", "2019-12-31", freq="D")
        aqi = np.concatenate([_year_aqi(rng, 366 if pd.Timestamp(f"{y}-12-31").is_leap_year else 365)
                              for y in range(2009, 2020)])
        frame = pd.DataFrame({"entity": "620100", "date": dates, "aqi": aqi, "pm25_24h": 30.0,
                              "pm10_24h": np.nan, "dust": False})
        truth_days = aqi[dates.year == 2019]
        truth = 100.0 * (truth_days <= 100).mean()
        out = progress_from_daily(frame, day, [GOOD], seed=rep)
        r = out[out["entity_code"] == "620100"].iloc[0]
        assert "10 earlier years (2009–2018)" in r.projection_note
        hits += bool(r.projection_p10 <= round(truth, 1) <= r.projection_p90)
    rate = hits / n_rep
    assert 0.70 <= rate <= 0.90, rate
