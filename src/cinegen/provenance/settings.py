"""Provenance settings: what gets marked and with which signing key.

Environment variables (each overrides the config file):
- CINEGEN_WATERMARK=0      turn the invisible watermark off (default on)
- CINEGEN_C2PA=0           turn the signed C2PA manifest off (default on)
- CINEGEN_C2PA_KEY=path    PEM private key (PKCS#8) of the signer
- CINEGEN_C2PA_CERTS=path  PEM certificate chain: signer first, then its issuers
- CINEGEN_INCLUDE_PROMPT=1 put the prompt itself in the manifest (default: only its SHA-256)
- CINEGEN_CONFIG_DIR=path  where the config file and the local development chain live

Config file: <config dir>/provenance.json with any of the keys
{"watermark": true, "c2pa": true, "key": "...", "certs": "...", "include_prompt": false}.
The config dir is the user's config folder (platformdirs: ~/.config/cinegen on Linux).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

from cinegen.common.errors import InputError


def config_dir() -> Path:
    """The user's cinegen config folder; never inside the repository."""
    env = os.environ.get("CINEGEN_CONFIG_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_config_dir("cinegen"))


def _flag(value: str, name: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise InputError(f"{name} must be 0 or 1, got {value!r}")


@dataclass(frozen=True)
class ProvenanceSettings:
    watermark: bool = True  # invisible watermark in the pixels of every frame
    c2pa: bool = True  # signed C2PA manifest in every MP4 / PNG
    key: Path | None = None  # signer's private key; None: the local development chain
    certs: Path | None = None  # signer's certificate chain (PEM)
    include_prompt: bool = False  # the manifest holds the prompt's SHA-256 unless this is set
    label: bool = False  # visible "AI-generated" corner text

    def __post_init__(self) -> None:
        if (self.key is None) != (self.certs is None):
            raise InputError("a C2PA signing key and certificate chain must be given together")
        for path in (self.key, self.certs):
            if path is not None and not Path(path).is_file():
                raise InputError(f"C2PA signing file {path} does not exist")

    @property
    def uses_dev_chain(self) -> bool:
        return self.key is None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ProvenanceSettings:
        """Defaults, then the config file, then the environment variables."""
        env = os.environ if environ is None else environ
        values: dict = {}
        cfg_file = config_dir() / "provenance.json"
        if cfg_file.is_file():
            try:
                data = json.loads(cfg_file.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise InputError(f"{cfg_file} is not valid JSON: {e}") from None
            unknown = set(data) - {"watermark", "c2pa", "key", "certs", "include_prompt", "label"}
            if unknown:
                raise InputError(f"{cfg_file}: unknown keys {sorted(unknown)}")
            values.update(data)
        for var, field in (("CINEGEN_WATERMARK", "watermark"), ("CINEGEN_C2PA", "c2pa"),
                           ("CINEGEN_INCLUDE_PROMPT", "include_prompt")):
            if var in env:
                values[field] = _flag(env[var], var)
        for var, field in (("CINEGEN_C2PA_KEY", "key"), ("CINEGEN_C2PA_CERTS", "certs")):
            if env.get(var):
                values[field] = env[var]
        for field in ("key", "certs"):
            if values.get(field) is not None:
                values[field] = Path(values[field]).expanduser()
        return cls(**values)

    def with_(self, **changes) -> ProvenanceSettings:
        return replace(self, **changes)
