"""The DCC trust commands end to end on a SQLite file: a re-import for another instrument is refused and
``certificates move`` does it with a reason (audited, reconciled); a signed DCC altered after signing is
refused by ``dcc import`` with the trust directory of ``CARBONMET_DCC_TRUST_DIR``, accepted with
``--accept-invalid-signature`` and then flagged by ``registry due`` and ``registry coverage``; a DCC 2.x
prints what it did not read."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner
from sqlalchemy import select
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.db import AuditEntry, make_engine, session_scope

DATA = Path(__file__).parents[1] / "registry" / "data"
FILES = [str(DATA / f"{t}.csv") for t in ("organisations", "sites", "points", "standards", "instruments", "certificates")]
DCC_24 = DATA.parents[1] / "data" / "dcc" / "dcc_2_4_0_no_quantity.xml"
runner = CliRunner()
NOW = dt.datetime.now(dt.UTC)


def _cert(cn: str, issuer: x509.Name | None, key: ec.EllipticCurvePrivateKey, signer: ec.EllipticCurvePrivateKey,
          ca: bool) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    usage = x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                          encipher_only=False, decipher_only=False)
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(NOW - dt.timedelta(days=1))
         .not_valid_after(NOW + dt.timedelta(days=365))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(usage, critical=True))
    if ca:
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
    return b.sign(signer, hashes.SHA256())


def _pki() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A CA made here and a signing key it certifies: (CA certificate, leaf key, leaf certificate)."""
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Test DCC CA", None, ca_key, ca_key, True)
    return ca, leaf_key, _cert("ORD signing key", ca.subject, leaf_key, ca_key, False)


def _sign(xml: bytes, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> bytes:
    signed = XMLSigner(signature_algorithm="ecdsa-sha256", digest_algorithm="sha256").sign(
        etree.fromstring(xml), key=key, cert=[cert])
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def _run(db: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    r = runner.invoke(app, [*args, "--db", db], env=env)
    return r.exit_code, r.output


def test_reimport_for_another_instrument_is_refused_and_move_is_audited(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert _run(db, "registry", "import", *FILES)[0] == 0
    xml = tmp_path / "fm1.xml"
    assert _run(db, "dcc", "export", "ORD-2024-FM1", "--out", str(xml))[0] == 0
    code, out = _run(db, "dcc", "import", str(xml), "--instrument", "FM2")
    assert code == 1 and "ORD-2024-FM1" in out and "FM1" in out and "cannot take it over" in out
    # the same through a registry file: a certificate row naming another subject is refused, naming row and field
    rows = (DATA / "certificates.csv").read_text(encoding="utf-8").splitlines()
    moved = [rows[0], next(r for r in rows if r.startswith("ORD-2024-FM1,")).replace(",FM1,", ",FM2,", 1)]
    (tmp_path / "certificates.csv").write_text("\n".join(moved) + "\n", encoding="utf-8")
    code, out = _run(db, "registry", "import", str(tmp_path / "certificates.csv"))
    assert code == 1 and ":2:subject:" in out and "certificates move" in out
    # moving it is its own command, with a reason
    code, out = _run(db, "certificates", "move", "ORD-2024-FM1", "--to", "FM2", "--reason", "   ")
    assert code == 1 and "reason" in out
    code, out = _run(db, "certificates", "move", "ORD-2024-FM1", "--to", "FM2", "--reason",
                     "证书登记错器具 / registered against the wrong meter", "--actor", "李工", "--json")
    assert code == 0, out
    assert json.loads(out) == {"cert_no": "ORD-2024-FM1", "from": "FM1", "to": "FM2",
                               "reason": "证书登记错器具 / registered against the wrong meter"}
    eng = make_engine(db)
    with session_scope(eng) as s:
        e = s.scalars(select(AuditEntry).where(AuditEntry.action == "move")).one()
        logged = json.loads(e.data)
        assert (e.actor, e.entity, e.entity_key) == ("李工", "certificate", "ORD-2024-FM1")
        assert (logged["moved_from"], logged["moved_to"]) == ("FM1", "FM2") and "wrong meter" in logged["move_reason"]
    eng.dispose()
    code, out = _run(db, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["reconcile"]["ok"] is True
    code, out = _run(db, "certificates", "move", "ORD-2024-FM1", "--to", "FM2", "--reason", "again")
    assert code == 1 and "already belongs" in out


def test_signed_dcc_altered_is_refused_then_accepted_and_flagged(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert _run(db, "registry", "import", *FILES)[0] == 0
    xml = tmp_path / "fm2.xml"
    assert _run(db, "dcc", "export", "ORD-2024-FM2", "--out", str(xml))[0] == 0
    ca, key, leaf = _pki()
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    env = {"CARBONMET_DCC_TRUST_DIR": str(trust)}
    signed = _sign(xml.read_bytes(), key, leaf)
    (tmp_path / "signed.xml").write_bytes(signed)
    code, out = _run(db, "dcc", "import", str(tmp_path / "signed.xml"), "--json", env=env)
    assert code == 0, out
    assert json.loads(out)["signature"]["status"] == "valid"
    altered = signed.replace(b"<si:value>0.5</si:value>", b"<si:value>0.05</si:value>", 1)
    assert altered != signed
    (tmp_path / "altered.xml").write_bytes(altered)
    code, out = _run(db, "dcc", "import", str(tmp_path / "altered.xml"), env=env)
    assert code == 1 and "--accept-invalid-signature" in out and "invalid" in out
    code, out = _run(db, "dcc", "import", str(tmp_path / "altered.xml"), "--accept-invalid-signature",
                     "纸质证书核对一致 / checked against the paper certificate", env=env)
    assert code == 0, out
    assert "签名 signature: invalid" in out and "⚠" in out
    code, out = _run(db, "registry", "due", "--today", "2025-10-01", "--within", "400d", "--json")
    fm2 = next(i for i in json.loads(out) if i["instrument"] == "FM2")
    assert len(fm2["signature_flags"]) == 1 and "paper certificate" in fm2["signature_flags"][0]
    code, out = _run(db, "registry", "due", "--today", "2025-10-01", "--within", "400d")
    assert code == 0 and "ORD-2024-FM2" in out and "invalid" in out
    code, out = _run(db, "registry", "coverage", "E01.CO2_VENT", "--from", "2024-08-01", "--to", "2024-09-01",
                     "--json")
    assert code == 0 and any("ORD-2024-FM2" in f for f in json.loads(out)["signature_flags"]), out
    code, out = _run(db, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["reconcile"]["ok"] is True


def test_bad_trust_directory_is_a_clear_error(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert _run(db, "registry", "import", *FILES)[0] == 0
    xml = tmp_path / "fm1.xml"
    assert _run(db, "dcc", "export", "ORD-2024-FM1", "--out", str(xml))[0] == 0
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "revoked-serials.txt").write_text("zz-top\n", encoding="utf-8")
    code, out = _run(db, "dcc", "import", str(xml), env={"CARBONMET_DCC_TRUST_DIR": str(trust)})
    flat = out.replace("\n", "")  # the console wraps long lines
    assert code == 1 and "revoked-serials.txt (line 1)" in flat and "zz-top" in flat and "Traceback" not in out


def test_dcc_2x_import_lists_what_was_not_read(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert _run(db, "registry", "import", *FILES)[0] == 0
    code, out = _run(db, "dcc", "import", str(DCC_24), "--instrument", "FM2", "--issuer", "ORD")
    assert code == 0, out
    assert "5 element(s) not read" in out and "noQuantity '1 kg' not read" in out
    assert "签名 signature: unsigned" in out
