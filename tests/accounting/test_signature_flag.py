"""A certificate accepted despite a failed DCC signature check stays flagged in the account: the instrument's
figure and its uncertainty term carry the flag as their note (the evidence of the account's budget)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from carbonmet.accounting import gather
from carbonmet.lab import query_results
from carbonmet.registry.models import Certificate, Instrument
from carbonmet.services import (
    Scope,
    Workspace,
    generate_region,
    import_lab,
    import_plan,
    import_registry,
    point_catalog,
)
from carbonmet.sites import load_plan

YEAR = 2025
TZ = "Asia/Shanghai"


def test_an_accepted_bad_signature_is_flagged_in_the_account_terms(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("flag")
    reg = root / "region"
    with Workspace(f"sqlite:///{root / 'r.db'}", store_root=reg) as ws:
        generate_region(ws, Scope.nobody(), reg, enterprises=1, year=YEAR, seed=3, resolution="hour")
        c = Scope.centre()
        import_registry(ws, c, sorted((reg / "registry").glob("*.csv")))
        for f in sorted((reg / "plans").glob("*.toml")):
            import_plan(ws, c, f)
        import_lab(ws, c, [reg / "lab" / "lab.csv"])
        cat = point_catalog(ws, c)
        z = ZoneInfo(TZ)
        with ws.session() as s:
            plan = load_plan(s, "E01")
            assert plan is not None
            lab = query_results(s, enterprise="E01", start=datetime(YEAR, 1, 1, tzinfo=z),
                                end=datetime(YEAR + 1, 1, 1, tzinfo=z))
            before = gather(s, ws.store(), cat, plan, YEAR, lab, tz=TZ)
            ids = sorted({i for r in plan.parameters for i in r.instruments})
            figs = {i: before.figures(i, "instrument") for i in ids}
            inst, fig = next((i, f) for i, f in figs.items() if f is not None and f.certificates)
            cert_no = fig.certificates[-1]
            # as if that certificate had come as a DCC whose signer was untrusted, accepted by an operator
            cert = s.scalar(select(Certificate).join(Instrument, Instrument.id == Certificate.instrument_id)
                            .where(Certificate.cert_no == cert_no, Instrument.code == inst))
            assert cert is not None
            cert.signature_status, cert.signature_accepted = "signer_untrusted", "纸质证书已核对 paper copy checked"
            s.flush()
            after = gather(s, ws.store(), cat, plan, YEAR, lab, tz=TZ).figures(inst, "instrument")
            s.rollback()
    assert fig.note == "" or cert_no not in fig.note  # not flagged before
    assert after is not None and cert_no in after.note and "signer_untrusted" in after.note
    assert "paper copy checked" in after.note
    base = [t for t in after.terms() if not t.key.startswith(("legal_state:", "as_found:"))]
    assert base and all(cert_no in t.note for t in base)
    assert after.u_rel == fig.u_rel and after.certificates == fig.certificates  # flagged, not changed
