"""The enterprise model: enterprise → site → emission source → source stream → parameter → its source.

Plain frozen data, no database (企业 → 场所 → 排放源 → 源流 → 参数 → 数据来源). A parameter of a source
stream (activity data 活动数据, net calorific value 低位发热量, carbon content 含碳量, oxidation rate
碳氧化率, …) comes from a metering point, a laboratory stream (the sample point whose analyses give
it) or a default factor (缺省值, by id), over a validity period. The monitoring plan
(:class:`~carbonmet.sites.MonitoringPlan`) is the versioned document that states these bindings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

ParameterKind = Literal[
    "activity_data",  # 活动数据: fuel or material amount [t, Nm3, MWh, GJ …]
    "ncv",  # 低位发热量 net calorific value
    "carbon_content",  # 含碳量 (element carbon content)
    "oxidation_rate",  # 碳氧化率
    "emission_factor",  # 排放因子
    "conversion_rate",  # 转化率 (process emissions)
    "concentration",  # CEMS concentration (CO2 %)
    "oxygen",  # O2 content for the reference-oxygen correction (含氧量)
    "flow",  # CEMS or process flow
    "purity",  # purity of recovered CO2
    "temperature",
    "moisture",
    "other",
]
PARAMETER_KINDS: tuple[str, ...] = ParameterKind.__args__  # type: ignore[attr-defined]

StreamKind = Literal[
    "fuel_combustion",
    "raw_material",
    "product",
    "by_product",
    "waste",
    "residue",
    "co2_recovered",
    "purchased_electricity",
    "exported_electricity",
    "purchased_heat",
    "exported_heat",
    "measured_emission",
    "other",
]
"""What kind of source stream (源流类别) a stream is, i.e. how the accounting treats it.

- ``fuel_combustion`` — fossil fuel burned (化石燃料燃烧): AD × NCV × CC × OF (per heat) or AD × C × OF (per mass).
- ``raw_material`` — carbon input of a carbon mass balance (原料, 碳平衡输入), e.g. gasifier coal.
- ``product`` — main product leaving a carbon balance (产品), its carbon subtracted.
- ``by_product`` — by-product leaving a carbon balance (副产品).
- ``waste`` — waste leaving a carbon balance (废弃物), e.g. gasifier slag.
- ``residue`` — ash or slag of a combustion stream (灰渣), whose carbon gives that fuel's measured oxidation rate
  (实测碳氧化率).
- ``co2_recovered`` — CO2 recovered and supplied outside the boundary (回收外供CO2), subtracted.
- ``purchased_electricity`` — electricity bought (购入电力).
- ``exported_electricity`` — electricity supplied outside (输出电力).
- ``purchased_heat`` — heat (steam, hot water) bought (购入热力).
- ``exported_heat`` — heat supplied outside (输出热力).
- ``measured_emission`` — an emission monitored directly (直接监测排放, CEMS); a cross-check, not added to the
  account (不参与核算).
- ``other`` — anything else (其他).
"""
STREAM_KINDS: tuple[str, ...] = StreamKind.__args__  # type: ignore[attr-defined]

SourceKind = Literal["point", "lab", "default"]
"""Where a parameter's value comes from: a metering point (计量点), a laboratory stream (化验), a default (缺省值)."""
SOURCE_KINDS: tuple[str, ...] = SourceKind.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ParameterSource:
    """Where one parameter's value comes from.

    ``ref`` is a metering point id (``kind="point"``), the sample point id of a laboratory stream
    (``kind="lab"``; the analyte is the parameter kind) or a default-factor id (``kind="default"``,
    resolved by the factors package).
    """

    kind: SourceKind
    ref: str


@dataclass(frozen=True, slots=True)
class Parameter:
    """A parameter of a source stream, bound to its source over ``[valid_from, valid_to)``."""

    kind: ParameterKind
    unit: str
    source: ParameterSource
    valid_from: date | None = None
    valid_to: date | None = None  # exclusive; None = open

    def valid_on(self, day: date) -> bool:
        """Whether the binding holds on ``day``."""
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True, slots=True)
class SourceStream:
    """A source stream (源流): one fuel or material crossing the boundary of an emission source."""

    code: str
    parameters: tuple[Parameter, ...] = ()


@dataclass(frozen=True, slots=True)
class EmissionSource:
    """An emission source (排放源/排放设施), e.g. the gasifiers or a boiler."""

    code: str
    streams: tuple[SourceStream, ...] = ()


@dataclass(frozen=True, slots=True)
class Site:
    """A site (场所/厂区) of an enterprise."""

    code: str
    sources: tuple[EmissionSource, ...] = ()


@dataclass(frozen=True, slots=True)
class Enterprise:
    """An enterprise (重点排放单位) with its sites, emission sources, source streams and parameters."""

    code: str
    sites: tuple[Site, ...] = ()

    def streams(self) -> dict[str, SourceStream]:
        """Source streams by code."""
        return {st.code: st for s in self.sites for src in s.sources for st in src.streams}
