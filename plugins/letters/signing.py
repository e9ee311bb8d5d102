"""Optional digital signing of outgoing letters (PAdES, with pyHanko).

When ``LETTERS_SIGNING_P12`` names a PKCS#12 file (``.p12`` / ``.pfx``: the charity's certificate and its
private key), every outgoing letter's PDF is signed before it is stored, in the numbering transaction,
so the stored (content-addressed) PDF is the signed one. The signature is invisible, covers the whole
file and certifies it with "no changes allowed"; its reason carries the letter's number.

A certificate that cannot be used (missing or unreadable file, wrong password, damaged file, no private
key, expired or not yet valid) stops issuing with a message for the officer: a charity that configured
signing expects every letter it sends to be signed.

The certificate is loaded once per process and kept while the file (path, modification time, size) and
the password stay the same.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal import dates

DEFAULT_REASON = "اعتماد خطاب صادر"


class SigningProblem(Exception):
    """The signing certificate cannot be used; ``message`` says why (for officers and admins)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Settings:
    path: Path
    password: str
    reason: str
    location: str
    contact: str


@dataclass
class LoadedCertificate:
    """A usable signer and what the status page shows about its certificate."""

    signer: object  # pyhanko SimpleSigner
    subject: str
    issuer: str
    not_before: dt.datetime  # aware, UTC
    not_after: dt.datetime  # aware, UTC
    sha256: str
    self_signed: bool


_cache: dict[tuple, LoadedCertificate] = {}
_lock = threading.Lock()


def _password(value) -> str:
    """``PORTAL_*`` values are parsed as JSON, so a password of digits arrives as a number."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def settings() -> Settings | None:
    """The signing settings, or None when signing is not configured (``LETTERS_SIGNING_P12`` unset or empty).
    A relative path is taken from the instance folder."""
    config = current_app.config
    raw = config.get("LETTERS_SIGNING_P12")
    if raw is None or not str(raw).strip():
        return None
    path = Path(str(raw).strip()).expanduser()
    if not path.is_absolute():
        path = Path(current_app.instance_path) / path
    return Settings(
        path=path,
        password=_password(config["LETTERS_SIGNING_P12_PASSWORD"]),
        reason=str(config.get("LETTERS_SIGNING_REASON") or DEFAULT_REASON).strip(),
        location=str(config.get("LETTERS_SIGNING_LOCATION") or "").strip(),
        contact=str(config.get("LETTERS_SIGNING_CONTACT") or "").strip(),
    )


def _day(moment: dt.datetime) -> str:
    day = dates.saudi_date(moment.replace(tzinfo=None))
    try:
        return f"{dates.format_hijri(day)} ({dates.format_gregorian(day)})"
    except (OverflowError, ValueError):  # outside the Umm al-Qura table
        return dates.format_gregorian(day)


def _signer_class():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from pyhanko.sign.signers import SimpleSigner

    digests = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}

    class KeptKeySigner(SimpleSigner):
        """pyHanko's SimpleSigner decodes (and, for RSA, re-checks) the private key on every signature,
        twice a letter (a size estimate, then the signature): about 80 ms each for a 2048-bit RSA key.
        This one keeps the decoded key for the common mechanisms and leaves the rest to pyHanko."""

        def __init__(self, *, private_key, **kwargs):
            super().__init__(**kwargs)
            self._private_key = private_key

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            digest = digests.get(digest_algorithm)
            key = self._private_key
            if digest is not None and mechanism == "rsassa_pkcs1v15" and isinstance(key, RSAPrivateKey):
                return key.sign(data, PKCS1v15(), digest())
            if digest is not None and mechanism == "ecdsa" and isinstance(key, EllipticCurvePrivateKey):
                return key.sign(data, ECDSA(digest()))
            return super().sign_raw(data, digest_algorithm)

    return KeptKeySigner


def _looks_like_pkcs12(data: bytes) -> bool:
    """Whether the bytes parse as a PKCS#12 structure (then a failure to open it means a wrong password)."""
    from asn1crypto import pkcs12

    try:
        pkcs12.Pfx.load(data, strict=True).native  # noqa: B018  (parses every level)
    except Exception:  # asn1crypto raises ValueError, TypeError or its own errors on damaged input
        return False
    return True


def _load(cfg: Settings, data: bytes) -> LoadedCertificate:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1, translate_pyca_cryptography_key_to_asn1
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    try:
        key, cert, others = pkcs12.load_key_and_certificates(data, cfg.password.encode() or None)
    except ValueError:
        if _looks_like_pkcs12(data):
            raise SigningProblem(_l("the certificate's password is wrong")) from None
        raise SigningProblem(_l("the file is not a PKCS#12 certificate file (.p12 or .pfx) or it is damaged")) from None
    if key is None:
        raise SigningProblem(_l("the file holds no private key"))
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey,
                            ed448.Ed448PrivateKey)):
        raise SigningProblem(_l("the private key's type is not supported (use RSA or elliptic curve)"))
    candidates = ([cert] if cert is not None else []) + list(others or [])
    if not candidates:
        raise SigningProblem(_l("the file holds no certificate"))
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    mine = key.public_key().public_bytes(*raw)
    # Some tools do not mark which certificate goes with the key: the one with the same public key does.
    cert = next((c for c in candidates if c.public_key().public_bytes(*raw) == mine), None)
    if cert is None:
        raise SigningProblem(_l("the private key does not belong to the certificate"))
    others = [c for c in candidates if c is not cert]
    store = SimpleCertificateStore()
    store.register_multiple([translate_pyca_cryptography_cert_to_asn1(c) for c in others or []])
    signer = _signer_class()(
        private_key=key, signing_cert=translate_pyca_cryptography_cert_to_asn1(cert),
        signing_key=translate_pyca_cryptography_key_to_asn1(key), cert_registry=store,
    )
    return LoadedCertificate(
        signer=signer, subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
        self_signed=cert.subject == cert.issuer,
    )


def load(cfg: Settings) -> LoadedCertificate:
    """The certificate of ``cfg``, from the per-process cache when the file and password are unchanged.
    Raises SigningProblem when it cannot be read or opened (validity dates are checked by ``check_dates``)."""
    try:
        stat = cfg.path.stat()
    except OSError:
        raise SigningProblem(_l("the certificate file does not exist or cannot be read")) from None
    key = (str(cfg.path), stat.st_mtime_ns, stat.st_size, hashlib.sha256(cfg.password.encode()).hexdigest())
    with _lock:
        loaded = _cache.get(key)
        if loaded is not None:
            return loaded
        try:
            data = cfg.path.read_bytes()
        except OSError:
            raise SigningProblem(_l("the certificate file does not exist or cannot be read")) from None
        loaded = _load(cfg, data)
        for old in [k for k in _cache if k[0] == key[0]]:  # the file or password changed: forget the old one
            del _cache[old]
        _cache[key] = loaded
        return loaded


def check_dates(loaded: LoadedCertificate, now: dt.datetime | None = None) -> None:
    now = now or dt.datetime.now(dt.UTC)
    if now < loaded.not_before:
        raise SigningProblem(_l("the certificate is not valid before %(date)s", date=_day(loaded.not_before)))
    if now > loaded.not_after:
        raise SigningProblem(_l("the certificate expired on %(date)s", date=_day(loaded.not_after)))


def prepare() -> tuple[Settings, LoadedCertificate] | None:
    """None when signing is not configured; else the settings and a usable certificate. Raises
    SigningProblem otherwise. Call it before taking a registry number: it is fast once loaded."""
    cfg = settings()
    if cfg is None:
        return None
    loaded = load(cfg)
    check_dates(loaded)
    import pyhanko.sign.signers  # noqa: F401  (the first import takes most of a second: not under the lock)

    return cfg, loaded


def sign_pdf(pdf: bytes, number: str, prepared: tuple[Settings, LoadedCertificate]) -> bytes:
    """The PDF with an invisible PAdES signature over the whole file that certifies it (no changes
    allowed). The reason names the letter's number; the field is named after it too."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    cfg, loaded = prepared
    short = number.split("-", 1)[1] if "-" in number else number
    meta = signers.PdfSignatureMetadata(
        field_name=f"Letter-{short}", reason=f"{cfg.reason} رقم {number}", location=cfg.location or None,
        contact_info=cfg.contact or None, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        certify=True, docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    pdf_signer = signers.PdfSigner(meta, signer=loaded.signer)
    return _run_coroutine(lambda: pdf_signer.async_sign_pdf(writer)).getvalue()


def _run_coroutine(make):
    """Run pyHanko's coroutine to the end. pyHanko's synchronous API calls ``asyncio.run``, which fails
    in a thread whose event loop is already running (an async server, a gevent/eventlet worker, a test
    runner driving a browser); there the coroutine runs in a short-lived thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="letters-sign") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def status() -> dict:
    """What the letters status page shows: configured or not, the certificate, and any problem."""
    cfg = settings()
    if cfg is None:
        return {"configured": False}
    info = {"configured": True, "path": str(cfg.path), "reason": cfg.reason, "location": cfg.location,
            "problem": None, "certificate": None, "days_left": None}
    try:
        loaded = load(cfg)
    except SigningProblem as exc:
        info["problem"] = exc.message
        return info
    info["certificate"] = loaded
    info["days_left"] = (loaded.not_after - dt.datetime.now(dt.UTC)).days
    try:
        check_dates(loaded)
    except SigningProblem as exc:
        info["problem"] = exc.message
    return info
