"""DCC XML signatures: a DCC signed in the test with a key made in the test (a CA and a leaf made with
``cryptography``, signed with ``signxml``) verifies; altered after signing it is refused; a signer from
another CA is untrusted; a revoked signer is flagged; accepted with a reason, the certificate stays flagged in
the due list, the coverage and the instrument states. Published examples (tests/data/dcc/published) check the
same against signatures nobody here made."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from signxml import XMLSigner
from sqlalchemy import Engine, select

from carbonmet.db import AuditEntry, session_scope
from carbonmet.registry import due_list, import_dcc, instrument_states, period_coverage
from carbonmet.registry.dcc import (
    SIGNATURE_STATUSES,
    DccError,
    DccTrustError,
    TrustStore,
    load_trust_store,
    verify_dcc_signature,
)
from carbonmet.registry.errors import FieldError, SignatureRefused
from carbonmet.registry.models import Certificate
from carbonmet.registry.rows import InstrumentRow, OrganisationRow, StandardRow
from carbonmet.registry.write import upsert_instrument, upsert_organisation, upsert_standard

DATA = Path(__file__).parents[1] / "data" / "dcc"
FOREIGN = DATA / "gas_flow_meter_v3.3.0.xml"
PUBLISHED = DATA / "published"
CERT_NO = "LLJZ2025-03-0117"
NOW = dt.datetime.now(dt.UTC)


# --- a test PKI, made here ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Party:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=sign, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def make_ca(cn: str) -> Party:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=30)).not_valid_after(NOW + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_usage(sign=False, ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return Party(key, cert)


def make_leaf(ca: Party, cn: str) -> Party:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(sign=True, ca=False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
            .sign(ca.key, hashes.SHA256()))
    return Party(key, cert)


def make_crl(ca: Party, *revoked: x509.Certificate) -> x509.CertificateRevocationList:
    b = (x509.CertificateRevocationListBuilder().issuer_name(ca.cert.subject)
         .last_update(NOW - dt.timedelta(hours=1)).next_update(NOW + dt.timedelta(days=7)))
    for c in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(c.serial_number)
                                      .revocation_date(NOW - dt.timedelta(minutes=5)).build())
    return b.sign(ca.key, hashes.SHA256())


def sign(xml: bytes, signer: Party) -> bytes:
    """An enveloped XMLDSig signature of the whole document, the signer's certificate in KeyInfo."""
    root = etree.fromstring(xml)
    signed = XMLSigner(signature_algorithm="ecdsa-sha256", digest_algorithm="sha256").sign(
        root, key=signer.key, cert=[signer.cert])
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class Pki:
    ca: Party
    signer: Party
    other_ca: Party
    stranger: Party  # a leaf of the other CA


@pytest.fixture(scope="module")
def pki() -> Pki:
    ca, other = make_ca("示例省计量院 DCC 根 CA"), make_ca("Unknown Lab CA")
    return Pki(ca, make_leaf(ca, "示例省计量测试研究院 签章"), other, make_leaf(other, "Unknown Lab signer"))


def trust_dir(tmp_path: Path, pki: Pki, *, crl: x509.CertificateRevocationList | None = None,
              serials: str | None = None) -> Path:
    d = tmp_path / "trust"
    d.mkdir(parents=True, exist_ok=True)
    (d / "province-ca.pem").write_bytes(pem(pki.ca.cert))
    if crl is not None:
        (d / "province-ca.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    if serials is not None:
        (d / "revoked-serials.txt").write_text(serials, encoding="utf-8")
    return d


def _registry(engine: Engine) -> None:
    with session_scope(engine) as s:
        upsert_organisation(s, OrganisationRow(org_code="PROV-LAB", name="示例省计量测试研究院",
                                               kind="metrology_institute"))
        upsert_instrument(s, InstrumentRow(serial="TB2301-0457", instrument_id="FT-NG-01", org_code="E01",
                                           type="gas_flow_meter", point_id="E01.NG_IN",
                                           installed_from=date(2025, 3, 20)))
        upsert_standard(s, StandardRow(standard_code="STD-GF-01", name="音速喷嘴法气体流量标准装置",
                                       holder_org="PROV-LAB", level="primary"))


def _stored(engine: Engine) -> Certificate | None:
    with session_scope(engine) as s:
        c = s.scalar(select(Certificate).where(Certificate.cert_no == CERT_NO))
        if c is not None:
            s.expunge(c)
        return c


# --- verification, pure ------------------------------------------------------------------------------------
def test_signed_dcc_verifies_as_valid_against_its_ca(pki: Pki, tmp_path: Path) -> None:
    signed = sign(FOREIGN.read_bytes(), pki.signer)
    check = verify_dcc_signature(signed, load_trust_store(trust_dir(tmp_path, pki)))
    assert check.status == "valid" and not check.flagged
    assert check.signer == pki.signer.cert.subject.rfc4514_string()
    assert check.signer_serial == format(pki.signer.cert.serial_number, "X")
    assert "示例省计量院 DCC 根 CA" in check.reason


def test_one_altered_value_makes_the_signature_invalid(pki: Pki, tmp_path: Path) -> None:
    signed = sign(FOREIGN.read_bytes(), pki.signer)
    altered = signed.replace(b"<si:valueXMLList>0.62 ", b"<si:valueXMLList>0.52 ", 1)
    assert altered != signed
    check = verify_dcc_signature(altered, load_trust_store(trust_dir(tmp_path, pki)))
    assert check.status == "invalid" and check.flagged
    assert "changed after signing" in check.reason


def test_a_signer_of_another_ca_is_untrusted(pki: Pki, tmp_path: Path) -> None:
    signed = sign(FOREIGN.read_bytes(), pki.stranger)
    check = verify_dcc_signature(signed, load_trust_store(trust_dir(tmp_path, pki)))
    assert check.status == "signer_untrusted" and "Unknown Lab signer" in check.reason
    # with no trust anchors at all, an intact signature still names no trusted signer
    assert verify_dcc_signature(sign(FOREIGN.read_bytes(), pki.signer), None).status == "signer_untrusted"
    assert verify_dcc_signature(sign(FOREIGN.read_bytes(), pki.signer), TrustStore()).status == "signer_untrusted"


def test_a_signer_on_the_ca_revocation_list_is_revoked(pki: Pki, tmp_path: Path) -> None:
    signed = sign(FOREIGN.read_bytes(), pki.signer)
    trust = load_trust_store(trust_dir(tmp_path, pki, crl=make_crl(pki.ca, pki.signer.cert)))
    check = verify_dcc_signature(signed, trust)
    assert check.status == "signer_revoked" and check.flagged
    assert format(pki.signer.cert.serial_number, "X") in check.reason
    # a CRL that does not list it leaves it valid
    clean = load_trust_store(trust_dir(tmp_path / "b", pki, crl=make_crl(pki.ca)))
    assert verify_dcc_signature(signed, clean).status == "valid"


def test_a_serial_in_the_revoked_list_is_revoked(pki: Pki, tmp_path: Path) -> None:
    signed = sign(FOREIGN.read_bytes(), pki.signer)
    hexes = format(pki.signer.cert.serial_number, "X")
    hexes = "0" * (len(hexes) % 2) + hexes
    colons = ":".join(hexes[i:i + 2] for i in range(0, len(hexes), 2))  # as OpenSSL prints a serial
    trust = load_trust_store(trust_dir(tmp_path, pki, serials=f"# 通报 notice 2025-01\n{colons}  # lab key lost\n"))
    assert pki.signer.cert.serial_number in trust.revoked_serials
    assert verify_dcc_signature(signed, trust).status == "signer_revoked"


def test_an_unsigned_dcc_is_unsigned() -> None:
    check = verify_dcc_signature(FOREIGN.read_bytes())
    assert check.status == "unsigned" and not check.flagged


def test_a_signature_of_part_of_the_document_does_not_count(pki: Pki, tmp_path: Path) -> None:
    """A valid signature over one element (not the whole certificate) must not make the rest trusted."""
    root = etree.fromstring(FOREIGN.read_bytes())
    core = root.find(".//{https://ptb.de/dcc}coreData")
    assert core is not None
    core.set("Id", "core")
    signed = XMLSigner(signature_algorithm="ecdsa-sha256", digest_algorithm="sha256").sign(
        root, key=pki.signer.key, cert=[pki.signer.cert], reference_uri="#core")
    check = verify_dcc_signature(etree.tostring(signed), load_trust_store(trust_dir(tmp_path, pki)))
    assert check.status == "invalid"


def test_trust_directory_errors_name_the_file_and_line(pki: Pki, tmp_path: Path) -> None:
    d = trust_dir(tmp_path, pki)
    (d / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(DccTrustError, match="broken.pem"):
        load_trust_store(d)
    (d / "broken.pem").unlink()
    (d / "revoked-serials.txt").write_text("5A3F\nnot-a-serial\n", encoding="utf-8")
    with pytest.raises(DccTrustError, match=r"revoked-serials.txt \(line 2\)"):
        load_trust_store(d)
    (d / "revoked-serials.txt").unlink()
    (d / "forged.crl").write_bytes(make_crl(make_ca(pki.ca.cert.subject.get_attributes_for_oid(
        NameOID.COMMON_NAME)[0].value), pki.signer.cert).public_bytes(serialization.Encoding.PEM))  # type: ignore[arg-type]
    with pytest.raises(DccTrustError, match="forged.crl"):
        load_trust_store(d)  # same issuer name, another key: refused, not silently ignored
    with pytest.raises(DccTrustError, match="does not exist"):
        load_trust_store(tmp_path / "nowhere")
    with pytest.raises(DccError):
        verify_dcc_signature(b"<not xml")


# --- published examples ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "status"), [
    ("dcc_gp_temperature_typical_v12_v3.2.0_signed.xml", "valid"),
    ("dcc_gp_temperature_typical_v12_v3.2.0_signed_manipulated.xml", "invalid"),
    ("dcc_gp_temperature_typical_v12_v3.2.0_signed_lt_revoked.xml", "signer_revoked"),
    ("dcc_gp_temperatur_resistance_v12.xml", "unsigned"),
])
def test_published_signed_examples(name: str, status: str) -> None:
    """Signatures made by another party's tools (XAdES, ECDSA-SHA256; the signers' certificates have expired
    since, so the chain is checked at the signed signing time); the revocation is read from the CRL the
    XAdES-LT signature carries."""
    check = verify_dcc_signature((PUBLISHED / name).read_bytes(), load_trust_store(PUBLISHED / "trust"))
    assert check.status == status, check.reason
    if status != "unsigned":
        assert check.signed_at is not None and check.signed_at.year == 2023


# --- import: refused, accepted and flagged -------------------------------------------------------------------
def test_import_stores_a_valid_signature(sample: Engine, pki: Pki, tmp_path: Path) -> None:
    _registry(sample)
    signed = sign(FOREIGN.read_bytes(), pki.signer)
    with session_scope(sample) as s:
        cert, _ = import_dcc(s, signed, trust=load_trust_store(trust_dir(tmp_path, pki)))
        assert cert.dcc_xml == signed
    c = _stored(sample)
    assert c is not None and c.signature_status == "valid" and c.signature_accepted is None
    assert c.signature_signer == pki.signer.cert.subject.rfc4514_string()


def test_altered_dcc_import_is_refused_and_nothing_stored(sample: Engine, pki: Pki, tmp_path: Path) -> None:
    _registry(sample)
    altered = sign(FOREIGN.read_bytes(), pki.signer).replace(b">0.62 ", b">0.52 ", 1)
    trust = load_trust_store(trust_dir(tmp_path, pki))
    with session_scope(sample) as s:
        head = s.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
    with pytest.raises(SignatureRefused, match="--accept-invalid-signature") as err, session_scope(sample) as s:
        import_dcc(s, altered, trust=trust)
    assert err.value.check.status == "invalid" and err.value.cert_no == CERT_NO
    assert _stored(sample) is None
    with session_scope(sample) as s:
        assert s.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) == head
    with pytest.raises(FieldError, match="reason"), session_scope(sample) as s:
        import_dcc(s, altered, trust=trust, accept_invalid_signature="   ")


def test_untrusted_signer_refused_then_accepted_and_flagged_everywhere(sample: Engine, pki: Pki,
                                                                       tmp_path: Path) -> None:
    _registry(sample)
    signed = sign(FOREIGN.read_bytes(), pki.stranger)
    trust = load_trust_store(trust_dir(tmp_path, pki))
    with pytest.raises(SignatureRefused, match="signer_untrusted"), session_scope(sample) as s:
        import_dcc(s, signed, trust=trust)
    why = "实验室新换签章，CA 证书待补 / lab's new signing key, CA certificate to follow"
    with session_scope(sample) as s:
        import_dcc(s, signed, trust=trust, accept_invalid_signature=why, actor="张工")
    c = _stored(sample)
    assert c is not None and c.signature_status == "signer_untrusted" and c.signature_accepted == why
    with session_scope(sample) as s:  # the acceptance is in the audit log, with who and why
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity == "certificate",
                                                   AuditEntry.entity_key == CERT_NO)).all()[-1]
        assert entry.actor == "张工" and why in entry.data and "signer_untrusted" in entry.data
        due = {i.instrument: i for i in due_list(s, date(2026, 2, 20), 30, include_ok=True)}
        cov = period_coverage(s, "E01.NG_IN", date(2025, 4, 1), date(2025, 5, 1))
        state = instrument_states(s, ["FT-NG-01"], [(date(2025, 4, 1), date(2025, 5, 1))])["FT-NG-01"]
    for flags in (due["FT-NG-01"].signature_flags, tuple(cov.signature_flags), state.signature_flags):
        assert len(flags) == 1 and CERT_NO in flags[0] and "signer_untrusted" in flags[0] and why in flags[0]
    assert CERT_NO in cov.certificates  # accepted: it still covers, flagged
    assert cov.to_dict()["signature_flags"] == list(cov.signature_flags)
    # other instruments' lines carry no flag
    assert all(not i.signature_flags for code, i in due.items() if code != "FT-NG-01")


def test_revoked_signer_refused_then_accepted_stays_flagged(sample: Engine, pki: Pki, tmp_path: Path) -> None:
    _registry(sample)
    signed = sign(FOREIGN.read_bytes(), pki.signer)
    trust = load_trust_store(trust_dir(tmp_path, pki, crl=make_crl(pki.ca, pki.signer.cert)))
    with pytest.raises(SignatureRefused, match="signer_revoked"), session_scope(sample) as s:
        import_dcc(s, signed, trust=trust)
    with session_scope(sample) as s:
        import_dcc(s, signed, trust=trust, accept_invalid_signature="校准在吊销前完成 / calibrated before revocation")
    c = _stored(sample)
    assert c is not None and c.signature_status == "signer_revoked"
    # re-imported once the document checks out, the flag goes and the acceptance is cleared
    with session_scope(sample) as s:
        import_dcc(s, signed, trust=load_trust_store(trust_dir(tmp_path / "clean", pki)))
    c = _stored(sample)
    assert c is not None and c.signature_status == "valid" and c.signature_accepted is None
    with session_scope(sample) as s:
        assert all(not i.signature_flags for i in due_list(s, date(2026, 2, 20), 30, include_ok=True))


def test_unsigned_dcc_imports_as_unsigned_without_a_flag(sample: Engine) -> None:
    _registry(sample)
    with session_scope(sample) as s:
        _, notes = import_dcc(s, FOREIGN.read_bytes(), accept_invalid_signature="not needed")
    c = _stored(sample)
    assert c is not None and c.signature_status == "unsigned" and c.signature_accepted is None
    assert any("not needed" in n or "not recorded" in n for n in notes)


# --- fuzz: a damaged signature or trust file never ends in a traceback ------------------------------------------
_SIGNED: dict[str, bytes] = {}


def _signed_once(pki: Pki) -> bytes:
    if "doc" not in _SIGNED:
        _SIGNED["doc"] = sign(FOREIGN.read_bytes(), pki.signer)
    return _SIGNED["doc"]


_OPS = st.sampled_from(["delete", "text", "duplicate", "attribute", "move_to_end"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzz_damaged_signatures_give_a_status_or_a_clear_error(pki: Pki, data: st.DataObject) -> None:
    trust = TrustStore((pki.ca.cert,), source="test")
    root = etree.fromstring(_signed_once(pki))
    sig_elements = list(root.iter("{http://www.w3.org/2000/09/xmldsig#}*"))
    for _ in range(data.draw(st.integers(1, 3))):
        uid = root.find(".//{https://ptb.de/dcc}uniqueIdentifier")
        el = data.draw(st.sampled_from(sig_elements + ([uid] if uid is not None else [])))
        op = data.draw(_OPS)
        parent = el.getparent()
        if op == "delete" and parent is not None:
            parent.remove(el)
        elif op == "text":
            el.text = data.draw(st.text(alphabet="ABCDEFabcdef0123456789+/= \n<>&", max_size=40))
        elif op == "duplicate" and parent is not None:
            parent.append(copy.deepcopy(el))
        elif op == "attribute":
            el.set(data.draw(st.sampled_from(["URI", "Algorithm", "Id"])), data.draw(st.text(alphabet="#:/abc01 ", max_size=20)))
        elif op == "move_to_end" and parent is not None:
            parent.remove(el)
            root.append(el)
        sig_elements = list(root.iter("{http://www.w3.org/2000/09/xmldsig#}*")) or [root]
    try:
        check = verify_dcc_signature(etree.tostring(root), trust)
    except DccError as exc:
        assert str(exc)
        return
    assert check.status in SIGNATURE_STATUSES and check.reason


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["ca.pem", "ca.crt", "ca.cer", "list.crl", "revoked-serials.txt"]),
       st.one_of(st.binary(max_size=300), st.text(max_size=200).map(str.encode),
                 st.just(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                 st.just(b"-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n")))
def test_fuzz_trust_files_load_or_name_the_file(tmp_path_factory: pytest.TempPathFactory, name: str,
                                                content: bytes) -> None:
    d = tmp_path_factory.mktemp("trust")
    (d / name).write_bytes(content)
    try:
        store = load_trust_store(d)
    except DccTrustError as exc:
        assert name in str(exc)
        return
    assert isinstance(store, TrustStore)


def test_a_signer_revoked_after_import_is_flagged_by_a_recheck(sample: Engine, pki: Pki, tmp_path: Path) -> None:
    from carbonmet.registry import recheck_signature

    _registry(sample)
    with session_scope(sample) as s:
        import_dcc(s, sign(FOREIGN.read_bytes(), pki.signer), trust=load_trust_store(trust_dir(tmp_path, pki)))
    # the institute revokes the key later; the operator adds the new CRL and re-checks
    revoked = load_trust_store(trust_dir(tmp_path / "later", pki, crl=make_crl(pki.ca, pki.signer.cert)))
    with session_scope(sample) as s:
        cert = s.scalar(select(Certificate).where(Certificate.cert_no == CERT_NO))
        assert cert is not None
        assert recheck_signature(s, cert, revoked, actor="王工") == ("valid", "signer_revoked")
        assert recheck_signature(s, cert, revoked) == ("signer_revoked", "signer_revoked")  # nothing new
        flags = {i.instrument: i.signature_flags for i in due_list(s, date(2026, 2, 20), 30, include_ok=True)}
        entries = s.scalars(select(AuditEntry).where(AuditEntry.entity_key == CERT_NO,
                                                     AuditEntry.actor == "王工")).all()
    assert len(flags["FT-NG-01"]) == 1 and "found when re-checked" in flags["FT-NG-01"][0]
    assert len(entries) == 1 and "signer_revoked" in entries[0].data
