"""CEMS direct measurement, QA tests, carbon-balance reconciliation and the comparison with accounting.

碳监测与碳核算比对: mass emissions from continuous emission monitoring (HJ 75 chain, hourly validity,
missing-data substitution as selectable rule sets), the uncertainty of the CEMS total, QA tests
(reference-method comparison / RATA, bias, linearity, calibration error, drift) with acceptance criteria as
data, the plant's carbon balance reconciled by weighted least squares with gross-error tests, and the
comparison of CEMS, accounting and the reconciled balance.

Public submodules: :mod:`.hj75` (the HJ 75 conversion chain), :mod:`.qa` (RATA, bias, linearity, calibration
error, drift; paired-run files), :mod:`.balance` (the reconciliation engine and the carbon-flow diagram).
"""

from ._annual import CemsStream, cems_account, cems_points, cems_streams, gas_constants, stream_hours
from ._compare import (
    K_EN,
    Comparison,
    compare_accounts,
    compare_verified,
    deviation_stability,
    measured_share,
    recalibration_steps,
)
from ._errors import CemsError
from ._plant import (
    PlantBalance,
    PlantReconciliation,
    StockLedger,
    plant_balance,
    reconcile_plant,
    survey_repeatability,
    systematic_bias_test,
    three_way,
)
from ._substitute import Filled, SubstitutionRule, rule_sets, rules, substitute

__all__ = [
    "K_EN",
    "CemsError",
    "CemsStream",
    "Comparison",
    "Filled",
    "PlantBalance",
    "PlantReconciliation",
    "StockLedger",
    "SubstitutionRule",
    "cems_account",
    "cems_points",
    "cems_streams",
    "compare_accounts",
    "compare_verified",
    "deviation_stability",
    "gas_constants",
    "measured_share",
    "plant_balance",
    "recalibration_steps",
    "reconcile_plant",
    "rule_sets",
    "rules",
    "stream_hours",
    "substitute",
    "survey_repeatability",
    "systematic_bias_test",
    "three_way",
]
