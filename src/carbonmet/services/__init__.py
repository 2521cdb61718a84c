"""Use cases over a :class:`Workspace` and a :class:`Scope`, with tenancy enforced here, once (业务服务).

The CLI, ``make demo`` and the web layer call these functions and render what they return; none of
them opens sessions or checks organisations itself. Every function takes ``(workspace, scope, …)``
and returns plain data. Reads are filtered to ``scope``'s read organisations; writes are checked
against its write organisations and refused with :class:`AccessDenied` naming the organisation.
:data:`USE_CASES` lists every use case with how tenancy applies to it (``read``, ``write``,
``centre``, ``none``); see ``docs/services.md``.
"""

from ._accounting import (
    Validation,
    account_enterprise,
    account_inventory_file,
    trace_accounts,
    validate_accounting,
)
from ._cems import (
    BalanceResult,
    CemsValidation,
    balance_enterprise,
    cems_enterprise,
    compare_enterprise,
    stock_ledgers,
    validate_cems,
)
from ._credentials import set_hj212_password
from ._deposits import DepositCheck, deposit_check, deposit_month, deposit_proof, list_deposits
from ._deps import AuthenticationFailed, CarbonmetError, ImportRejected
from ._errors import AccessDenied, NotInScope, ServiceError
from ._factors import FactorImport, compare_factors, import_factors, list_factors, show_factor
from ._footprint import (
    FootprintOutcome,
    FootprintValidation,
    footprint_enterprise,
    pact_footprint,
    pact_footprints,
    validate_footprint,
)
from ._incidents import record_incident
from ._lab import import_lab, lab_findings, lab_results
from ._metering import (
    OUT_OF_SCOPE,
    compact_store,
    ingest_files,
    list_deviations,
    list_quarantine,
    point_activity,
    point_catalog,
    point_readings,
    readings_summary,
)
from ._other import convert_units, evaluate_model, export_audit_head, sign_audit_head, verify_audit_log
from ._pilot import pilot_comparison
from ._plans import diff_plans, import_plan, list_plans, show_plan
from ._qa import rata_files
from ._quantities import evaluate_quantities, instrument_quantity, type_a_quantity
from ._refdata import generate_region
from ._registry import (
    due_items,
    export_dcc_certificate,
    export_registry,
    get_certificate,
    get_instrument,
    import_dcc_certificate,
    import_registry,
    list_certificates,
    list_instruments,
    list_organisations,
    list_points,
    list_sites,
    move_certificate,
    point_coverage,
    recheck_dcc_signatures,
    registry_table,
    trace_standard,
)
from ._reports import account_report, capability_report, footprint_report, review_report
from ._review import ReviewValidation, review_campaign, review_enterprise, validate_review
from ._runs import (
    acknowledge_finding,
    close_finding,
    list_findings,
    list_runs,
    run_diff,
    run_review,
    run_verify,
    verified_account,
)
from ._scale import account_enterprises, monthly_point_totals
from ._scope import Scope
from ._streams import connect_source, mqtt_listener, start_hj212_server
from ._usecase import USE_CASES, Tenancy
from ._users import (
    Caller,
    assign_verifier,
    authenticate,
    create_api_key,
    create_user,
    list_users,
    revoke_api_key,
    set_user_active,
)
from ._verify import VerifyValidation, validate_verify, verify_enterprise
from ._workspace import CatalogFiles, Workspace

__all__ = [
    "OUT_OF_SCOPE",
    "USE_CASES",
    "AccessDenied",
    "AuthenticationFailed",
    "BalanceResult",
    "Caller",
    "CarbonmetError",
    "CatalogFiles",
    "CemsValidation",
    "DepositCheck",
    "FactorImport",
    "FootprintOutcome",
    "FootprintValidation",
    "ImportRejected",
    "NotInScope",
    "ReviewValidation",
    "Scope",
    "ServiceError",
    "Tenancy",
    "Validation",
    "VerifyValidation",
    "Workspace",
    "account_enterprise",
    "account_enterprises",
    "account_inventory_file",
    "account_report",
    "acknowledge_finding",
    "assign_verifier",
    "authenticate",
    "balance_enterprise",
    "capability_report",
    "cems_enterprise",
    "close_finding",
    "compact_store",
    "compare_enterprise",
    "compare_factors",
    "connect_source",
    "convert_units",
    "create_api_key",
    "create_user",
    "deposit_check",
    "deposit_month",
    "deposit_proof",
    "diff_plans",
    "due_items",
    "evaluate_model",
    "evaluate_quantities",
    "export_audit_head",
    "export_dcc_certificate",
    "export_registry",
    "footprint_enterprise",
    "footprint_report",
    "generate_region",
    "get_certificate",
    "get_instrument",
    "import_dcc_certificate",
    "import_factors",
    "import_lab",
    "import_plan",
    "import_registry",
    "ingest_files",
    "instrument_quantity",
    "lab_findings",
    "lab_results",
    "list_certificates",
    "list_deposits",
    "list_deviations",
    "list_factors",
    "list_findings",
    "list_instruments",
    "list_organisations",
    "list_plans",
    "list_points",
    "list_quarantine",
    "list_runs",
    "list_sites",
    "list_users",
    "monthly_point_totals",
    "move_certificate",
    "mqtt_listener",
    "pact_footprint",
    "pact_footprints",
    "pilot_comparison",
    "point_activity",
    "point_catalog",
    "point_coverage",
    "point_readings",
    "rata_files",
    "readings_summary",
    "recheck_dcc_signatures",
    "record_incident",
    "registry_table",
    "review_campaign",
    "review_enterprise",
    "review_report",
    "revoke_api_key",
    "run_diff",
    "run_review",
    "run_verify",
    "set_hj212_password",
    "set_user_active",
    "show_factor",
    "show_plan",
    "sign_audit_head",
    "start_hj212_server",
    "stock_ledgers",
    "trace_accounts",
    "trace_standard",
    "type_a_quantity",
    "validate_accounting",
    "validate_cems",
    "validate_footprint",
    "validate_review",
    "validate_verify",
    "verified_account",
    "verify_audit_log",
    "verify_enterprise",
]
