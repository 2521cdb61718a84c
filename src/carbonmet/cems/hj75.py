"""HJ 75-2017 flue-gas conversion chain (烟气参数换算): pure, vectorised functions, one per formula.

Velocity and flow (eq. 29–31), concentration bases (eq. 18–19), volume ↔ mass concentration (eq. 20) and the
hourly mass emission (eq. 33), with :class:`Basis` so that a concentration and a flow on different bases are
refused rather than multiplied. Details and conventions: :mod:`carbonmet.cems._hj75`.
"""

from ._hj75 import (
    CO2_MOLAR_MASS,
    MOLAR_VOLUME,
    P_STANDARD_PA,
    T_STANDARD_K,
    Basis,
    HJ75Error,
    actual_flow,
    concentration_to_standard,
    convert_concentration,
    convert_flow,
    dry_to_wet,
    hourly_mass,
    mg_m3_to_percent,
    mg_m3_to_umol_per_mol,
    percent_to_mg_m3,
    stack_velocity,
    standard_dry_flow,
    umol_per_mol_to_mg_m3,
    wet_to_dry,
)

__all__ = [
    "CO2_MOLAR_MASS",
    "MOLAR_VOLUME",
    "P_STANDARD_PA",
    "T_STANDARD_K",
    "Basis",
    "HJ75Error",
    "actual_flow",
    "concentration_to_standard",
    "convert_concentration",
    "convert_flow",
    "dry_to_wet",
    "hourly_mass",
    "mg_m3_to_percent",
    "mg_m3_to_umol_per_mol",
    "percent_to_mg_m3",
    "stack_velocity",
    "standard_dry_flow",
    "umol_per_mol_to_mg_m3",
    "wet_to_dry",
]
