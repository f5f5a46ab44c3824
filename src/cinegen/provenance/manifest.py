"""Signed C2PA manifests (c2pa-python): write into MP4 / PNG, read and validate.

The manifest says the file was created by a trained algorithm (IPTC digital source type
`trainedAlgorithmicMedia`), by which generator, model and when, and carries the SHA-256 of the
prompt (the prompt itself only on request). Signing is offline: no timestamp authority.

Without a configured key, a local development chain is made on first use in the user's config
folder: a CA and an end-entity certificate with the emailProtection extended key usage, EC
P-256 keys in PKCS#8. (c2pa rejects a lone self-signed certificate and an end-entity certificate
without a suitable EKU.) Readers then see the signer as a local development certificate.
"""
from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import cinegen
from cinegen.common.atomic import atomic_path
from cinegen.common.errors import InputError, OutputError
from cinegen.provenance.settings import ProvenanceSettings, config_dir

GENERATOR = "cinegen"
DEV_ORGANIZATION = "cinegen local development"  # marks the development chain's certificates
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
MIME_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".png": "image/png",
              ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def _version() -> str:
    return getattr(cinegen, "__version__", "0.0.0")


# ----------------------------------------------------------------------------- development chain


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANIZATION),
    ])


def _key_usage(sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=not sign,
                         crl_sign=not sign, encipher_only=False, decipher_only=False)


def make_dev_chain(folder: Path, days: int = 3650) -> tuple[Path, Path]:
    """Create a local CA + signer in `folder`; returns (key path, cert chain path)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=days)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("cinegen local development CA"))
          .issuer_name(_name("cinegen local development CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(_key_usage(sign=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("cinegen local development signer"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(sign=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_path, certs_path = folder / "signer.key.pem", folder / "signer.chain.pem"
    with atomic_path(key_path) as tmp:
        tmp.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        os.chmod(tmp, 0o600)
    with atomic_path(folder / "ca.pem") as tmp:
        tmp.write_bytes(ca.public_bytes(pem))
    with atomic_path(certs_path) as tmp:
        tmp.write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
    return key_path, certs_path


def dev_chain_paths() -> tuple[Path, Path]:
    """The local development key and chain, made on first use in the user's config folder."""
    folder = config_dir() / "c2pa-dev"
    key, certs = folder / "signer.key.pem", folder / "signer.chain.pem"
    if not (key.is_file() and certs.is_file()):
        key, certs = make_dev_chain(folder)
    return key, certs


# ----------------------------------------------------------------------------- signing


def _mime(path: Path) -> str:
    mime = MIME_TYPES.get(path.suffix.lower())
    if mime is None:
        raise InputError(f"cannot sign {path}: C2PA signing supports {', '.join(sorted(MIME_TYPES))}")
    return mime


def build_manifest(title: str, model_id: str, prompt: str | None, include_prompt: bool,
                   generation_id: int | None = None) -> dict:
    """The manifest definition: one `c2pa.created` action by a trained algorithm."""
    params: dict = {"model_id": model_id}
    if prompt is not None:
        params["prompt_sha256"] = hashlib.sha256(prompt.encode()).hexdigest()
        if include_prompt:
            params["prompt"] = prompt
    if generation_id is not None:
        params["generation_id"] = generation_id
    return {
        "claim_generator_info": [{"name": GENERATOR, "version": _version()}],
        "title": title,
        "assertions": [{
            "label": "c2pa.actions",
            "data": {"actions": [{
                "action": "c2pa.created",
                "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                "softwareAgent": {"name": GENERATOR, "version": _version()},
                "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "parameters": params,
            }]},
        }],
    }


def sign_file(path: str | os.PathLike, model_id: str, prompt: str | None = None, include_prompt: bool | None = None,
              settings: ProvenanceSettings | None = None, generation_id: int | None = None,
              title: str | None = None) -> Path:
    """Embed a signed C2PA manifest in the MP4 / PNG at `path`, in place and atomically. `title`: the name the
    manifest gives the file (default: its own; a temporary file signed before its rename passes the final one)."""
    path = Path(path)
    settings = ProvenanceSettings.from_env() if settings is None else settings
    include_prompt = settings.include_prompt if include_prompt is None else include_prompt
    if not path.is_file():
        raise InputError(f"cannot sign {path}: no such file")
    mime = _mime(path)
    key_path, certs_path = dev_chain_paths() if settings.uses_dev_chain else (settings.key, settings.certs)
    try:
        info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, Path(certs_path).read_bytes(),
                                   Path(key_path).read_bytes(), None)  # no timestamp URL: offline
        manifest = build_manifest(title or path.name, model_id, prompt, include_prompt, generation_id)
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder, \
                atomic_path(path) as tmp, open(path, "rb") as src, open(tmp, "w+b") as dst:
            builder.sign(signer, mime, src, dst)
    except c2pa.C2paError as e:
        raise OutputError(f"C2PA signing of {path} failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    return path


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ManifestInfo:
    present: bool
    valid: bool  # signature and content hashes check out (trust in the signer aside)
    tampered: bool  # a manifest is present but the content or claim no longer matches it
    signer: str | None  # the signing certificate's common name and organisation
    dev_cert: bool  # signed by a cinegen local development certificate
    trusted: bool  # the signer chains to a trust anchor known here (the local dev CA included)
    validation_state: str | None
    failures: tuple[str, ...]  # c2pa failure codes
    ai_generated: bool  # the active manifest declares trainedAlgorithmicMedia
    actions: tuple[dict, ...]
    generator: str | None
    error: str | None = None

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["failures"], d["actions"] = list(self.failures), list(self.actions)
        return d


def _trust_context() -> c2pa.Context | None:
    """A reader context that trusts the local development CA, when one exists here."""
    ca = config_dir() / "c2pa-dev" / "ca.pem"
    if not ca.is_file():
        return None
    settings = c2pa.Settings.from_dict({"verify": {"verify_trust": True}, "trust": {"trust_anchors": ca.read_text()}})
    return c2pa.Context(settings)


def read_manifest(path: str | os.PathLike) -> ManifestInfo:
    """Read and validate the C2PA manifest of a file; no manifest is not an error."""
    path = Path(path)
    none = ManifestInfo(False, False, False, None, False, False, None, (), False, (), None)
    try:
        context = _trust_context()
        reader = c2pa.Reader(str(path), context=context) if context is not None else c2pa.Reader(str(path))
    except c2pa.C2paError as e:
        text = str(e)
        if "ManifestNotFound" in type(e).__name__ or "not found" in text.lower() or "JumbfNotFound" in text:
            return none
        return ManifestInfo(True, False, True, None, False, False, "Invalid", (), False, (), None,
                            error=text.splitlines()[0] if text else type(e).__name__)
    with reader:
        state = reader.get_validation_state()
        results = reader.get_validation_results() or {}
        manifest = reader.get_active_manifest() or {}
    active = results.get("activeManifest", {}) if isinstance(results, dict) else {}
    failures = tuple(f.get("code", "") for f in active.get("failure", []))
    trust_codes = {"signingCredential.untrusted"}
    valid = state in ("Valid", "Trusted") or (bool(failures) and set(failures) <= trust_codes)
    sig = manifest.get("signature_info", {}) or {}
    issuer, cn = sig.get("issuer"), sig.get("common_name")
    actions: list[dict] = []
    for assertion in manifest.get("assertions", []):
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            actions.extend(assertion.get("data", {}).get("actions", []))
    ai = any(a.get("digitalSourceType") == TRAINED_ALGORITHMIC_MEDIA for a in actions)
    gen = manifest.get("claim_generator_info") or [{}]
    return ManifestInfo(
        present=True,
        valid=valid,
        tampered=not valid,
        signer=f"{cn} ({issuer})" if cn or issuer else None,
        dev_cert=issuer == DEV_ORGANIZATION,
        trusted=state == "Trusted",
        validation_state=state,
        failures=failures,
        ai_generated=ai,
        actions=tuple(actions),
        generator=" ".join(str(gen[0].get(k, "")) for k in ("name", "version")).strip() or None,
    )
