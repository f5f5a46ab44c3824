"""Invisible video watermark: keyed spread-spectrum chips on a coarse grid, the same bits in every frame.

Design, for tiny frames (64×64 at 8 fps) that may be re-encoded, halved, cropped, trimmed:
- The mark lives on a G×G grid of smooth bumps over the central region of the frame, in
  normalised coordinates, so it does not depend on resolution (downscale) and a centre crop
  that keeps the region keeps all of it. Cells are large (≥ 2 px after a 0.5× downscale and an
  80 % crop), i.e. low frequencies, which H.264 keeps.
- Each of the 3·G² chips (grid cell × opponent colour channel: luma and two chroma axes) has a
  keyed random sign. A third of the chips carry a known sync code; the rest are split between
  the 72 bits of the Reed-Solomon coded payload (5 bytes + 4 parity).
- A chip is read as its bump coefficient (least squares) minus the blur of its neighbours
  (removes the smooth part of the host). Embedding is informed (the host is known there): each
  frame gets the pattern that makes the most chips read their target sign with a margin within
  the PSNR budget, sync chips first. Every frame carries the same bits, so any trimmed piece and
  any frame rate carry them; the detector averages all frames.
- Detection is a sign test over the sync chips, searched over centre-crop hypotheses: for
  unmarked content the key's chip signs are independent of the video, so the binomial tail is an
  exact false-alarm probability for any content; the union bound over hypotheses is reported.

Spread spectrum after Cox et al., "Secure spread spectrum watermarking for multimedia" (1997).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import reedsolo
from scipy.ndimage import gaussian_filter
from scipy.stats import binom

from cinegen.common.errors import InputError

PAYLOAD_BYTES = 5  # 16-bit model id hash + 24-bit generation id
PARITY_BYTES = 4  # Reed-Solomon: corrects 2 byte errors, or 2 erasures + 1 error
CODED_BITS = 8 * (PAYLOAD_BYTES + PARITY_BYTES)

# Orthonormal opponent colour axes (rows): luma, red-green, yellow-blue. Orthonormal, so the
# energy of a pattern in these axes is exactly its energy in RGB (and PSNR can be set exactly).
_OPPONENT = np.array(
    [[1, 1, 1], [1, -1, 0], [1, 1, -2]], dtype=np.float64
) / np.array([[math.sqrt(3)], [math.sqrt(2)], [math.sqrt(6)]])


@dataclass(frozen=True)
class WatermarkConfig:
    key: int = 0xC1E6E4  # seeds the chip signs and layout; detection needs the same key
    grid: int = 12  # cells per side of the marked region
    margin: float = 0.1  # the region is [margin, 1 - margin] of each axis: survives a centre crop to 80 %
    psnr_db: float = 40.5  # marked vs unmarked, over every frame
    sync_priority: float = 0.3  # sync chips are fixed before bit chips that cost up to 3x less
    margin_coef: tuple[float, float, float] = (2.0, 2.0, 2.0)  # wanted |chip| after whitening: luma, red-green, yellow-blue
    sync_fraction: float = 1 / 3  # chips given to the known sync code
    whiten_sigma: float = 0.7  # cells; the host's smooth part removed before correlating
    crops: tuple[float, ...] = tuple(round(1.0 - 0.01 * i, 2) for i in range(31))  # centre-crop hypotheses searched
    max_false_alarm: float = 1e-6  # detected when the false-alarm bound is below this

    def __post_init__(self) -> None:
        if not 4 <= self.grid <= 64:
            raise InputError(f"watermark grid must be in [4, 64], got {self.grid}")
        if not 0.0 <= self.margin < 0.4:
            raise InputError(f"watermark margin must be in [0, 0.4), got {self.margin}")
        if not 20.0 <= self.psnr_db <= 70.0:
            raise InputError(f"watermark psnr_db must be in [20, 70], got {self.psnr_db}")
        if len(self.margin_coef) != 3 or min(self.margin_coef) <= 0:
            raise InputError(f"margin_coef must be 3 positive numbers, got {self.margin_coef}")
        if not 0.05 <= self.sync_fraction <= 0.9:
            raise InputError(f"sync_fraction must be in [0.05, 0.9], got {self.sync_fraction}")
        n_bit_chips = 3 * self.grid**2 - int(round(self.sync_fraction * 3 * self.grid**2))
        if n_bit_chips < CODED_BITS:
            raise InputError(f"watermark grid {self.grid} is too small for {CODED_BITS} coded bits")
        if not self.crops or not all(0.3 <= c <= 1.0 for c in self.crops):
            raise InputError(f"crops must be fractions in [0.3, 1], got {self.crops}")
        if not 0.0 < self.max_false_alarm < 1.0:
            raise InputError(f"max_false_alarm must be in (0, 1), got {self.max_false_alarm}")


@dataclass(frozen=True)
class WatermarkResult:
    detected: bool
    payload: bytes | None  # the 5 payload bytes when the error correction succeeded
    p_false_alarm: float  # upper bound on the chance that unmarked content scores this high
    score: float  # the sync z-score of the best crop hypothesis
    bit_errors_corrected: int  # coded bits the Reed-Solomon decoder fixed (-1 when it failed)
    crop: float = 1.0  # the centre-crop hypothesis that scored best

    def to_dict(self) -> dict:
        return {
            "detected": self.detected,
            "payload": self.payload.hex() if self.payload is not None else None,
            "p_false_alarm": self.p_false_alarm,
            "score": round(self.score, 3),
            "bit_errors_corrected": self.bit_errors_corrected,
            "crop": self.crop,
        }


# ----------------------------------------------------------------------------- payload


def make_payload(model_id: str, generation_id: int) -> bytes:
    """5 bytes: the first 16 bits of sha256(model_id), then generation_id modulo 2**24."""
    if not isinstance(model_id, str) or not model_id:
        raise InputError("model_id must be a non-empty string")
    if not isinstance(generation_id, int) or generation_id < 0:
        raise InputError(f"generation_id must be a non-negative int, got {generation_id!r}")
    return hashlib.sha256(model_id.encode()).digest()[:2] + (generation_id % (1 << 24)).to_bytes(3, "big")


def parse_payload(payload: bytes) -> dict[str, str | int]:
    """The fields of a payload made by make_payload."""
    return {"model_hash": payload[:2].hex(), "generation_id": int.from_bytes(payload[2:5], "big")}


def model_hash(model_id: str) -> str:
    """The 16-bit model id hash as it appears in a decoded payload."""
    return hashlib.sha256(model_id.encode()).digest()[:2].hex()


def _encode_bits(payload: bytes) -> np.ndarray:
    if len(payload) != PAYLOAD_BYTES:
        raise InputError(f"watermark payload must be {PAYLOAD_BYTES} bytes, got {len(payload)}")
    coded = bytes(reedsolo.RSCodec(PARITY_BYTES).encode(payload))
    return np.unpackbits(np.frombuffer(coded, dtype=np.uint8)).astype(np.float64) * 2 - 1  # (72,) ±1


def _decode_bits(soft: np.ndarray) -> tuple[bytes | None, int]:
    """Soft bits (72,) → (payload, corrected bit count); erasures of the weakest bytes as a fallback."""
    hard = (soft > 0).astype(np.uint8)
    received = np.packbits(hard).tobytes()
    codec = reedsolo.RSCodec(PARITY_BYTES)
    weakest = np.argsort(np.abs(soft).reshape(-1, 8).min(axis=1))  # least reliable bytes first
    for erase in ([], list(weakest[:2])):  # 4 erasures would leave no check: any word would 'decode'
        try:
            data, full, _ = codec.decode(bytearray(received), erase_pos=[int(e) for e in erase] or None)
        except reedsolo.ReedSolomonError:
            continue
        fixed = np.unpackbits(np.frombuffer(bytes(full), dtype=np.uint8))
        return bytes(data), int((fixed != hard).sum())
    return None, -1


# ----------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Layout:
    signs: np.ndarray  # (3, G, G) ±1 keyed chip signs
    stream: np.ndarray  # (3, G, G) int: -1 for sync chips, else the coded bit index


def _layout(cfg: WatermarkConfig) -> _Layout:
    rng = np.random.default_rng(cfg.key)
    n = 3 * cfg.grid**2
    n_sync = int(round(cfg.sync_fraction * n))
    order = rng.permutation(n)
    stream = np.empty(n, dtype=np.int64)
    stream[order[:n_sync]] = -1
    stream[order[n_sync:]] = np.arange(n - n_sync) % CODED_BITS
    signs = rng.integers(0, 2, n) * 2.0 - 1.0
    shape = (3, cfg.grid, cfg.grid)
    return _Layout(signs.reshape(shape), stream.reshape(shape))


def _basis(n_pixels: int, cfg: WatermarkConfig, visible: float = 1.0) -> np.ndarray:
    """(n_pixels, G): the G smooth bumps sampled at the pixel centres of one axis.

    `visible` is the fraction of the original axis this axis shows (a centre crop); the bumps
    are raised-cosine, one cell wide on each side, and vanish at the region's edges.
    """
    u = 0.5 + visible * ((np.arange(n_pixels) + 0.5) / n_pixels - 0.5)  # original coordinate
    r = (u - cfg.margin) / (1.0 - 2.0 * cfg.margin)  # region coordinate in [0, 1]
    d = r[:, None] * (cfg.grid + 1) - (np.arange(cfg.grid)[None, :] + 1)  # distance in cells
    return np.where(np.abs(d) < 1.0, np.cos(0.5 * np.pi * d) ** 2, 0.0)


def _check_frames(frames: np.ndarray, what: str) -> np.ndarray:
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
        raise InputError(f"{what} needs uint8 frames, got {getattr(frames, 'dtype', type(frames).__name__)}")
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise InputError(f"{what} needs frames shaped (T, H, W, 3), got {tuple(frames.shape)}")
    if min(frames.shape[1:3]) < 8:
        raise InputError(f"{what} needs frames of at least 8×8 pixels, got {frames.shape[1]}×{frames.shape[2]}")
    return frames


# ----------------------------------------------------------------------------- embed


def _whiten(coef: np.ndarray, cfg: WatermarkConfig) -> np.ndarray:
    """Remove the smooth part of a coefficient grid (3, G, G): what is left is mostly the mark."""
    if cfg.whiten_sigma <= 0:
        return coef
    return coef - gaussian_filter(coef, sigma=(0, cfg.whiten_sigma, cfg.whiten_sigma), mode="nearest")


def _targets(payload: bytes, lay: _Layout) -> np.ndarray:
    """(3, G, G) ±1: the sign each chip should read, sync chips +1 times the key sign."""
    bits = _encode_bits(payload)
    return lay.signs * np.where(lay.stream < 0, 1.0, bits[np.maximum(lay.stream, 0)])


def embed_watermark(
    frames: np.ndarray, payload: bytes, cfg: WatermarkConfig = WatermarkConfig(), frame_offset: int = 0
) -> np.ndarray:
    """Add the watermark to uint8 frames (T, H, W, 3); returns new uint8 frames.

    Informed embedding (the host is known here, not at detection): each frame gets its own
    pattern that pushes as many chips as the PSNR budget allows to read their target sign with a
    margin, cheapest chips first; chips the host already reads right cost nothing. Every frame
    is marked on its own, so a long video can be marked chunk by chunk; `frame_offset` (the
    index of the chunk's first frame) is accepted for that use and does not change the result.
    """
    frames = _check_frames(frames, "embed_watermark")
    if frame_offset < 0:
        raise InputError(f"frame_offset must be >= 0, got {frame_offset}")
    t_len, h, w, _ = frames.shape
    lay = _layout(cfg)
    target = _targets(payload, lay)  # (3, G, G)
    by, bx = _basis(h, cfg), _basis(w, cfg)  # (H, G), (W, G)
    pby, pbx = np.linalg.pinv(by), np.linalg.pinv(bx)  # (G, H), (G, W)
    unit_energy = np.outer((by**2).sum(0), (bx**2).sum(0))[None]  # (1, G, G) pixel energy of a unit bump
    budget = (255.0**2 * 10 ** (-cfg.psnr_db / 10) - 1.0 / 12.0) * h * w * 3  # sum of squares per frame
    # Whitening keeps this much of a chip's own change (the blur takes the rest to its neighbours).
    gain = float(_whiten(np.pad(np.ones((1, 1, 1)), ((0, 0), (4, 4), (4, 4))), cfg)[0, 4, 4])
    margin = np.asarray(cfg.margin_coef, dtype=np.float64)[:, None, None]  # (3, 1, 1)
    priority = np.where(lay.stream < 0, cfg.sync_priority, 1.0)  # (3, G, G)

    out = np.empty_like(frames)
    for t in range(t_len):
        x = np.einsum("hwr,cr->chw", frames[t].astype(np.float64), _OPPONENT)  # (3, H, W)
        coef = np.einsum("gh,chw,kw->cgk", pby, x, pbx)  # (3, G, G)
        delta = np.zeros_like(coef)
        for share in (0.55, 0.7, 0.8, 0.85):  # later passes fix what the whitening spilled between neighbours
            read = target * _whiten(coef + delta, cfg)  # (3, G, G) > 0 where the chip reads right
            push = np.maximum(0.0, margin - read) / gain
            cost = push**2 * unit_energy
            spent = float((delta**2 * unit_energy).sum())
            order = np.argsort(cost * priority, axis=None)  # sync chips first: detection comes first
            chosen = order[np.cumsum(cost.flat[order]) <= max(0.0, budget * share - spent)]
            delta.flat[chosen] += (target * push).flat[chosen]
        # Spend what is left as a uniform extra margin e on every chip: pushes p run along the
        # target, so the energy is Σ u (p + e)², a quadratic in e.
        p = np.abs(delta)
        u = np.broadcast_to(unit_energy, delta.shape)
        a, b, c = float(u.sum()), float((u * p).sum()), float((u * p * p).sum())
        extra = (-b + math.sqrt(max(0.0, b * b - a * (c - budget)))) / a
        delta += max(0.0, extra) * target
        pattern = np.einsum("hg,cgk,wk->chw", by, delta, bx)  # (3, H, W)
        energy = float((pattern**2).sum())
        if energy > budget:  # overlaps between bumps: scale down to keep the PSNR promise
            pattern *= math.sqrt(budget / energy)
        rgb = np.einsum("chw,cr->hwr", pattern, _OPPONENT)  # (H, W, 3)
        out[t] = np.clip(np.rint(frames[t] + rgb), 0, 255).astype(np.uint8)
    return out


# ----------------------------------------------------------------------------- detect


def _projections(mean: np.ndarray, visible: float, cfg: WatermarkConfig) -> np.ndarray:
    """Least-squares bump coefficients of the mean frame (3, H, W), host smooth part removed → (3, G, G)."""
    by = _basis(mean.shape[1], cfg, visible)
    bx = _basis(mean.shape[2], cfg, visible)
    coef = np.einsum("gh,chw,kw->cgk", np.linalg.pinv(by), mean, np.linalg.pinv(bx))  # (3, G, G)
    return _whiten(coef, cfg)


def _read(mean: np.ndarray, visible: float, cfg: WatermarkConfig, lay: _Layout) -> np.ndarray:
    """Chip readings (3, G, G) in margin units, key signs removed: > 0 means the chip reads +1."""
    margin = np.asarray(cfg.margin_coef, dtype=np.float64)[:, None, None]
    return _projections(mean, visible, cfg) * lay.signs / margin


def _mean_frame(frames: np.ndarray) -> np.ndarray:
    """Mean frame in opponent axes (3, H, W), accumulated in chunks to bound memory."""
    total = np.zeros(frames.shape[1:], dtype=np.float64)
    for i in range(0, len(frames), 64):
        total += frames[i : i + 64].astype(np.float64).sum(axis=0)
    return np.einsum("hwr,cr->chw", total / len(frames), _OPPONENT)


def _sign_test(votes: np.ndarray) -> tuple[float, float]:
    """(z, one-sided p) of a sign test: under no watermark each vote is a fair coin."""
    n = int((votes != 0).sum())
    agree = int((votes > 0).sum())
    if n == 0:
        return 0.0, 1.0
    return (2 * agree - n) / math.sqrt(n), float(binom.sf(agree - 1, n, 0.5))


def detect_watermark(frames: np.ndarray, cfg: WatermarkConfig = WatermarkConfig()) -> WatermarkResult:
    """Look for the watermark in uint8 frames (T, H, W, 3) of any size, length or centre crop.

    The statistic is a sign test over the sync chips: without the watermark, the key's chip
    signs are independent of the video, so each chip agrees with its sign with probability 1/2
    whatever the content, and the binomial tail is an exact false-alarm probability; a union
    bound over the crop hypotheses searched makes it an upper bound.
    """
    frames = _check_frames(frames, "detect_watermark")
    lay = _layout(cfg)
    mean = _mean_frame(frames)
    sync = lay.stream < 0
    best: tuple[float, float, float, np.ndarray] | None = None
    for visible in cfg.crops:
        y = _read(mean, visible, cfg, lay)
        z, p = _sign_test(np.sign(y[sync]))
        if best is None or z > best[0]:
            best = (z, p, visible, y)
    assert best is not None
    z, p, visible, y = best
    p = min(1.0, len(cfg.crops) * p)
    detected = p < cfg.max_false_alarm
    soft = _soft_bits(y, lay)
    payload, corrected = _decode_bits(soft) if detected else (None, -1)
    return WatermarkResult(
        detected=detected, payload=payload, p_false_alarm=p, score=z, bit_errors_corrected=corrected, crop=visible
    )


def _soft_bits(y: np.ndarray, lay: _Layout) -> np.ndarray:
    """(72,) soft coded bits: clipped chip readings summed per bit (clipping bounds one chip's say)."""
    bit = lay.stream >= 0
    return np.bincount(lay.stream[bit], weights=np.clip(y[bit], -1.5, 1.5), minlength=CODED_BITS)


def coded_bits(payload: bytes) -> np.ndarray:
    """The 72 coded bits (0/1) of a payload, for measuring raw bit accuracy."""
    return (_encode_bits(payload) > 0).astype(np.uint8)


def read_coded_bits(frames: np.ndarray, cfg: WatermarkConfig = WatermarkConfig()) -> np.ndarray:
    """Coded bits (72,) 0/1 as read before error correction, at the best crop hypothesis."""
    res = detect_watermark(frames, cfg)
    lay = _layout(cfg)
    y = _read(_mean_frame(_check_frames(frames, "read_coded_bits")), res.crop, cfg, lay)
    return (_soft_bits(y, lay) > 0).astype(np.uint8)
