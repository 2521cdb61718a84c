"""The code tables shipped as CSV (each from a clause of HJ 212-2017) load and agree with each other."""

from __future__ import annotations

from carbonmet.metering.hj212.codes import (
    commands,
    data_flags,
    default_fields,
    factor_codes,
    field_commands,
    field_suffixes,
    return_codes,
    system_codes,
)
from carbonmet.quantities import parse_unit


def test_tables_hold_what_the_standard_lists() -> None:
    assert "".join(data_flags()) == "NFMSDCTB"  # Table 8
    assert commands()[("2061", "s2p")].kind == "upload"  # Table 9
    assert commands()[("1013", "s2p")].kind == "notice"
    assert {cn for cn, _ in commands()} >= {"1000", "2011", "2051", "2061", "2031", "9011", "9012", "9013", "9014"}
    assert system_codes()["31"] == "air pollution source"  # Table 5
    assert return_codes()[("QnRtn", 9)] == "CRC check error"  # Table 7
    assert return_codes()[("ExeRtn", 100)] == "no data"  # Table 6
    codes = factor_codes()  # Table B.2
    assert codes["a21026"].name_zh == "二氧化硫" and codes["a01011"].name_zh == "烟气流速"
    assert codes["a00000"].unit_conc == "m^3/s" and codes["a05001"].unit_amount == "kg"


def test_units_of_the_factor_table_parse() -> None:
    for c in factor_codes().values():
        for u in (c.unit_conc, c.unit_amount):
            if u:
                parse_unit(u)


def test_default_fields_are_measured_value_fields_of_their_command() -> None:
    kinds = field_suffixes()
    for (cn, _), suffix in default_fields().items():
        assert kinds[suffix] == "number"
        assert cn in field_commands()[suffix]


def test_public_surface_is_small_and_every_submodule_name_resolves() -> None:
    from carbonmet.metering import hj212
    from carbonmet.metering.hj212 import codes, errors, gaps, protocol

    assert len(hj212.__all__) <= 25 and len(set(hj212.__all__)) == len(hj212.__all__)
    for mod in (hj212, codes, errors, gaps, protocol):
        missing = [n for n in mod.__all__ if not hasattr(mod, n)]
        assert missing == [], f"{mod.__name__}: {missing}"
    # the base errors are the same classes in both places; tables are the loaded CSVs
    assert hj212.DecodeError is errors.DecodeError and issubclass(errors.BadCRCError, hj212.DecodeError)
    assert codes.data_flags() is data_flags() and codes.MAX_DATA_LEN == 1024
