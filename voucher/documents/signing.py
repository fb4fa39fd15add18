"""Signed PDFs (PAdES, pyHanko): the documents the bureau issues are signed on the way out, and the
signatures of uploaded PDFs are read on the way in (docs/decisions/0023-signed-documents.md).

The key and certificate come from VOUCHER_SIGNING_KEY_FILE / VOUCHER_SIGNING_CERT_FILE (PEM; the
certificate file may carry the chain after the signer's certificate; the key may be encrypted with
VOUCHER_SIGNING_KEY_PASSPHRASE). A development machine without them signs with a self-made
certificate generated once into VOUCHER_DATA_DIR/signing/self-signed.pem; production refuses to
start without them while VOUCHER_SIGN_DOCUMENTS is on (voucher/settings.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
import warnings
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from django.conf import settings

SELF_SIGNED_NAME = "北京市算力券申报系统（开发用自签名证书）"

# pyHanko (imported late: about 0.9 s, which only signing and verifying pay) imports
# cryptography's DSA types, which cryptography marks deprecated; these documents use ECDSA or RSA
warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"pyhanko\.")


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """One signature of a PDF, as `voucher documents verify` and the review page show it."""

    field: str
    signer: str  # the subject of the signing certificate, or "" when it could not be read
    signer_name: str  # its common name (or the whole subject when it has none)
    signed_at: dt.datetime | None
    intact: bool  # the signed bytes are unchanged since signing
    covers_whole_file: bool  # nothing was appended after this signature
    trusted: bool  # the certificate chains to a configured trust root
    problem: str = ""  # why the signature could not be checked

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted and not self.problem


class SigningUnavailable(Exception):
    """Signing is on but no key can be had (production without the configured files)."""


# --- the key and certificate ------------------------------------------------------------------


def _self_signed_path() -> Path:
    return Path(settings.DATA_DIR) / "signing" / "self-signed.pem"


def make_self_signed(path: Path, common_name: str = SELF_SIGNED_NAME, days: int = 3650) -> None:
    """A key and a self-made certificate in one PEM file, written atomically (several processes
    of a development machine may race to make it; the last rename wins, each file whole)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "北京市算力券申报系统"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + cert.public_bytes(serialization.Encoding.PEM)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".self-signed-")
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _key_and_cert_files() -> tuple[Path, Path]:
    key_file = getattr(settings, "VOUCHER_SIGNING_KEY_FILE", "")
    cert_file = getattr(settings, "VOUCHER_SIGNING_CERT_FILE", "")
    if key_file and cert_file:
        return Path(key_file), Path(cert_file)
    if not settings.VOUCHER_DEV:
        raise SigningUnavailable(
            "VOUCHER_SIGNING_KEY_FILE and VOUCHER_SIGNING_CERT_FILE are not set"
        )
    path = _self_signed_path()
    if not path.exists():
        make_self_signed(path)
    return path, path


@lru_cache(maxsize=4)
def _load(key_path: str, cert_path: str, passphrase: str, mtimes: tuple[float, float]) -> Any:
    from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = serialization.load_pem_private_key(
        Path(key_path).read_bytes(), password=passphrase.encode() if passphrase else None
    )
    certs = x509.load_pem_x509_certificates(Path(cert_path).read_bytes())
    as_asn1 = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs
    ]
    key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return signers.SimpleSigner(
        signing_cert=as_asn1[0],
        signing_key=key_info,
        cert_registry=SimpleCertificateStore.from_certs(as_asn1[1:]),
    )


def signer() -> Any:
    """The pyHanko signer of the configured (or, in development, self-made) key."""
    key_path, cert_path = _key_and_cert_files()
    return _load(
        str(key_path),
        str(cert_path),
        getattr(settings, "VOUCHER_SIGNING_KEY_PASSPHRASE", ""),
        (key_path.stat().st_mtime, cert_path.stat().st_mtime),
    )


def trust_roots() -> list[Any]:
    """The certificates a signature must chain to: VOUCHER_SIGNING_TRUST_ROOTS (a PEM file of one
    or more certificates), else the last certificate of the signing certificate file (its root;
    the self-made certificate on a development machine)."""
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    roots_file = getattr(settings, "VOUCHER_SIGNING_TRUST_ROOTS", "")
    if roots_file:
        certs = x509.load_pem_x509_certificates(Path(roots_file).read_bytes())
    else:
        try:
            _, cert_path = _key_and_cert_files()
        except SigningUnavailable:
            return []
        certs = x509.load_pem_x509_certificates(cert_path.read_bytes())[-1:]
    return [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs]


# --- signing ----------------------------------------------------------------------------------


def signing_enabled() -> bool:
    return bool(getattr(settings, "VOUCHER_SIGN_DOCUMENTS", True))


def sign_pdf(pdf: bytes, *, reason: str = "", field_name: str = "BureauSignature") -> bytes:
    """The PDF with a PAdES signature of the configured key (unchanged when signing is off)."""
    if not signing_enabled():
        return pdf
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None,
        location="北京",
    )
    out = signers.sign_pdf(writer, meta, signer=signer())
    signed: bytes = out.getvalue()
    return signed


# --- verifying --------------------------------------------------------------------------------


def _subject(cert: Any) -> str:
    try:
        return str(cert.subject.human_friendly)
    except Exception:  # a certificate whose name cannot be decoded
        return ""


def _common_name(cert: Any) -> str:
    try:
        return str(cert.subject.native.get("common_name") or "") or _subject(cert)
    except Exception:
        return ""


def verify_pdf(pdf: bytes, roots: list[Any] | None = None) -> list[SignatureReport]:
    """Each signature of the PDF, checked: intact, covering the file, chaining to a trust root.
    Raises ValueError when the file cannot be read as a PDF at all."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as error:  # pyHanko raises several kinds for a damaged file
        raise ValueError(f"not a readable PDF: {error}") from error
    context = ValidationContext(
        trust_roots=trust_roots() if roots is None else roots, allow_fetching=False
    )
    reports = []
    for sig in embedded:
        name = str(sig.field_name or "")
        try:
            status = validate_pdf_signature(sig, signer_validation_context=context)
        except Exception as error:  # a damaged signature: pyHanko raises several kinds
            cert = None
            with contextlib.suppress(Exception):
                cert = sig.signer_cert
            reports.append(
                SignatureReport(
                    field=name,
                    signer=_subject(cert) if cert is not None else "",
                    signer_name=_common_name(cert) if cert is not None else "",
                    signed_at=None,
                    intact=False,
                    covers_whole_file=False,
                    trusted=False,
                    problem=str(error) or type(error).__name__,
                )
            )
            continue
        reports.append(
            SignatureReport(
                field=name,
                signer=_subject(status.signing_cert),
                signer_name=_common_name(status.signing_cert),
                signed_at=status.signer_reported_dt,
                intact=bool(status.intact and status.valid),
                covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
                trusted=bool(status.trusted),
            )
        )
    return reports


# --- the signatures of an uploaded material ---------------------------------------------------

SIGNED = "signed"
UNSIGNED = "unsigned"
UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class MaterialSignatures:
    """What the review page shows of an uploaded PDF's signatures."""

    state: str  # SIGNED, UNSIGNED or UNREADABLE
    signatures: tuple[SignatureReport, ...] = ()


def _roots_fingerprint(roots: list[Any]) -> str:
    import hashlib

    return hashlib.sha256(b"".join(r.dump() for r in roots)).hexdigest()[:16]


def material_signatures(sha256: str, load: Any) -> MaterialSignatures:
    """The signatures of the uploaded PDF with this SHA-256, read once and kept in the cache (the
    bytes of an upload never change under its hash); `load()` gives the bytes, None when gone.
    A damaged file or signature never raises: it is UNREADABLE."""
    from django.core.cache import cache

    try:
        roots = trust_roots()
    except Exception:  # an unreadable trust-root file: signatures are still shown, untrusted
        roots = []
    key = f"pdf-signatures:v1:{sha256}:{_roots_fingerprint(roots)}"
    cached = cache.get(key)
    if isinstance(cached, MaterialSignatures):
        return cached
    content = load()
    if content is None:
        return MaterialSignatures(UNREADABLE)
    try:
        reports = verify_pdf(content, roots)
    except Exception:  # ValueError for a damaged PDF; anything else pyHanko may raise
        seen = MaterialSignatures(UNREADABLE)
    else:
        seen = MaterialSignatures(SIGNED if reports else UNSIGNED, tuple(reports))
    cache.set(key, seen, timeout=None)
    return seen
