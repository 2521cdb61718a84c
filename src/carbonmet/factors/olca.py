"""olca-schema JSON-LD packages (openLCA exports) read into plain dataclasses for the LCA engine, public API."""

from ._olca import (
    READ_FOLDERS,
    OlcaExchange,
    OlcaFlow,
    OlcaPackage,
    OlcaProcess,
    OlcaUncertainty,
    read_olca_package,
)

__all__ = [
    "READ_FOLDERS",
    "OlcaExchange",
    "OlcaFlow",
    "OlcaPackage",
    "OlcaProcess",
    "OlcaUncertainty",
    "read_olca_package",
]
