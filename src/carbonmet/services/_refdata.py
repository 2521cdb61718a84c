"""The synthetic reference region (参考数据集) as a use case: it writes files only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._deps import Manifest, generate
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace


@use_case("none")
def generate_region(ws: Workspace, scope: Scope, out_dir: str | Path, **options: Any) -> Manifest:
    """Generate the reference region with known truth into ``out_dir`` (:func:`carbonmet.refdata.generate`).

    It writes files only (registry import files, readings, lab results, truth, a manifest) and
    reads or changes no organisation's records in the workspace, so every scope may call it; the
    files are loaded with :func:`import_registry` and :func:`ingest_files`, which check the scope.
    ``options`` are those of :func:`carbonmet.refdata.generate` (``enterprises``, ``year``,
    ``seed``, ``resolution``, ``csv_enterprise``, ``overwrite``).
    """
    return generate(Path(out_dir), **options)
