"""A contract type for the architecture checks: no package imports another package's private module.

``carbonmet.registry`` may import ``carbonmet.registry._queries`` (its own), but not
``carbonmet.metering._store``: across packages only the public ``__init__`` (and public submodules such
as ``carbonmet.metering.hj212.codes``) may be imported. A module is private when any part of its
dotted name after the package starts with one underscore (dunder names such as ``__main__`` are not).
"""

from __future__ import annotations

from typing import Any

from importlinter import Contract, ContractCheck, fields, output


def _package(module: str, depth: int) -> str:
    return ".".join(module.split(".")[:depth])


def _private_part(module: str, depth: int) -> bool:
    return any(p.startswith("_") and not p.startswith("__") for p in module.split(".")[depth:])


class PrivateModulesContract(Contract):
    """Imports that cross from one package of ``containers`` into another's private module break it.

    Options: ``containers`` — the parent package(s) whose children are the packages (e.g. ``carbonmet``).
    """

    containers = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        invalid: list[dict[str, Any]] = []
        for container in self.containers:  # type: ignore[attr-defined]
            depth = container.name.count(".") + 2  # carbonmet.<package>
            for importer in sorted(graph.find_descendants(container.name)):
                mine = _package(importer, depth)
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    if not imported.startswith(container.name + "."):
                        continue
                    if _package(imported, depth) == mine or not _private_part(imported, depth):
                        continue
                    lines = [d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)]
                    invalid.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not invalid, metadata={"invalid": invalid})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["invalid"]:
            where = ", ".join(f"l.{n}" for n in item["lines"])
            output.print_error(f"{item['importer']} -> {item['imported']} ({where}): private module of another package")
            output.new_line()
