"""XML signatures (XMLDSig / XAdES) of a DCC: is the document what its signer signed, and is the signer trusted?

Pure functions over bytes and plain data: :func:`verify_dcc_signature` takes the document and a
:class:`TrustStore` and returns a :class:`SignatureCheck`; :func:`load_trust_store` reads the trust anchors
(the signing institutes' CA certificates), certificate revocation lists and a list of revoked serial numbers
from one directory.

The check has three steps, and the first that fails decides the status:

1. **integrity** — the signature value and every reference digest are verified with ``signxml`` using the
   signer's certificate from ``ds:KeyInfo/ds:X509Data``; one reference must cover the whole document
   (``URI=""`` with the enveloped-signature transform, or ``#<Id of the root>``). Failure: ``invalid``.
2. **trust** — the signer's certificate must chain to a trust anchor (``cryptography.x509.verification``;
   the signer's certificate must allow digital signatures or non-repudiation) at the signing time stated in
   the signed XAdES properties (``xades:SigningTime``), else at the time of the check. Failure:
   ``signer_untrusted`` (also when no trust anchors are configured, or the signature names no certificate).
3. **revocation** — no certificate of the chain below the anchor may be on a CRL of its issuer (the CRL's
   own signature verified; from the trust directory or carried in the signature's XAdES-LT revocation values)
   or in the revoked-serials list. Failure: ``signer_revoked``. (OCSP responses carried in the signature are
   not read.)

References
----------
W3C XML Signature Syntax and Processing 1.1 (2013); ETSI EN 319 132-1 (XAdES); RFC 5280 §6 (path
validation), §5 (CRLs); PTB DCC good practice on signed DCCs (enveloped XAdES signature of the whole document).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import verification as xv
from lxml import etree

from ._errors import DccError

SignatureStatus = Literal["valid", "invalid", "unsigned", "signer_untrusted", "signer_revoked"]
#: Statuses that refuse an import unless the operator accepts them, and flag the certificate afterwards.
FLAGGED_STATUSES: tuple[str, ...] = ("invalid", "signer_untrusted", "signer_revoked")
#: Every status, in the order of the checks.
SIGNATURE_STATUSES: tuple[str, ...] = ("valid", "invalid", "unsigned", "signer_untrusted", "signer_revoked")
STATUS_TEXT = {
    "valid": "签名有效 / signature valid",
    "invalid": "签名无效（内容与签名不符）/ signature invalid (the content is not what was signed)",
    "unsigned": "未签名 / not signed",
    "signer_untrusted": "签名人不受信任 / signer not trusted",
    "signer_revoked": "签名人证书已吊销 / signer's certificate revoked",
}

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = ("http://uri.etsi.org/01903/v1.3.2#", "http://uri.etsi.org/01903/v1.4.1#")
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_CERT_SUFFIXES = (".pem", ".crt", ".cer")
_CRL_SUFFIXES = (".crl",)
#: The revoked-serials list in a trust directory (one hexadecimal serial a line, ``#`` comments).
REVOKED_FILE = "revoked-serials.txt"
_HEX_RE = re.compile(r"(0x)?[0-9A-Fa-f]+(:[0-9A-Fa-f]{2})*")


class DccTrustError(DccError):
    """The trust directory (CA certificates, CRLs, revoked serials) cannot be read; names the file and line."""


@dataclass(frozen=True)
class TrustStore:
    """What a DCC signer is checked against (信任锚).

    Attributes
    ----------
    anchors : tuple of cryptography.x509.Certificate
        CA certificates of the signing institutes (trust anchors).
    crls : tuple of cryptography.x509.CertificateRevocationList
        Revocation lists; one is used only for certificates of its issuer and only when its signature verifies.
    revoked_serials : frozenset of int
        Serial numbers treated as revoked whatever their issuer (an operator's list, e.g. from a notice).
    source : str
        Where the store was read from (shown in reasons).
    """

    anchors: tuple[x509.Certificate, ...] = ()
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    revoked_serials: frozenset[int] = frozenset()
    source: str = ""


@dataclass(frozen=True)
class SignatureCheck:
    """The result of checking a DCC's XML signature.

    Attributes
    ----------
    status : {"valid", "invalid", "unsigned", "signer_untrusted", "signer_revoked"}
    reason : str
        Why (zh-CN first, English second), naming the certificate or the failing step.
    signer : str
        Subject of the signer's certificate (RFC 4514), ``""`` when none was found.
    signer_serial : str
        Its serial number in hexadecimal, ``""`` when none.
    signer_sha256 : str
        SHA-256 fingerprint of the signer's certificate (hex), ``""`` when none.
    signed_at : datetime or None
        ``xades:SigningTime`` when the signature states it (inside the signed properties).
    """

    status: SignatureStatus
    reason: str
    signer: str = ""
    signer_serial: str = ""
    signer_sha256: str = ""
    signed_at: datetime | None = None

    @property
    def flagged(self) -> bool:
        """True when an import must be refused unless accepted (and the certificate stays flagged)."""
        return self.status in FLAGGED_STATUSES

    def to_dict(self) -> dict[str, object]:
        return {"status": self.status, "reason": self.reason, "signer": self.signer,
                "signer_serial": self.signer_serial, "signer_sha256": self.signer_sha256,
                "signed_at": self.signed_at.isoformat() if self.signed_at else None, "flagged": self.flagged}


# --- the trust directory ------------------------------------------------------------------------------
def _load_certs(path: Path, data: bytes) -> list[x509.Certificate]:
    try:
        if b"-----BEGIN" in data:
            return list(x509.load_pem_x509_certificates(data))
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise DccTrustError(f"不是 X.509 证书 / not an X.509 certificate (PEM or DER): {exc}", source=str(path)) from None


def _load_crl(path: Path, data: bytes) -> x509.CertificateRevocationList:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise DccTrustError(f"不是证书吊销列表 / not a CRL (PEM or DER): {exc}", source=str(path)) from None


def parse_serial(text: str) -> int:
    """A certificate serial number written in hexadecimal (``5A3F``, ``0x5a3f``, ``5A:3F`` as OpenSSL prints it).

    Raises
    ------
    ValueError
        Not hexadecimal.
    """
    t = text.strip()
    if not t or not _HEX_RE.fullmatch(t):
        raise ValueError(f"not a hexadecimal serial number: {text!r}")
    return int(t.removeprefix("0x").removeprefix("0X").replace(":", ""), 16)


def load_trust_store(directory: str | Path) -> TrustStore:
    """Read a trust directory: ``*.pem``/``*.crt``/``*.cer`` CA certificates, ``*.crl`` revocation lists and
    ``revoked-serials.txt`` (one hexadecimal serial a line; ``#`` starts a comment). Other files are ignored.

    A CRL issued by one of the anchors must verify under it (a CRL that does not is an operator's error, not
    something to ignore silently).

    Raises
    ------
    DccTrustError
        The directory is missing, a file is unreadable or malformed, a line of the serials list is not
        hexadecimal, or a CRL's signature does not verify under its issuing anchor — naming the file (and line).
    """
    d = Path(directory)
    if not d.is_dir():
        raise DccTrustError("信任目录不存在 / trust directory does not exist", source=str(d))
    anchors: list[x509.Certificate] = []
    crls: list[tuple[Path, x509.CertificateRevocationList]] = []
    serials: set[int] = set()
    for path in sorted(d.iterdir()):
        if not path.is_file():
            continue
        name = path.name.lower()
        try:
            if name == REVOKED_FILE:
                lines = path.read_text(encoding="utf-8").splitlines()
            elif name.endswith(_CERT_SUFFIXES + _CRL_SUFFIXES):
                data = path.read_bytes()
            else:
                continue
        except (OSError, UnicodeDecodeError) as exc:
            raise DccTrustError(f"无法读取 / cannot read: {exc}", source=str(path)) from None
        if name == REVOKED_FILE:
            for i, line in enumerate(lines, 1):
                text = line.split("#", 1)[0].strip()
                if not text:
                    continue
                try:
                    serials.add(parse_serial(text))
                except ValueError as exc:
                    raise DccTrustError(str(exc), source=str(path), line=i, token=text) from None
        elif name.endswith(_CRL_SUFFIXES):
            crls.append((path, _load_crl(path, data)))
        else:
            anchors.extend(_load_certs(path, data))
    for path, crl in crls:
        for a in anchors:
            if a.subject == crl.issuer and not crl.is_signature_valid(a.public_key()):  # type: ignore[arg-type]
                raise DccTrustError(f"吊销列表的签名与签发 CA 不符 / the CRL's signature does not verify under its "
                                    f"issuer {a.subject.rfc4514_string()}", source=str(path))
    return TrustStore(tuple(anchors), tuple(c for _, c in crls), frozenset(serials), str(d))


# --- verification ----------------------------------------------------------------------------------------
def _ds(tag: str) -> str:
    return f"{{{DS_NS}}}{tag}"


def _signing_time(sig: etree._Element) -> datetime | None:
    for ns in XADES_NS:
        el = sig.find(f".//{{{ns}}}SigningTime")
        if el is not None and el.text:
            try:
                t = datetime.fromisoformat(el.text.strip())
            except ValueError:
                return None
            return t if t.tzinfo else t.replace(tzinfo=UTC)
    return None


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def _subject(cert: x509.Certificate) -> str:
    try:
        return cert.subject.rfc4514_string()
    except ValueError:
        return "<invalid subject>"


def _signing_key_usage(policy: object, cert: x509.Certificate, ku: x509.KeyUsage | None) -> None:
    if ku is None or not (ku.digital_signature or ku.content_commitment):
        raise ValueError("signer's certificate KeyUsage allows neither digitalSignature nor nonRepudiation")


def _covers_document(sig: etree._Element, root: etree._Element) -> bool:
    """True if a reference of the signature is the whole document (enveloped) or the root by its Id."""
    root_id = root.get("Id") or root.get("id") or root.get("ID")
    for ref in sig.findall(f"{_ds('SignedInfo')}/{_ds('Reference')}"):
        uri = ref.get("URI")
        if uri == "":
            algos = [t.get("Algorithm") for t in ref.findall(f"{_ds('Transforms')}/{_ds('Transform')}")]
            if _ENVELOPED in algos:
                return True
        elif uri is not None and root_id and uri == f"#{root_id}":
            return True
    return False


def _certs_of(sig: etree._Element) -> list[x509.Certificate]:
    out = []
    for el in sig.findall(f"{_ds('KeyInfo')}/{_ds('X509Data')}/{_ds('X509Certificate')}"):
        text = "".join((el.text or "").split())
        pem = f"-----BEGIN CERTIFICATE-----\n{text}\n-----END CERTIFICATE-----\n".encode()
        try:
            out.append(x509.load_pem_x509_certificate(pem))
        except ValueError:
            continue  # reported below as "no readable certificate"
    return out


def _embedded_crls(sig: etree._Element) -> list[x509.CertificateRevocationList]:
    """CRLs carried in the signature (XAdES-LT ``xades:RevocationValues/xades:CRLValues``); each is used only
    when its own signature verifies under the issuer in the chain, so they need no trust of their own."""
    out = []
    for ns in XADES_NS:
        for el in sig.iter(f"{{{ns}}}EncapsulatedCRLValue"):
            try:
                out.append(x509.load_der_x509_crl(base64.b64decode("".join((el.text or "").split()))))
            except (ValueError, binascii.Error):
                continue
    return out


def _integrity(raw: bytes, certs: list[x509.Certificate]) -> tuple[x509.Certificate | None, str]:
    """(the certificate whose key verifies the signature and every reference, "") or (None, why not)."""
    from signxml import SignatureConfiguration, XMLVerifier
    from signxml.exceptions import InvalidInput, SignXMLException

    first_error = ""
    for cert in certs:
        # integrity only: the validity period is checked with the chain, at the signing time
        when = cert.not_valid_before_utc + (cert.not_valid_after_utc - cert.not_valid_before_utc) / 2
        cfg = SignatureConfiguration(expect_references=True, verification_time=when)
        try:
            XMLVerifier().verify(raw, x509_cert=cert, expect_config=cfg)
            return cert, ""
        except InvalidInput as exc:
            return None, f"签名不可校验 / signature cannot be verified: {exc}"
        except SignXMLException as exc:
            first_error = first_error or str(exc)
        except (ValueError, TypeError, etree.LxmlError) as exc:
            first_error = first_error or f"{type(exc).__name__}: {exc}"
    return None, first_error or "no certificate verifies the signature"


def verify_dcc_signature(raw: bytes, trust: TrustStore | None = None, *, at: datetime | None = None) -> SignatureCheck:
    """Check the XML signature of a DCC document (数字证书签名校验).

    Parameters
    ----------
    raw : bytes
        The document as received (byte for byte; a signature covers the canonical form of these bytes).
    trust : TrustStore, optional
        Trust anchors, CRLs and revoked serials; ``None`` or empty: a signer cannot be trusted.
    at : datetime, optional
        When to check the signer's certificate if the signature states no signing time (default: now, UTC).

    Returns
    -------
    SignatureCheck
        ``unsigned`` when the document has no ``ds:Signature``; otherwise the first failing step's status
        (``invalid``, ``signer_untrusted``, ``signer_revoked``) or ``valid``, with the reason.

    Raises
    ------
    DccError
        The bytes are not well-formed XML (the signature cannot even be looked for).
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise DccError(f"not well-formed XML: {exc.msg}", line=exc.position[0] if exc.position else None) from None
    sigs = list(root.iter(_ds("Signature")))
    if not sigs:
        return SignatureCheck("unsigned", "文档没有 XML 签名 / the document has no XML signature (ds:Signature)")
    sig = sigs[0]
    if sig.getparent() is not root:
        return SignatureCheck("invalid", "签名不是根元素下的封装签名 / the ds:Signature is not an enveloped signature "
                                         "directly under the document root; only such a signature can cover the "
                                         "whole certificate")
    more = f"（共 {len(sigs)} 个签名，校验第一个 / {len(sigs)} signatures, the first checked）" if len(sigs) > 1 else ""
    if not _covers_document(sig, root):
        return SignatureCheck("invalid", "签名未覆盖整个文档 / the signature does not cover the whole document "
                                         "(no reference URI=\"\" with the enveloped-signature transform)" + more)
    certs = _certs_of(sig)
    signed_at = _signing_time(sig)
    if not certs:
        return SignatureCheck("signer_untrusted", "签名中没有可读的 X.509 证书，无法识别签名人 / the signature carries "
                                                  "no readable X.509 certificate: the signer cannot be identified" + more,
                              signed_at=signed_at)
    leaf, why = _integrity(raw, certs)
    if leaf is None:
        c = certs[0]
        return SignatureCheck("invalid", f"签名或摘要不符，文档在签名后被改动 / signature or digest mismatch: the "
                                         f"document was changed after signing ({why})" + more,
                              _subject(c), format(c.serial_number, "X"), _fingerprint(c), signed_at)
    ident = (_subject(leaf), format(leaf.serial_number, "X"), _fingerprint(leaf))
    when = signed_at or (at if at is not None else datetime.now(UTC))
    when_text = f"{when.isoformat()} ({'签名时间 signing time' if signed_at else '校验时间 time of the check'})"
    if trust is None or not trust.anchors:
        return SignatureCheck("signer_untrusted", "内容完整，但未配置信任锚 / content intact, but no trust anchors are "
                                                  "configured (CARBONMET_DCC_TRUST_DIR): signer " + ident[0] + more,
                              *ident, signed_at)
    others = [c for c in certs if c is not leaf]
    ee = xv.ExtensionPolicy.permit_all().require_present(x509.KeyUsage, xv.Criticality.AGNOSTIC, _signing_key_usage)
    builder = (xv.PolicyBuilder().store(xv.Store(list(trust.anchors))).time(when.astimezone(UTC).replace(tzinfo=None))
               .extension_policies(ee_policy=ee, ca_policy=xv.ExtensionPolicy.webpki_defaults_ca()))
    try:
        chain = builder.build_client_verifier().verify(leaf, others).chain
    except xv.VerificationError as exc:
        return SignatureCheck("signer_untrusted", f"签名人证书不能追溯到信任锚 / the signer's certificate does not chain to "
                                                  f"a trust anchor at {when_text}: {exc}; signer {ident[0]}" + more,
                              *ident, signed_at)
    embedded = _embedded_crls(sig)
    for i, cert in enumerate(chain[:-1]):  # the anchor itself is trusted by configuration
        issuer = chain[i + 1]
        if cert.serial_number in trust.revoked_serials:
            return SignatureCheck("signer_revoked", f"证书序列号在吊销清单中 / serial {cert.serial_number:X} of "
                                                    f"{_subject(cert)} is in {REVOKED_FILE}" + more, *ident, signed_at)
        for crl in (*trust.crls, *embedded):
            if crl.issuer != cert.issuer or not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                continue
            entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is not None:
                on = entry.revocation_date_utc.isoformat()
                return SignatureCheck("signer_revoked", f"证书已于 {on} 吊销 / {_subject(cert)} (serial "
                                                        f"{cert.serial_number:X}) was revoked on {on} (CRL of "
                                                        f"{_subject(issuer)})" + more, *ident, signed_at)
    anchor = _subject(chain[-1])
    return SignatureCheck("valid", f"签名有效，签名人 {ident[0]} 追溯到 {anchor} / signature valid: signer {ident[0]} "
                                   f"chains to {anchor} at {when_text}" + more, *ident, signed_at)
