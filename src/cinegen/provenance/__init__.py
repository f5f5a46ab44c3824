"""Provenance: invisible watermark, signed C2PA manifest, visible label, verification.

Every generated video is marked as AI-generated: the watermark lives in the pixels (it survives
re-encoding, resizing, cropping and trimming) and the C2PA manifest in the file (it proves who
made it and breaks when the file is edited). Turn the watermark off with CINEGEN_WATERMARK=0 and
the manifest with CINEGEN_C2PA=0 (see settings.py).
"""
from cinegen.provenance.label import add_label
from cinegen.provenance.manifest import ManifestInfo, read_manifest, sign_file
from cinegen.provenance.settings import ProvenanceSettings
from cinegen.provenance.verify import VerifyReport, verify_file
from cinegen.provenance.watermark import (
    WatermarkConfig,
    WatermarkResult,
    detect_watermark,
    embed_watermark,
    make_payload,
    parse_payload,
)

__all__ = [
    "ManifestInfo", "ProvenanceSettings", "VerifyReport", "WatermarkConfig", "WatermarkResult", "add_label",
    "detect_watermark", "embed_watermark", "make_payload", "parse_payload", "read_manifest", "sign_file",
    "verify_file",
]
