"""Invisible video watermark: a low-frequency sync and orthogonal payload carriers, the same mark in every frame.

Design, for tiny frames (64×64 at 8 fps) that may be re-encoded, halved, cropped, trimmed:
- Geometry tied to the frame, not to pixels. Each axis of the central region [m, 1 - m] carries
  k smooth functions (mixtures of G raised-cosine bumps, orthonormal, ordered smooth → rough
  like a windowed DCT, with zero mean so a reading ignores what the picture does along the
  other axis alone). A chip is a product of a y and an x function in one of three orthonormal
  colour axes (luma, two chroma). A downscale samples the same functions at fewer pixels and a
  centre crop sees them at a larger scale; the detector tries a few crop scales.
- Read through masked slopes. cinegen's pictures are flat areas, gentle gradients and sharp
  edges. Readings come from pixel differences with every difference near an edge dropped: the
  flat parts vanish, the edges are gone, what is left is mostly the mark's gentle slopes. The
  chip coefficients are a weighted least-squares fit to the kept differences (weights: the share
  of frames that kept each), lightly ridged: a resize or a re-encode moves the edges and so the
  masks, and the fit reads the mark at its scale wherever it is left visible.
- Two jobs, disjoint carriers. The sync lives on the low-frequency chips (what H.264 keeps) and
  takes most of the energy; the 72 coded bits (5 payload bytes + 4 Reed-Solomon parity bytes)
  have one orthonormal key-seeded carrier each on the chips above it: no spill-over.
- Informed embedding (Malvar & Florêncio, "Improved spread spectrum", 2003): each frame gets the
  least change that makes its own readings show the sync and every bit with a margin and that
  cancels part of the picture's own readings, within the PSNR budget. Frames are marked one by
  one with the same carriers: chunked equals whole, and any trimmed piece or resampled frame
  rate carries the whole mark. The detector averages all frames' readings first.
- Honest p-values. With c the cosine between the readings on the sync chips (weighed by a fixed
  weight per chip) and the key's Gaussian sync, t = sqrt(n - 1) c / sqrt(1 - c²) is exactly
  Student-t (n - 1) for any content independent of the key; p_false_alarm =
  min_h P(t_{n-1} > t_h) / s_h over the H crop scales tried, a weighted union bound with shares
  s_h summing to 1 (most to the uncropped frame).
- Off objects. An evaluator finds objects as pixels that stand out from a plain or graded background
  and reads shape, size and tracks from their rims, where a level or two decides which pixels
  belong (measured on 100 of the shipped model's videos: a random smooth change at this PSNR flips
  76 pass / fail verdicts of cinegen.eval; the same energy kept off its objects grown 3 px, 21).
  So the pattern is multiplied by a mask that is 0 on objects and next to them (_quiet_mask), the
  flat background takes the whole budget, and the reader leaves the same pixels out. The mask is
  computed from the pixels alone and continuous in them, so the detector finds nearly the same one
  in marked, re-encoded frames, and the false-alarm test stays exact (it is the content's).
- Headroom dots for near-white videos. Brightening a video whose background sits near 255 clips
  nearly every pixel to 255 and erases any additive mark there. So a few key-placed pixels keep
  their blue channel (the least visible one) at or below headroom_level: after such an attack they
  are the only pixels below 255 besides the content's own. For any content independent of the key
  the dots' positions are a uniformly random subset, so the number of them that read below
  open_level is exactly hypergeometric: a second honest p-value, combined with the sync's by a
  weighted union bound (the sync keeps 99 % of the false-alarm allowance: it is the weaker test).

Spread spectrum after Cox et al., "Secure spread spectrum watermarking for multimedia" (1997).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import reedsolo
from scipy.linalg import eigh, null_space
from scipy.ndimage import maximum_filter, maximum_filter1d, uniform_filter

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
    key: int = 0xC1E6E4  # seeds the carriers; detection needs the same key
    grid: int = 10  # bumps per side of the marked region
    margin: float = 0.1  # the region is [margin, 1 - margin] of each axis: survives a centre crop to 80 %
    psnr_db: float = 40.3  # marked vs unmarked, every frame
    channel_weights: tuple[float, float, float] = (1.0, 0.5, 0.5)  # bit carriers' share: luma, red-green, yellow-blue
    sync_share: float = 24.0  # sync margin over one bit's margin (detection comes first)
    cancel_share: float = 0.07  # at most this share of the budget cancels the picture's own readings (more starves the sync)
    sync_band: int = 5  # chips with max(i, j) <= this carry the sync (low: H.264 keeps them); the rest the bits
    sync_weights: tuple[float, ...] = (1.0, 0.5, 0.8, 1.0)  # detector's weight of a sync chip by max(i, j), the last for the rest (smoothest chips: most H.264 noise)
    blind: int = 1  # polynomial moments (1: mean, 2: and slope) each axis's functions are blind to
    sync_channels: int = 1  # 1: the sync in luma only (H.264 at CRF 35 keeps luma best); 3: in luma and both chroma axes
    skip_low: int = 2  # chips (i, j) with i + j below this are not used: the picture's smooth part lives there
    edge_threshold: float = 12.0  # pixel differences (opponent units) above this are picture edges, not mark
    clip: float = 8.0  # readings clipped at this many robust standard deviations per channel: bounds a freak chip
    crops: tuple[float, ...] = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7)  # centre-crop scales the detector tries
    masked_solve: float = 0.3  # ridge λ of the masked least-squares reading (0: the plain, unweighted one)
    full_share: float = 0.8  # the first crop scale's share of the false-alarm allowance (1 / H: plain union bound)
    refine: float = 0.03  # the payload is read at the best scale within ± this of the detecting one
    max_false_alarm: float = 1e-4  # detected when the false-alarm bound is below this (the issue asks ≤ 1e-3)
    headroom_dots: int = 16  # key-placed pixels kept below headroom_level in blue (0: none)
    headroom_level: int = 216  # 1.1 · 216 + 8 < open_level: a dot survives the benchmark's brightening
    headroom_share: float = 0.25  # at most this share of a frame's PSNR budget goes to the dots
    headroom_when: float = 0.5  # dots only in frames where this share of pixels is near-white (all channels above the level)
    open_level: int = 250  # the detector counts a pixel whose blue is below this as unclipped
    headroom_alpha: float = 0.01  # the dots' share of the false-alarm allowance (weighted union bound)
    object_level: float = 16.0  # pixels this far (max over RGB) from their row's median are objects: no mark there (0: mark everywhere; 10: no fewer eval flips, more payload errors)
    object_grow: int = 2  # the object mask grows by this many pixels: the mark stays off the rims too (3: no fewer eval flips, less CRF-35 margin)
    object_max_share: float = 0.3  # above this share of object pixels a frame's mask fades out, by 0.5 it is marked everywhere (0.4: fewer eval flips, a CRF-35 miss)

    def __post_init__(self) -> None:
        if not 4 <= self.grid <= 32:
            raise InputError(f"watermark grid must be in [4, 32], got {self.grid}")
        if not 0.0 <= self.margin < 0.4:
            raise InputError(f"watermark margin must be in [0, 0.4), got {self.margin}")
        if not 20.0 <= self.psnr_db <= 70.0:
            raise InputError(f"watermark psnr_db must be in [20, 70], got {self.psnr_db}")
        if len(self.channel_weights) != 3 or min(self.channel_weights) < 0 or max(self.channel_weights) <= 0:
            raise InputError(f"channel_weights must be 3 non-negative numbers, one positive, got {self.channel_weights}")
        if not 0.0 <= self.cancel_share < 1.0:
            raise InputError(f"cancel_share must be in [0, 1), got {self.cancel_share}")
        if not self.sync_share > 0:
            raise InputError(f"sync_share must be positive, got {self.sync_share}")
        if not 0 <= self.skip_low <= self.grid:
            raise InputError(f"skip_low must be in [0, grid], got {self.skip_low}")
        if self.sync_channels not in (1, 2, 3):
            raise InputError(f"sync_channels must be 1, 2 or 3, got {self.sync_channels}")
        if not self.sync_weights or min(self.sync_weights) < 0 or max(self.sync_weights) <= 0:
            raise InputError(f"sync_weights must be non-negative numbers, one positive, got {self.sync_weights}")
        if self.blind not in (0, 1, 2):
            raise InputError(f"blind must be 0, 1 or 2, got {self.blind}")
        k = self.grid - self.blind  # functions per axis
        n_chips = 3 * sum(1 for i in range(k) for j in range(k) if i + j >= self.skip_low)
        n_bit_chips = 3 * (k**2 - min(k, self.sync_band + 1) ** 2)
        if n_bit_chips < CODED_BITS or n_chips - n_bit_chips < 12:
            raise InputError(f"grid {self.grid} with sync_band {self.sync_band} leaves too few chips for sync or bits")
        if not self.edge_threshold > 0:
            raise InputError(f"edge_threshold must be positive, got {self.edge_threshold}")
        if not self.clip > 0:
            raise InputError(f"clip must be positive, got {self.clip}")
        if not self.crops or not all(0.3 <= c <= 1.0 for c in self.crops):
            raise InputError(f"crops must be fractions in [0.3, 1], got {self.crops}")
        if not self.masked_solve >= 0:
            raise InputError(f"masked_solve must be >= 0, got {self.masked_solve}")
        if not 0.0 < self.full_share < 1.0:
            raise InputError(f"full_share must be in (0, 1), got {self.full_share}")
        if not 0.0 <= self.refine <= 0.2:
            raise InputError(f"refine must be in [0, 0.2], got {self.refine}")
        if not 0.0 < self.max_false_alarm < 1.0:
            raise InputError(f"max_false_alarm must be in (0, 1), got {self.max_false_alarm}")
        if not 0 <= self.headroom_dots <= 256:
            raise InputError(f"headroom_dots must be in [0, 256], got {self.headroom_dots}")
        if not 0.0 <= self.headroom_level < self.open_level <= 255:
            raise InputError(f"need 0 <= headroom_level < open_level <= 255, got {self.headroom_level}, {self.open_level}")
        if not 0.0 <= self.headroom_share < 1.0:
            raise InputError(f"headroom_share must be in [0, 1), got {self.headroom_share}")
        if not 0.0 < self.headroom_alpha < 1.0:
            raise InputError(f"headroom_alpha must be in (0, 1), got {self.headroom_alpha}")
        if not 0.0 <= self.headroom_when <= 1.0:
            raise InputError(f"headroom_when must be in [0, 1], got {self.headroom_when}")
        if not self.object_level >= 0:
            raise InputError(f"object_level must be >= 0, got {self.object_level}")
        if not 0 <= self.object_grow <= 16:
            raise InputError(f"object_grow must be in [0, 16], got {self.object_grow}")
        if not 0.0 <= self.object_max_share <= 1.0:
            raise InputError(f"object_max_share must be in [0, 1], got {self.object_max_share}")


@dataclass(frozen=True)
class WatermarkResult:
    detected: bool
    payload: bytes | None  # the 5 payload bytes when the error correction succeeded
    p_false_alarm: float  # upper bound on the chance that unmarked content scores this high
    score: float  # the sync t-score of the best crop scale (Student-t without the watermark)
    bit_errors_corrected: int  # coded bits the Reed-Solomon decoder fixed (-1 when it failed)
    crop: float = 1.0  # the centre-crop scale that scored best

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
    if not isinstance(payload, (bytes, bytearray)) or len(payload) != PAYLOAD_BYTES:
        raise InputError(f"watermark payload must be {PAYLOAD_BYTES} bytes (see make_payload)")
    coded = bytes(reedsolo.RSCodec(PARITY_BYTES).encode(bytes(payload)))
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


# ----------------------------------------------------------------------------- geometry


def _basis(n_pixels: int, cfg: WatermarkConfig, visible: float = 1.0) -> np.ndarray:
    """(n_pixels, G): the G smooth bumps of one axis sampled at its pixel centres.

    `visible` is the fraction of the original axis this axis shows (a centre crop); the bumps
    are raised-cosine, one cell wide on each side, and vanish at the region's edges.
    """
    u = 0.5 + visible * ((np.arange(n_pixels) + 0.5) / n_pixels - 0.5)  # original coordinate
    r = (u - cfg.margin) / (1.0 - 2.0 * cfg.margin)  # region coordinate in [0, 1]
    d = r[:, None] * (cfg.grid + 1) - (np.arange(cfg.grid)[None, :] + 1)  # distance in cells
    return np.where(np.abs(d) < 1.0, np.cos(0.5 * np.pi * d) ** 2, 0.0)


@lru_cache(maxsize=8)
def _shapes(cfg: WatermarkConfig) -> np.ndarray:
    """(G, k): bump mixtures orthonormal on the region, ordered smooth → rough (a windowed DCT of sorts).

    With blind = 1 (2) they also have zero mean (and zero slope) along the axis, so a reading is
    blind to whatever the picture does along the other axis alone: a sky's vertical gradient, a
    floor's horizontal bands; k = G - blind.
    """
    fine = _basis(4096, cfg, 1.0 / (1.0 - 2.0 * cfg.margin))  # (4096, G): the region alone, finely sampled
    free = np.eye(cfg.grid)  # (G, k)
    if cfg.blind:
        moments = np.stack([np.linspace(-1.0, 1.0, len(fine)) ** p for p in range(cfg.blind)])  # (blind, 4096)
        free = null_space(moments @ fine)
    fine = fine @ free
    slope = np.diff(fine, axis=0)
    _, vecs = eigh(slope.T @ slope, fine.T @ fine)  # generalised: gradient energy over energy, ascending
    return free @ vecs


@dataclass(frozen=True)
class _Axis:
    f: np.ndarray  # (n, G) the functions at the pixel centres, orthonormal
    df: np.ndarray  # (n - 1, G) their differences between neighbouring pixels
    lam: np.ndarray  # (G,) eigenvalues of dfᵀ df
    vec: np.ndarray  # (G, G) its eigenvectors


@lru_cache(maxsize=128)
def _axis(n_pixels: int, visible: float, cfg: WatermarkConfig) -> _Axis:
    """One axis sampled at n_pixels pixel centres, `visible` of the original axis shown.

    Löwdin orthonormalisation keeps each function close to its continuous shape, so the same
    function is read at any resolution or crop.
    """
    f = _basis(n_pixels, cfg, visible) @ _shapes(cfg)
    vals, vecs = np.linalg.eigh(f.T @ f)
    if vals.min() < 1e-6 * vals.max():
        raise InputError(f"frames of {n_pixels} pixels are too small for a {cfg.grid}-bump watermark grid")
    f = f @ (vecs / np.sqrt(vals)) @ vecs.T
    df = np.diff(f, axis=0)
    lam, vec = np.linalg.eigh(df.T @ df)
    return _Axis(f=f, df=df, lam=lam, vec=vec)


def _kept(cfg: WatermarkConfig) -> np.ndarray:
    """(3, G, G) bool: the chips used; the smoothest (i + j < skip_low) carry the most picture."""
    k = cfg.grid - cfg.blind
    i, j = np.indices((k, k))
    return np.broadcast_to(i + j >= cfg.skip_low, (3, k, k))


def _masked_gradients(
    x: np.ndarray, cfg: WatermarkConfig, quiet: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pixel differences (..., 3, H-1, W) and (..., 3, H, W-1) of opponent frames, zero near edges,
    and the masks (..., H-1, W), (..., H, W-1) that kept them (1 kept, 0 dropped).

    The pictures cinegen makes are mostly flat areas, smooth gradients and sharp edges. In
    differences the flat areas vanish and the edges are large; dropping every difference within a
    pixel of one above edge_threshold leaves little of the picture but the mark's gentle slopes.
    """
    gy, gx = x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]
    size = (1,) * (x.ndim - 3) + (3, 3)
    my = (maximum_filter(np.abs(gy).max(axis=-3), size=size, mode="nearest") <= cfg.edge_threshold).astype(gy.dtype)
    mx = (maximum_filter(np.abs(gx).max(axis=-3), size=size, mode="nearest") <= cfg.edge_threshold).astype(gx.dtype)
    if quiet is not None:  # (..., H, W): no mark is written on objects, so none is read there either
        my *= (quiet[..., 1:, :] * quiet[..., :-1, :]).astype(my.dtype)
        mx *= (quiet[..., :, 1:] * quiet[..., :, :-1]).astype(mx.dtype)
    gy *= my[..., None, :, :]
    gx *= mx[..., None, :, :]
    return gy, gx, my, mx


def _project(
    gy: np.ndarray, gx: np.ndarray, my: np.ndarray, mx: np.ndarray, visible: float, cfg: WatermarkConfig
) -> np.ndarray:
    """Readings (..., N) from masked differences: the chip coefficients a pattern with these slopes has.

    For a pattern P = fy C fxᵀ the kept differences project to b = A(C), with A the normal operator
    of the differences weighted by the masks (my, mx: the share of frames that kept each one).
    Unmasked, A(C) = Ly C + C Lx (Ly = dfyᵀ dfy), solved in the eigenbases of Ly and Lx. With
    masked_solve = λ > 0 the reading is the weighted least-squares fit (1 + λ)(A + λ A₁)⁻¹ b
    (A₁: A without masks, the ridge): a masked area then hides the mark without shrinking what the
    rest shows, so a reading after a resize or a re-encode (which move the masks) keeps its scale.
    """
    ay, ax = _axis(gy.shape[-2] + 1, visible, cfg), _axis(gx.shape[-1] + 1, visible, cfg)
    b = ay.df.T @ gy @ ax.f + ay.f.T @ gx @ ax.df  # (..., 3, G, G)
    if cfg.masked_solve <= 0:
        b = (ay.vec.T @ b @ ax.vec) / (ay.lam[:, None] + ax.lam[None, :])
        return (ay.vec @ b @ ax.vec.T)[..., _kept(cfg)]
    g = b.shape[-1]
    # A[(i, j), (I, J)] = Σ my dfy_i dfy_I fx_j fx_J + Σ mx fy_i fy_I dfx_j dfx_J, for every frame.
    ty = np.einsum("...yx,xj,xJ->...yjJ", my, ax.f, ax.f, optimize=True)  # (..., H-1, G, G)
    tx = np.einsum("...yx,xj,xJ->...yjJ", mx, ax.df, ax.df, optimize=True)  # (..., H, G, G)
    a = np.einsum("yi,yI,...yjJ->...ijIJ", ay.df, ay.df, ty, optimize=True)
    a += np.einsum("yi,yI,...yjJ->...ijIJ", ay.f, ay.f, tx, optimize=True)
    a = a.reshape(a.shape[:-4] + (g * g, g * g))
    full = (ay.lam[:, None] + ax.lam[None, :]).ravel()  # A₁ in the eigenbasis: diagonal
    q = np.kron(ay.vec, ax.vec)  # (G², G²): eigenbasis → chip (i, j) flattened row-major
    a1 = (q * full) @ q.T
    rhs = b.reshape(b.shape[:-2] + (g * g,))  # (..., 3, G²)
    c = np.linalg.solve(a + cfg.masked_solve * a1, np.swapaxes(rhs, -1, -2))  # (..., G², 3)
    c = (1.0 + cfg.masked_solve) * np.swapaxes(c, -1, -2).reshape(b.shape)
    return c[..., _kept(cfg)]


def _read(x: np.ndarray, visible: float, cfg: WatermarkConfig, quiet: np.ndarray | None = None) -> np.ndarray:
    """Readings (..., N) of opponent-axis frames (..., 3, H, W), objects left out where quiet (..., H, W) is 0."""
    return _project(*_masked_gradients(x, cfg, quiet), visible, cfg)


def _write(r: np.ndarray, h: int, w: int, cfg: WatermarkConfig) -> np.ndarray:
    """The pixel pattern (..., 3, H, W) with chip coefficients r (..., N); its energy is exactly ||r||²."""
    full = np.zeros(r.shape[:-1] + _kept(cfg).shape)
    full[..., _kept(cfg)] = r
    return _axis(h, 1.0, cfg).f @ full @ _axis(w, 1.0, cfg).f.T


# ----------------------------------------------------------------------------- carriers


@dataclass(frozen=True)
class _Carriers:
    band: np.ndarray  # (N,) bool: the low-frequency chips that carry the sync
    sync: np.ndarray  # (N,) i.i.d. N(0, 1) on the band, 0 elsewhere
    bits: np.ndarray  # (72, N) orthonormal rows on the other chips, one per coded bit
    sync_dir: np.ndarray  # (N,) the sync as a unit vector
    weight: np.ndarray | None = None  # (N,) what the detector weighs each chip's reading by (None: 1)


@lru_cache(maxsize=8)
def _carriers(cfg: WatermarkConfig) -> _Carriers:
    """Key-seeded carriers: the sync on the low band, the bits on the chips above it (disjoint, so
    orthogonal). Each from its own stream of the key."""
    kept = _kept(cfg)
    i, j = np.indices(kept.shape[1:])
    low = (np.maximum(i, j) <= cfg.sync_band)[None] & (np.arange(3) < cfg.sync_channels)[:, None, None]
    band = np.broadcast_to(low, kept.shape)[kept]  # (N,)
    channel = np.broadcast_to(np.asarray(cfg.channel_weights, dtype=np.float64)[:, None, None], kept.shape)[kept]
    bits = np.random.default_rng([cfg.key, 1]).standard_normal((CODED_BITS, len(band))) * channel * ~band
    q, _ = np.linalg.qr(bits.T)  # (N, 72)
    sync = np.random.default_rng([cfg.key, 2]).standard_normal(len(band)) * band
    levels = np.asarray(cfg.sync_weights, dtype=np.float64)
    weight = levels[np.minimum(np.broadcast_to(np.maximum(i, j), kept.shape)[kept], len(levels) - 1)]
    return _Carriers(band=band, sync=sync, bits=np.ascontiguousarray(q.T), sync_dir=sync / np.linalg.norm(sync),
                     weight=weight)


# ----------------------------------------------------------------------------- embed


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


def _opponent(frames: np.ndarray) -> np.ndarray:
    """uint8 RGB (T, H, W, 3) → opponent axes (T, 3, H, W) float32."""
    x = frames.astype(np.float32) @ _OPPONENT.T.astype(np.float32)  # float32: half the memory traffic
    return np.ascontiguousarray(np.moveaxis(x, -1, -3))


def _changes(host: np.ndarray, target: np.ndarray, want: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Coefficient changes (T, K) that make target·(host + change) ≥ mu·want, and no more."""
    return target * np.maximum(0.0, mu[:, None] * want[None] - target * host)


# ----------------------------------------------------------------------------- headroom dots


@lru_cache(maxsize=32)
def _dot_positions(h: int, w: int, cfg: WatermarkConfig) -> np.ndarray:
    """(n,) flat pixel indices of the headroom dots: a key-seeded, uniformly random subset of the frame."""
    rng = np.random.default_rng([cfg.key, 3, h, w])
    return np.sort(rng.choice(h * w, size=min(cfg.headroom_dots, h * w), replace=False))


def _dot_energy(blue: np.ndarray, level: np.ndarray) -> np.ndarray:
    """(..., T) squared change that lowers the dots' blue values (T, n) to at most `level` (..., T)."""
    return (np.maximum(0.0, blue - level[..., None]) ** 2).sum(axis=-1)


def _dot_levels(chunk: np.ndarray, dots: np.ndarray, cap: float, cfg: WatermarkConfig) -> tuple[np.ndarray, np.ndarray]:
    """((T,) blue level each frame's dots go down to, (T,) its cost in squared change).

    Only mostly near-white frames need dots (elsewhere enough pixels stay unclipped for the
    carriers), and there the level is headroom_level, or the lowest level above it whose cost
    fits `cap` (a pure-white frame would otherwise spend too much of the budget).
    """
    t = len(chunk)
    blue = chunk.reshape(t, -1, 3)[:, dots, 2].astype(np.float64)  # (T, n)
    levels = np.arange(cfg.headroom_level, 256, dtype=np.float64)  # (L,) 255 costs nothing
    fits = _dot_energy(blue, np.broadcast_to(levels[:, None], (len(levels), t))) <= cap  # (L, T)
    level = levels[np.argmax(fits, axis=0)]
    near_white = (chunk.min(axis=-1) > cfg.headroom_level).mean(axis=(1, 2))  # (T,)
    level = np.where(near_white >= cfg.headroom_when, level, 255.0)
    return level, _dot_energy(blue, level)


def _headroom_p(frames: np.ndarray, cfg: WatermarkConfig) -> float:
    """Chance that content independent of the key has as many dots reading unclipped: hypergeometric.

    A pixel is open when its blue is below open_level in at least half of the frames; that set is
    the content's, and the dots are a uniformly random subset of the frame's pixels.
    """
    t, h, w, _ = frames.shape
    if not cfg.headroom_dots:
        return 1.0
    count = np.zeros(h * w, dtype=np.int64)
    for i in range(0, t, 32):  # chunks bound memory
        count += (frames[i : i + 32, :, :, 2] < cfg.open_level).reshape(-1, h * w).sum(axis=0)
    opened = 2 * count >= t
    pos = _dot_positions(h, w, cfg)
    k = int(opened[pos].sum())
    from scipy.stats import hypergeom  # imported here: scipy.stats costs 0.6 s, and only detection needs it

    return float(hypergeom.sf(k - 1, h * w, int(opened.sum()), len(pos)))


# ----------------------------------------------------------------------------- embed


def embed_watermark(
    frames: np.ndarray, payload: bytes, cfg: WatermarkConfig = WatermarkConfig(), frame_offset: int = 0
) -> np.ndarray:
    """Add the watermark to uint8 frames (T, H, W, 3); returns new uint8 frames.

    Each frame gets the least change that lifts its own readings along the sync and the 72 bit
    carriers to margins in the ratio sync_share : 1, the margins as large as the PSNR budget
    allows (what the picture already reads right costs nothing). Frames are marked one by one
    with the same carriers, so a long video can be marked chunk by chunk; `frame_offset` (the
    index of the chunk's first frame) is accepted for that use and does not change the result.
    The headroom dots take their share of the budget first, so the whole stays within psnr_db.
    """
    frames = _check_frames(frames, "embed_watermark")
    if frame_offset < 0:
        raise InputError(f"frame_offset must be >= 0, got {frame_offset}")
    _, h, w, _ = frames.shape
    car = _carriers(cfg)
    dirs = np.concatenate([car.sync_dir[None], car.bits])  # (K, N) orthonormal
    target = np.concatenate([[1.0], _encode_bits(payload)])  # (K,) sign each coefficient should read
    want = np.concatenate([[cfg.sync_share], np.ones(CODED_BITS)])  # (K,) margin ratios
    total = (255.0**2 * 10 ** (-cfg.psnr_db / 10) - 1.0 / 12.0) * h * w * 3  # sum of squares per frame
    dots = _dot_positions(h, w, cfg) if cfg.headroom_dots else None

    out = np.empty_like(frames)
    for start in range(0, len(frames), 32):  # chunks bound memory on long videos
        chunk = frames[start : start + 32]
        budget = np.full(len(chunk), total)  # (T,) what the carriers may spend
        if dots is not None:
            level, cost = _dot_levels(chunk, dots, cfg.headroom_share * total, cfg)
            budget -= cost
        x = _opponent(chunk)  # (T, 3, H, W)
        quiet = _quiet_mask(chunk, cfg)  # (T, H, W): 0 on objects, where the mark is left out
        read = _read(x, 1.0, cfg, quiet)  # (T, N)
        host = read @ dirs.T  # (T, K) the carriers' coefficients now
        # The picture's readings off the carriers are what the detector's score is normalised by:
        # cancel them too, within cancel_share of the budget, so the sync stands out after attacks.
        off = read - host @ dirs  # (T, N)
        off_energy = (off**2).sum(axis=1)
        kappa = np.minimum(1.0, np.sqrt(cfg.cancel_share * budget / np.maximum(off_energy, 1e-12)))  # (T,)
        mu = _fit_margin(host, target, want, budget - kappa**2 * off_energy)  # (T,)
        delta = _changes(host, target, want, mu) @ dirs - kappa[:, None] * off  # (T, N) reading change
        # The reader ignores the mark where the picture has edges and the pattern is left out on
        # objects, so the first change reads a little short: read again and top up, then scale
        # the pattern to the budget (up, when the mask took some of it; more top-ups: measured, no gain).
        again = _read(x + quiet[:, None] * _write(delta, h, w, cfg), 1.0, cfg, quiet) @ dirs.T
        delta = delta + _changes(again, target, want, mu) @ dirs
        pattern = quiet[:, None] * _write(delta, h, w, cfg)  # (T, 3, H, W)
        pattern *= np.sqrt(budget / np.maximum((pattern**2).sum(axis=(1, 2, 3)), 1e-12))[:, None, None, None]
        rgb = np.moveaxis(pattern, 1, -1) @ _OPPONENT  # (T, H, W, 3)
        marked = np.clip(np.rint(chunk + rgb), 0, 255).astype(np.uint8)
        if dots is not None:
            flat = marked.reshape(len(chunk), -1, 3)  # a view: writes land in `marked`
            flat[:, dots, 2] = np.minimum(flat[:, dots, 2], level[:, None]).astype(np.uint8)
        out[start : start + 32] = marked
    return out


def _quiet_mask(chunk: np.ndarray, cfg: WatermarkConfig) -> np.ndarray:
    """(T, H, W) in [0, 1]: how much of the mark each pixel carries, near 0 on objects and their rims.

    An evaluator (or a viewer) finds objects as pixels that stand out from a plain or graded
    background and reads their shape from the rim, where a level or two decides which pixels
    belong to the object; on the flat background a small change means nothing. A pixel is an
    object's when it is more than object_level from its row's median (a plain background, or
    one row of a sky); the mask grows by object_grow and is softened over 3 pixels.
    Everything is continuous in the pixel values, so the detector, which computes the same mask
    from the marked (and perhaps re-encoded) frames, finds nearly the same one: the object test
    ramps over ±2 levels, and a frame whose objects cover more than object_max_share (a photo, a
    checker floor, a close-up: no flat background to move the mark to) fades the mask out over 0.2
    of share, where a hard switch would make marker and detector disagree on the whole frame.
    """
    if cfg.object_level <= 0:
        return np.ones(chunk.shape[:3])
    mid = chunk.shape[2] // 2
    rows = np.partition(chunk, mid, axis=2)[:, :, mid : mid + 1].astype(np.int16)  # (T, H, 1, 3) row medians
    far = np.abs(chunk.astype(np.int16) - rows)  # (T, H, W, 3)
    far = np.maximum(np.maximum(far[..., 0], far[..., 1]), far[..., 2])  # faster than max(axis=-1)
    obj = np.clip((far - cfg.object_level) / 4.0 + 0.5, 0.0, 1.0).astype(np.float32)  # (T, H, W)
    for axis in (1, 2):  # a square dilation, one axis at a time
        obj = maximum_filter1d(obj, 2 * cfg.object_grow + 1, axis=axis, mode="nearest")
    depth = np.clip((cfg.object_max_share + 0.2 - obj.mean(axis=(1, 2))) / 0.2, 0.0, 1.0)  # (T,)
    return uniform_filter(1.0 - depth[:, None, None] * obj, size=(1, 3, 3), mode="nearest")


def _fit_margin(host: np.ndarray, target: np.ndarray, want: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """(T,) the largest margin scale whose change fits the budget (the energy grows with it: bisect).

    The pattern is orthonormal in pixels, so its energy is the squared norm of the change.
    """
    lo = -np.abs(host).max(axis=1) / want.min() - 1.0  # nothing to change below this
    hi = np.sqrt(budget) / want.min() + 1.0  # beyond any budget
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        ok = (_changes(host, target, want, mid) ** 2).sum(axis=1) <= budget
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return lo


# ----------------------------------------------------------------------------- detect


def _mean_gradients(frames: np.ndarray, cfg: WatermarkConfig) -> tuple[np.ndarray, ...]:
    """Masked differences and masks averaged over all frames (each frame masked on its own, so
    moving edges go too)."""
    t, h, w, _ = frames.shape
    gy, gx = np.zeros((3, h - 1, w)), np.zeros((3, h, w - 1))
    my, mx = np.zeros((h - 1, w)), np.zeros((h, w - 1))
    for i in range(0, t, 32):  # chunks bound memory
        chunk = frames[i : i + 32]
        cy, cx, ky, kx = _masked_gradients(_opponent(chunk), cfg, _quiet_mask(chunk, cfg))
        gy += cy.sum(axis=0)
        gx += cx.sum(axis=0)
        my += ky.sum(axis=0)
        mx += kx.sum(axis=0)
    return gy / t, gx / t, my / t, mx / t


def _clipped(r: np.ndarray, cfg: WatermarkConfig) -> np.ndarray:
    """Readings (N,) in robust standard deviations per channel, clipped: no chip dominates."""
    kept = _kept(cfg)
    channel = np.broadcast_to(np.arange(3)[:, None, None], kept.shape)[kept]
    scale = np.array([np.median(np.abs(r[channel == c])) for c in range(3)]) * 1.4826 + 1e-9
    return np.clip(r / scale[channel], -cfg.clip, cfg.clip)


def _sync_t(u: np.ndarray, car: _Carriers) -> float:
    """Student-t score of the sync in readings u (N,).

    With c the cosine between the band's readings v and the key's Gaussian sync g, for any v
    that does not depend on the key, g's direction is uniform on the sphere and
    t = sqrt(n - 1) c / sqrt(1 - c²) follows Student's t with n - 1 degrees of freedom exactly.
    The readings are first weighed by a fixed weight per chip (sync_weights: less on the smoothest
    chips, where re-encoding leaves the most noise); being fixed, it leaves the test exact.
    """
    v, g = u[car.band], car.sync[car.band]
    if car.weight is not None:
        v = v * car.weight[car.band]
    c = float(g @ v / (np.linalg.norm(g) * np.linalg.norm(v) + 1e-300))
    return math.sqrt(len(v) - 1) * c / math.sqrt(max(1.0 - c * c, 1e-300))


def _crop_shares(cfg: WatermarkConfig) -> np.ndarray:
    """(H,) each crop scale's share of the false-alarm allowance: full_share to the first, the rest
    split evenly (a weighted union bound: most videos are not cropped, so their test costs less)."""
    h = len(cfg.crops)
    if h == 1:
        return np.ones(1)
    return np.concatenate([[cfg.full_share], np.full(h - 1, (1.0 - cfg.full_share) / (h - 1))])


def _scan(
    grads: tuple[np.ndarray, ...], crops: tuple[float, ...] | np.ndarray, cfg: WatermarkConfig,
    shares: np.ndarray | None = None,
) -> tuple[float, float, np.ndarray, float]:
    """(t, crop, clipped readings (N,), p) at the crop scale with the smallest weighted p-value
    P(t_{n-1} > t) / share (the highest sync score when no shares are given; p is then 1)."""
    car = _carriers(cfg)
    dof = int(car.band.sum()) - 1
    best: tuple[float, float, np.ndarray, float] | None = None
    if shares is not None:
        from scipy.stats import t as student_t  # imported here: see _headroom_p
    for h, visible in enumerate(crops):
        u = _clipped(_project(*grads, float(visible), cfg), cfg)
        t = _sync_t(u, car)
        p = float(student_t.sf(t, dof)) / float(shares[h]) if shares is not None else -t
        if best is None or p < best[3]:
            best = (t, float(visible), u, p)
    assert best is not None
    return best if shares is not None else best[:3] + (1.0,)


def _readings(frames: np.ndarray, cfg: WatermarkConfig) -> tuple[float, float, float, np.ndarray]:
    """(t, p_false_alarm, crop, readings): detect on the configured scales, then refine the scale
    for the payload (the refinement changes only where the bits are read, not the p-value)."""
    grads = _mean_gradients(frames, cfg)
    t, visible, u, p = _scan(grads, cfg.crops, cfg, _crop_shares(cfg))
    p = float(min(1.0, p))
    if cfg.refine > 0:
        fine = np.clip(visible + np.linspace(-cfg.refine, cfg.refine, 13), 0.3, 1.0)
        _, visible, u, _ = _scan(grads, tuple(np.round(fine, 4)), cfg)
    return t, p, visible, u


def _soft_bits(u: np.ndarray, cfg: WatermarkConfig) -> np.ndarray:
    """(72,) soft coded bits: the readings' coefficients along the bit carriers."""
    return _carriers(cfg).bits @ u


def detect_watermark(frames: np.ndarray, cfg: WatermarkConfig = WatermarkConfig()) -> WatermarkResult:
    """Look for the watermark in uint8 frames (T, H, W, 3) of any size, length or centre crop.

    Without the watermark the sync score is Student-t whatever the content (the key's sync is
    independent of the video), so p_sync = min_h P(t > score_h) / s_h, a weighted union bound over
    the H crop scales tried (shares s_h from _crop_shares, summing to 1); with the headroom dots'
    hypergeometric p_dots and a = headroom_alpha, p_false_alarm = min(p_sync / (1 - a), p_dots / a):
    again a weighted union bound, ≤ q with probability ≤ q.
    The payload is decoded only when the sync alone passes max_false_alarm (the dots carry no bits).
    """
    return detect_with_bits(frames, cfg)[0]


def detect_with_bits(frames: np.ndarray, cfg: WatermarkConfig = WatermarkConfig()) -> tuple[WatermarkResult, np.ndarray]:
    """detect_watermark, plus the 72 coded bits (0/1) as read before error correction (for benchmarks)."""
    frames = _check_frames(frames, "detect_watermark")
    t, p_sync, visible, u = _readings(frames, cfg)
    p = p_sync
    if cfg.headroom_dots:
        a = cfg.headroom_alpha
        p = min(1.0, p_sync / (1.0 - a), _headroom_p(frames, cfg) / a)
    detected = p < cfg.max_false_alarm
    soft = _soft_bits(u, cfg)
    payload, corrected = _decode_bits(soft) if detected and p_sync < cfg.max_false_alarm else (None, -1)
    result = WatermarkResult(
        detected=detected, payload=payload, p_false_alarm=p, score=t, bit_errors_corrected=corrected, crop=visible
    )
    return result, (soft > 0).astype(np.uint8)


def detection_threshold(cfg: WatermarkConfig = WatermarkConfig()) -> float:
    """The sync t-score above which a video read at full scale is detected, headroom dots aside."""
    from scipy.stats import t as student_t

    allowance = cfg.max_false_alarm * (1.0 - cfg.headroom_alpha) * float(_crop_shares(cfg)[0])
    return float(student_t.isf(allowance, int(_carriers(cfg).band.sum()) - 1))


def coded_bits(payload: bytes) -> np.ndarray:
    """The 72 coded bits (0/1) of a payload, for measuring raw bit accuracy."""
    return (_encode_bits(payload) > 0).astype(np.uint8)


def read_coded_bits(frames: np.ndarray, cfg: WatermarkConfig = WatermarkConfig()) -> np.ndarray:
    """Coded bits (72,) 0/1 as read before error correction, at the best crop scale."""
    return detect_with_bits(frames, cfg)[1]
