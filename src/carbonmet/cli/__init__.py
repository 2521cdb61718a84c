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
    # One line per capability's CLI module; each imports nothing heavy at module level (domain and services
    # imports live inside the commands), so `carbonmet --help` stays fast.
    from . import (
        _accounting,
        _cems,
        _compare,
        _connect,
        _demo,
        _deposits,
        _factors,
        _findings,
        _footprint,
        _hj212,
        _lab,
        _metering,
        _pilot,
        _plans,
        _quantities,
        _refdata,
        _registry,
        _report,
        _review,
        _uncertainty,
        _users,
        _verify,
    )

    app.add_typer(_quantities.app, name="units")
    app.add_typer(_registry.app, name="registry")
    app.add_typer(_registry.audit_app, name="audit")
    app.add_typer(_registry.dcc_app, name="dcc")
    app.add_typer(_registry.certificates_app, name="certificates")
    app.add_typer(_hj212.app, name="hj212")
    _metering.register(app)  # ingest, mqtt, readings
    app.add_typer(_connect.app, name="connect")  # connect opcua|modbus
    app.add_typer(_uncertainty.app, name="uncertainty")
    app.add_typer(_refdata.app, name="refdata")
    _plans.register(app)  # plan
    _lab.register(app)  # lab
    _accounting.register(app)  # account, validate
    app.add_typer(_cems.app, name="cems")  # cems rata
    _compare.register(app, _cems.app, _accounting.validate_app)  # cems annual, compare, validate cems
    _deposits.register(app)  # deposit
    _factors.register(app)  # factors list|show|compare|import
    app.add_typer(_pilot.app, name="pilot")  # pilot comparison
    _review.register(app, _accounting.validate_app)  # review, validate review
    _footprint.register(app, _accounting.validate_app)  # footprint, validate footprint
    app.add_typer(_report.app, name="report")  # report account, report review
    _users.register(app)  # users, serve
    _verify.register(app, _accounting.validate_app)  # verify, validate verify
    _findings.register(app)  # findings list|ack|close|diff|runs|account
    _demo.register(app)  # demo


_register()

from ._demo import demo_server

__all__ = ["app", "demo_server"]
