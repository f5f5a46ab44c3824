"""The diffusion transformer: spacetime patches in, velocity out.

Structure follows Peebles & Xie 2023 ("Scalable Diffusion Models with Transformers", adaLN-Zero)
in the exact block layout of Wan2.1 (diffusers' `WanTransformer3DModel`), so open Wan weights map
onto it one to one (see wan_convert.py):

    latents (B, C, T, H, W) ──Conv3d patch──► tokens (B, N, D), N = T/pt · H/ph · W/pw
    t (B, T) ──sinusoid──► MLP ──► temb (B, F, D) ──SiLU·Linear──► 6 modulations per frame
    text (B, L, text_dim) ──MLP (GELU tanh)──► (B, L, D)
    block × depth:  x += gate · SelfAttn(modulate(LN(x)))       3D RoPE, RMS QK-norm across heads
                    x += CrossAttn(LN_affine(x), text)
                    x += gate · FFN(modulate(LN(x)))             GELU (tanh)
    LN · modulate(temb) ──Linear──► unpatchify ──► v (B, C, T, H, W)

Two additions, both switchable off for the side-by-side with Wan:
- the timestep is per latent frame, so condition frames can be held clean (t = 0) while the
  rest are denoised; a (B,) timestep means one shared time, as in Wan2.1.
- `pooled_text`: the masked mean of the text tokens, through a zero-initialised MLP, is added
  to the time embedding, so every modulation also sees the prompt (fast appearance learning).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from cinegen.common.errors import InputError
from cinegen.dit.config import DiTConfig
from cinegen.dit.rope import apply_rope, rope_freqs



def timestep_features(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal features [cos, sin] of t (...,) -> (..., dim); the same ops as diffusers' `Timesteps`."""
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    angles = t.float()[..., None] * torch.exp(exponent)  # (..., half)
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


class MLP(nn.Module):
    """Linear → activation → Linear; the time, text and pooled-text embedders and the FFN."""

    def __init__(self, d_in: int, d_hidden: int, d_out: int, act: nn.Module):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.act = act
        self.fc2 = nn.Linear(d_hidden, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """Multi-head attention through torch SDPA; self-attention with RoPE or cross-attention to text."""

    def __init__(self, dim: int, heads: int, qk_norm: bool, eps: float):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        # RMS norm over all heads together (Wan's "rms_norm_across_heads"): keeps logits bounded.
        self.q_norm = nn.RMSNorm(dim, eps=eps) if qk_norm else nn.Identity()
        self.k_norm = nn.RMSNorm(dim, eps=eps) if qk_norm else nn.Identity()

    def forward(
        self,
        x: torch.Tensor,                       # (B, N, D)
        context: torch.Tensor | None = None,   # (B, L, D); None: self-attention
        mask: torch.Tensor | None = None,      # (B, L) bool, True = attend
        rope: torch.Tensor | None = None,      # complex rotations (N, head_dim / 2)
    ) -> torch.Tensor:
        ctx = x if context is None else context
        q = self.q_norm(self.q(x)).unflatten(-1, (self.heads, -1))    # (B, N, heads, hd)
        k = self.k_norm(self.k(ctx)).unflatten(-1, (self.heads, -1))  # (B, L, heads, hd)
        v = self.v(ctx).unflatten(-1, (self.heads, -1))               # (B, L, heads, hd)
        if rope is not None:
            q, k = apply_rope(q, rope), apply_rope(k, rope)
        attn_mask = has_text = None
        if mask is not None:
            # A row with no tokens would give NaN (softmax over nothing): let it attend to
            # anything, then zero its output, i.e. "no text".
            has_text = mask.any(dim=-1)  # (B,)
            attn_mask = (mask | ~has_text[:, None])[:, None, None, :]  # (B, 1, 1, L)
        o = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=attn_mask)
        o = self.out(o.transpose(1, 2).flatten(2))  # (B, N, D)
        if has_text is not None:
            o = o * has_text.to(o.dtype)[:, None, None]
        return o


def _modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """x (B, N, D) with N = F·S tokens frame-major; shift, scale (B, F', 1, D), F' ∈ {1, F}."""
    b, n, d = x.shape
    xf = x.view(b, shift.shape[1], -1, d)  # (B, F', S, D)
    return torch.addcmul(shift, xf, 1 + scale).view(b, n, d)  # one fused pass: shift + x·(1 + scale)


def _gated_add(x: torch.Tensor, y: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
    """x + y·gate for x, y (B, N, D) and a per-frame gate (B, F', 1, D), in one fused pass."""
    b, n, d = x.shape
    f = gate.shape[1]
    return torch.addcmul(x.view(b, f, -1, d), y.view(b, f, -1, d), gate).view(b, n, d)


class DiTBlock(nn.Module):
    """One Wan2.1 transformer block with adaLN-Zero modulation of self-attention and FFN."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        d = cfg.dim
        self.norm1 = nn.LayerNorm(d, eps=cfg.eps, elementwise_affine=False)
        self.self_attn = Attention(d, cfg.heads, cfg.qk_norm, cfg.eps)
        self.norm2 = nn.LayerNorm(d, eps=cfg.eps, elementwise_affine=True) if cfg.cross_attn_norm else nn.Identity()
        self.cross_attn = Attention(d, cfg.heads, cfg.qk_norm, cfg.eps)
        self.norm3 = nn.LayerNorm(d, eps=cfg.eps, elementwise_affine=False)
        self.ffn = MLP(d, cfg.ffn_dim, d, nn.GELU(approximate="tanh"))
        # Learned per-block offset added to the shared time projection (Wan's scale_shift_table).
        self.modulation = nn.Parameter(torch.zeros(1, 6, d))

    def forward(
        self,
        x: torch.Tensor,          # (B, N, D)
        text: torch.Tensor,       # (B, L, D)
        text_mask: torch.Tensor | None,  # (B, L)
        mod: torch.Tensor,        # (B, F', 6, D)
        rope: torch.Tensor,       # (N, head_dim / 2) complex
    ) -> torch.Tensor:
        m = (self.modulation[:, None] + mod).unsqueeze(3)  # (B, F', 6, 1, D)
        shift1, scale1, gate1, shift2, scale2, gate2 = m.unbind(2)  # each (B, F', 1, D)
        x = _gated_add(x, self.self_attn(_modulate(self.norm1(x), shift1, scale1), rope=rope), gate1)
        x = x + self.cross_attn(self.norm2(x), text, text_mask)
        x = _gated_add(x, self.ffn(_modulate(self.norm3(x), shift2, scale2)), gate2)
        return x


class DiT(nn.Module):
    """v = model(x, t, text, text_mask): velocity for latents x at per-frame noise level t."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        self.patch_embed = nn.Conv3d(cfg.in_channels, d, kernel_size=cfg.patch_size, stride=cfg.patch_size)
        self.text_embed = MLP(cfg.text_dim, d, d, nn.GELU(approximate="tanh"))
        self.time_embed = MLP(cfg.freq_dim, d, d, nn.SiLU())
        self.time_mod = nn.Linear(d, 6 * d)  # applied to SiLU(temb): all six modulations at once
        self.pooled_embed = MLP(cfg.text_dim, d, d, nn.SiLU()) if cfg.pooled_text else None
        self.blocks = nn.ModuleList([DiTBlock(cfg) for _ in range(cfg.depth)])
        self.norm_out = nn.LayerNorm(d, eps=cfg.eps, elementwise_affine=False)
        self.out_modulation = nn.Parameter(torch.zeros(1, 2, d))
        self.out_proj = nn.Linear(d, cfg.out_dim * math.prod(cfg.patch_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier everywhere, then adaLN-Zero: every residual branch and the output start at zero."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.xavier_uniform_(self.patch_embed.weight.view(self.cfg.dim, -1))
        nn.init.zeros_(self.patch_embed.bias)
        for lin in (self.time_embed.fc1, self.time_embed.fc2):
            nn.init.normal_(lin.weight, std=0.02)
        zero = [self.time_mod, self.out_proj] + [b.cross_attn.out for b in self.blocks]
        if self.pooled_embed is not None:
            zero.append(self.pooled_embed.fc2)  # pooled text starts as a no-op
        for lin in zero:
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)
        nn.init.zeros_(self.out_modulation)
        for b in self.blocks:
            nn.init.zeros_(b.modulation)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _check(self, x: torch.Tensor, t: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor | None) -> None:
        cfg = self.cfg
        if x.ndim != 5 or x.shape[1] != cfg.in_channels:
            raise InputError(f"DiT expects latents (B, {cfg.in_channels}, T, H, W), got {tuple(x.shape)}")
        b, _, nt, h, w = x.shape
        if nt % cfg.patch_size[0] or h % cfg.patch_size[1] or w % cfg.patch_size[2]:
            raise InputError(f"latent size {(nt, h, w)} is not a multiple of the patch size {cfg.patch_size}")
        if tuple(t.shape) not in ((b,), (b, nt)):
            raise InputError(f"t must be ({b},) or ({b}, {nt}) for latents {tuple(x.shape)}, got {tuple(t.shape)}")
        if text.ndim != 3 or text.shape[0] != b or text.shape[2] != cfg.text_dim:
            raise InputError(f"text must be ({b}, L, {cfg.text_dim}), got {tuple(text.shape)}")
        if text_mask is not None and tuple(text_mask.shape) != tuple(text.shape[:2]):
            raise InputError(f"text_mask must be {tuple(text.shape[:2])}, got {tuple(text_mask.shape)}")

    def forward(
        self,
        x: torch.Tensor,                        # (B, C, T, H, W) latents
        t: torch.Tensor,                        # (B, T) per latent frame, or (B,); 0 = clean, 1 = noise
        text: torch.Tensor,                     # (B, L, text_dim)
        text_mask: torch.Tensor | None = None,  # (B, L) bool; None = all tokens valid
        frame_pos: torch.Tensor | None = None,  # (T / pt,) time position of each token frame; None = 0, 1, ...
    ) -> torch.Tensor:
        self._check(x, t, text, text_mask)
        cfg = self.cfg
        b, _, nt, h, w = x.shape
        pt, ph, pw = cfg.patch_size
        grid = (nt // pt, h // ph, w // pw)
        if text_mask is not None:
            text_mask = text_mask.bool()
            if bool(text_mask.all()):
                text_mask = None  # nothing to mask: SDPA's unmasked path is faster

        # Time per token frame: a temporal patch takes its noisiest frame.
        tf = t[:, None] if t.ndim == 1 else t.view(b, grid[0], pt).amax(dim=-1)  # (B, F'), F' ∈ {1, F}
        feats = timestep_features(tf * cfg.time_scale, cfg.freq_dim)  # float32 (sinusoids need it)
        temb = self.time_embed(feats.to(self.time_embed.fc1.weight.dtype))  # (B, F', D), bf16 weights included
        if self.pooled_embed is not None:
            temb = temb + self.pooled_embed(_masked_mean(text, text_mask))[:, None]  # (B, F', D)
        mod = self.time_mod(F.silu(temb)).unflatten(-1, (6, cfg.dim))  # (B, F', 6, D)
        ctx = self.text_embed(text)  # (B, L, D)
        if frame_pos is not None and tuple(frame_pos.shape) != (grid[0],):
            raise InputError(f"frame_pos must be ({grid[0]},) for latents {tuple(x.shape)}, got {tuple(frame_pos.shape)}")
        rope = rope_freqs(grid, cfg.head_dim, cfg.rope_theta, device=x.device, t_positions=frame_pos)  # (N, hd/2)

        z = self.patch_embed(x).flatten(2).transpose(1, 2).contiguous()  # (B, N, D), N = F·H'·W'
        for block in self.blocks:
            z = block(z, ctx, text_mask, mod, rope)

        shift, scale = (self.out_modulation[:, None] + temb[:, :, None]).unsqueeze(3).unbind(2)  # (B, F', 1, D)
        z = self.out_proj(_modulate(self.norm_out(z), shift, scale))  # (B, N, C·pt·ph·pw)
        z = z.reshape(b, *grid, pt, ph, pw, cfg.out_dim)
        z = z.permute(0, 7, 1, 4, 2, 5, 3, 6)  # (B, C, F, pt, H', ph, W', pw)
        z = z.reshape(b, cfg.out_dim, nt, h, w)
        if cfg.prediction == "x0":  # x_t = (1 − t)·x0 + t·ε  ⇒  v = ε − x0 = (x_t − x0) / t
            tt = t.view(b, 1, -1, 1, 1) if t.ndim == 2 else t.view(b, 1, 1, 1, 1)
            z = (x - z) / tt.to(z.dtype).clamp(min=X0_MIN_T)
        return z


X0_MIN_T = 0.05  # x0-prediction's velocity divides by t; near t = 0 (and on clean frames) by this instead


def _masked_mean(text: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over valid tokens: (B, L, E), (B, L) -> (B, E); a row with no tokens gives zeros."""
    if mask is None:
        return text.mean(dim=1)
    w = mask.to(text.dtype)[..., None]  # (B, L, 1)
    return (text * w).sum(dim=1) / w.sum(dim=1).clamp(min=1.0)
