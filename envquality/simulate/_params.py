"""Constants and per-pollutant parameters of the simulator (see :mod:`envquality.simulate`)."""

from __future__ import annotations

import re

import numpy as np


#: Origin of the absolute hour / day counters (midnight CST).  Hour ``a`` is
#: the hour starting ``EPOCH + a h`` (ending ``EPOCH + (a+1) h``); day ``d``
#: holds hours ``24 d ... 24 d + 23``.  Dates must be on or after 1901-01-01.
EPOCH = np.datetime64("1900-01-01", "D")
#: Spacing of the station-level meso-scale noise knots (hours).
KNOT_HOURS = 4

_MAX_OUTAGE = 72  # longest outage (hours) = halo before the start
_AR_PHI = 0.7  # day-to-day autocorrelation of the synoptic factors
_AR_TAPS = 16  # moving-average taps approximating the AR(1)
_DUST_DAYS = 3  # longest dust event (days)
_DUST_DECAY = (1.0, 0.55, 0.3)  # relative strength on days 1, 2, 3
_DUST_FINE = 0.13  # PM2.5 share of dust mass
_O3_SAT = 420.0  # O3 soft saturation scale (µg/m³): y = K tanh(x / K)

# Internal components, in the order of the white-noise slots.
_COMP = ("pm25", "coarse", "no2", "co", "so2", "o3")
_C = {c: i for i, c in enumerate(_COMP)}

# Per-component parameters (log space unless stated).
#   base      median level (µg/m³, CO mg/m³)
#   city_sd   city-level log sd;  dirty   loading on the shared dirty-city factor
#   st_sd     station offset log sd
#   cos_amp, cos_peak  annual cosine amplitude and day-of-year of its maximum
#   heat      heating-season term, multiplied by the city's northness
#   s1, s2    loadings on the stagnation / photochemical synoptic factors
#   meso, white  sd of the knot-interpolated and the hourly noise
_PAR: dict[str, dict[str, float]] = {
    "pm25": dict(base=24.0, city_sd=0.22, dirty=0.30, st_sd=0.15, cos_amp=0.28, cos_peak=10,
                 heat=0.45, s1=0.42, s2=0.05, meso=0.28, white=0.10),
    "coarse": dict(base=17.0, city_sd=0.25, dirty=0.20, st_sd=0.25, cos_amp=0.22, cos_peak=100,
                   heat=0.10, s1=0.25, s2=0.0, meso=0.32, white=0.20),
    "no2": dict(base=24.0, city_sd=0.20, dirty=0.15, st_sd=0.32, cos_amp=0.20, cos_peak=15,
                heat=0.12, s1=0.30, s2=0.0, meso=0.28, white=0.12),
    "co": dict(base=0.62, city_sd=0.22, dirty=0.20, st_sd=0.20, cos_amp=0.18, cos_peak=15,
               heat=0.35, s1=0.28, s2=0.0, meso=0.22, white=0.08),
    "so2": dict(base=6.5, city_sd=0.45, dirty=0.25, st_sd=0.35, cos_amp=0.22, cos_peak=15,
                heat=0.70, s1=0.28, s2=0.0, meso=0.32, white=0.15),
    "o3": dict(base=45.0, city_sd=0.12, dirty=0.0, st_sd=0.12, cos_amp=0.30, cos_peak=165,
               heat=0.0, s1=-0.10, s2=0.22, meso=0.18, white=0.08),
}

# Mixing of the 8 knot normals into the per-component meso noise (rows: _COMP).
_KNOT_MIX = np.array(
    [
        [1.0, 0, 0, 0, 0, 0, 0, 0],  # pm25
        [0.3, 0.954, 0, 0, 0, 0, 0, 0],  # coarse
        [0.35, 0, 0.5, 0.79, 0, 0, 0, 0],  # no2
        [0.6, 0, 0.8, 0, 0, 0, 0, 0],  # co
        [0.4, 0, 0, 0, 0.917, 0, 0, 0],  # so2
        [0, 0, 0, -0.3, 0, 0.954, 0, 0],  # o3
    ],
    dtype=np.float32,
)

_PH_EXACT = 2.0 * np.pi / 365.2425
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
# Stream identifiers (any distinct constants).
_S_HOURLY, _S_KNOT, _S_STATION, _S_CITY, _S_SYN, _S_DUST = (
    0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666)
_STATION_CODE = re.compile(r"^S(\d+)$")
