"""Drinking-water-source assessment: GB 3838-2002 (surface) and GB/T 14848-2017 (groundwater).

Public API
----------
:func:`classify_surface`, :func:`classify_groundwater`
    Class of one sampling from a ``{parameter key: value}`` mapping.
:func:`classify_samples`
    Vectorized classes of thousands of samplings (long or wide frames).
:func:`compliance_ratios`, :func:`select_period`
    达标率 per city and province, by sources, samplings and supply volume,
    against :data:`envquality.targets.DRINKING_WATER_TARGET` (96.85 %).
:func:`load_water_sources`, :func:`generate_registry`
    Source registry (the packaged Gansu one is **simulated**).
:func:`simulate_samples`
    Seeded monthly sampling simulator.

Units: mg/L; pH dimensionless; fecal coliform per litre (个/L); total
coliforms MPN/100 mL.  Methods and choices: ``docs/water.md``.
"""

from envquality.water.classify import (
    ALL_PARAMETERS, GROUNDWATER_PARAMETERS, SURFACE_PARAMETERS, WaterClassResult, classify_groundwater,
    classify_samples, classify_surface, parse_qualified,
)
from envquality.water.compliance import compliance_ratios, select_period, source_compliance
from envquality.water.registry import generate_registry, load_water_sources
from envquality.water.simulate import simulate_samples

__all__ = [
    "classify_surface", "classify_groundwater", "classify_samples", "parse_qualified", "WaterClassResult",
    "SURFACE_PARAMETERS", "GROUNDWATER_PARAMETERS", "ALL_PARAMETERS",
    "compliance_ratios", "select_period", "source_compliance",
    "load_water_sources", "generate_registry", "simulate_samples",
]
