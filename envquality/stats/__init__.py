"""Statistics of the assessment: validity (GB 3095 Table 4), aggregation and HJ 663 period figures.

Pure array computations; :mod:`envquality.stats.xr` wraps them for xarray
(and dask).
"""
