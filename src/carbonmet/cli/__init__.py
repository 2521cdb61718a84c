"""The ``carbonmet`` command (Typer). Each capability adds its own sub-application module here;
the domain packages never import this one."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="carbonmet",
    help="carbonmet 碳计量平台 — carbon metrology: instruments, data, uncertainty, emissions.",
    no_args_is_help=True,
    add_completion=False,
)


def _register() -> None:
    # One line per capability's CLI module. Keep the imports inside so `carbonmet --help` stays fast.
    from . import _quantities

    app.add_typer(_quantities.app, name="units")

    from . import _registry

    app.add_typer(_registry.app, name="registry")
    app.add_typer(_registry.audit_app, name="audit")
    app.add_typer(_registry.dcc_app, name="dcc")

    from . import _hj212

    app.add_typer(_hj212.app, name="hj212")

    from . import _metering

    _metering.register(app)

    from . import _uncertainty

    app.add_typer(_uncertainty.app, name="uncertainty")

    from . import _refdata

    app.add_typer(_refdata.app, name="refdata")

    from . import _plans; _plans.register(app)


_register()

__all__ = ["app"]
