"""Seeded generator of realistic hourly air-quality station data.

Used by the demo, the benchmarks and load tests.  The output follows the tidy
model of :mod:`envquality.model`: hour-ENDING time labels in China Standard
Time (day D = the hours ending D 01:00 ... D+1 00:00), pollutant keys
``so2 no2 pm10 pm25 co o3``, µg/m³ (CO mg/m³), NaN = missing.  Values are
rounded as CNEMC publishes them: integers in µg/m³, CO with one decimal in mg/m³.

Model
-----
Every pollutant is built in log space as the sum of

* a base level, a city level (log-normal, plus a shared "dirty city" factor)
  and a station offset (log-normal, σ 0.15-0.4 depending on the pollutant);
* a seasonal cycle: PM, SO2 and CO peak in winter, with an extra heating-season
  term (15 Nov - 15 Mar, 7-day ramps) scaled by the city's "northness"
  (0 = southern city, 1 = northern city with central heating); coarse PM peaks
  in spring; O3 peaks in June;
* diurnal cycles: O3 minimum ~07:00 and maximum ~15:00 with a larger amplitude
  in summer; NO2 and CO morning (~08:00) and evening (~20:00) rush-hour peaks
  and an afternoon dip; PM2.5 night maximum; SO2 late-morning maximum;
  weekend dip of NO2 and CO;
* two multi-day synoptic factors per city (stagnation, which drives PM, SO2,
  CO and NO2, stronger for PM2.5 during the heating season; and a
  "photochemical" factor driving O3), each an AR(1)-like moving average over
  days (φ = 0.7) of a national and a city component, linearly interpolated
  between daily knots (noon) to hours;
* a station-level meso-scale term: correlated normals (PM2.5/CO/NO2/SO2 share
  a component, O3 is anti-correlated with NO2) on knots every
  :data:`KNOT_HOURS` hours, interpolated to hours with variance correction;
* hourly white noise (σ 0.08-0.2).

PM10 is PM2.5 plus a coarse fraction, times a small instrument factor, so
PM2.5 ≤ PM10 holds for the vast majority of hours but not for all of them
(as in real data).  Spring dust events (1 Mar - 31 May, a few per year in
northern cities, 1-3 days with decaying strength, city-wide: every station
of a city sees the same event; national events hit the northern cities
together) add coarse particles of 120-900 µg/m³ (daily level, afternoon
maximum, hourly noise), so PM10 reaches 1,000+ µg/m³ with PM2.5/PM10 ≈ 0.2.

Gaps and bad values
-------------------
``gap_fraction`` of the values are NaN.  About 80 % of the missing values
come from station outages, which blank all six pollutants of a station: one
hour (60 % of outages), 2-5 hours (25 %) or 6-72 hours (15 %, log-uniform;
these make days fall below 20 valid hours).  The other 20 % are isolated
missing values of a single pollutant.  ``bad_fraction`` of the non-missing
values are corrupted into what a validation gate must catch: 35 % negative
values (-2 ... -50; CO -0.2 ... -0.9; never the sentinels -1 / -999) and 65 %
absurd single-hour spikes (20-200 × the value, at least 20 × a typical
level).  At most one pollutant per station-hour is corrupted; the data
variable ``injected_bad`` flags the station-hours and
``injected_bad_pollutant`` says which pollutant (index into
:data:`~envquality.model.HOURLY_POLLUTANTS`, -1 = none).

Determinism, slicing and random streams
---------------------------------------
The output is a pure function of ``seed``, the station and city codes and the
absolute hour.  Every random number is addressed by an absolute index
counted from :data:`EPOCH`:

* per (station, hour): one block of the counter-based ``Philox4x64`` generator
  with key ``(seed, station code)`` and counter = absolute hour, i.e. eight
  float32 uniforms per station-hour (six Box-Muller white normals, one
  outage uniform, one isolated-gap/bad-value uniform);
* per (station, knot): a second Philox stream (eight uniforms per knot);
* per (city, day), per day (national) and per station/city constants: a
  vectorized SplitMix64 hash of ``(seed, key, stream, index)``.

Keys are BLAKE2b hashes of the codes, so results do not depend on the order
or number of stations requested, nor on the chunking (stations are processed
in chunks of :data:`CHUNK_STATIONS`; the only Python loops are over chunks,
over the stations of a chunk to position the Philox streams — ~10 µs each —
and over pollutants).  Windows that reach before the requested start (outages
up to 72 h, knots, the 15-day synoptic moving average, 3-day dust events)
are generated from the same addresses, so **both** a subset of stations and a
sub-range of days reproduce the corresponding slice of a longer run exactly.
The one caveat is the synthetic city grouping (see :func:`simulate_hourly`):
pass ``city_of`` or use the generator's own ``"S0001"``-style codes when
comparing subsets.

Performance (measured on a shared 2-vCPU VM pinned to one core, numpy 2.4):
1,700 stations × 8,760 hours × 6 pollutants (89 M values) take about 2.2 s of
CPU (2.5-3 s wall when the machine is idle) with ``dtype=float32``; peak
resident memory grows by about 0.46 GB (the result itself is 0.37 GB; work
buffers are per chunk).  ``float64`` doubles the result (0.71 GB, peak +0.8 GB).
"""


from __future__ import annotations

from envquality.simulate._params import EPOCH, KNOT_HOURS
from envquality.simulate.daily import simulate_daily_city
from envquality.simulate.hourly import CHUNK_STATIONS, simulate_hourly
from envquality.simulate.tidy import simulate_tidy

__all__ = [
    "simulate_hourly",
    "simulate_tidy",
    "simulate_daily_city",
    "EPOCH",
    "KNOT_HOURS",
    "CHUNK_STATIONS",
]
