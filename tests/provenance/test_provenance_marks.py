"""Provenance: watermark round trip and robustness, false alarms, PSNR, C2PA sign/verify/tamper, CLI codes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cinegen.cli.verify_cmd import verify_command
from cinegen.common.errors import InputError
from cinegen.common.video_io import write_video
from cinegen.provenance import (
    ProvenanceSettings,
    WatermarkConfig,
    add_label,
    attacks,
    detect_watermark,
    embed_watermark,
    make_payload,
    parse_payload,
    read_manifest,
    sign_file,
    verify_file,
)
from cinegen.provenance.watermark import _carriers

PAYLOAD = make_payload("cinegen-test-model", 123456)


def smooth_video(seed: int, t: int = 24, size: int = 64) -> np.ndarray:
    """A soft gradient background with a blurred ball moving across: like the small model's output."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    c0, c1 = rng.uniform(40, 200, 3), rng.uniform(40, 200, 3)
    bg = c0 * (1 - yy[..., None]) + c1 * yy[..., None]
    colour = rng.uniform(0, 255, 3)
    p, v = rng.uniform(0.3, 0.7, 2), rng.uniform(-0.02, 0.02, 2)
    frames = []
    for i in range(t):
        cx, cy = p + v * i
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 0.08**2))[..., None]
        frames.append(bg * (1 - blob) + colour * blob)
    return np.clip(np.rint(np.stack(frames)), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def marked() -> tuple[np.ndarray, np.ndarray]:
    video = smooth_video(1)
    return video, embed_watermark(video, PAYLOAD)


@pytest.fixture()
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keys go to a temporary config folder, never the repo or the real user folder."""
    monkeypatch.setenv("CINEGEN_CONFIG_DIR", str(tmp_path / "config"))
    for var in ("CINEGEN_C2PA_KEY", "CINEGEN_C2PA_CERTS", "CINEGEN_WATERMARK", "CINEGEN_C2PA"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "config"


def test_payload_layout() -> None:
    fields = parse_payload(PAYLOAD)
    assert len(PAYLOAD) * 8 >= 32 and fields["generation_id"] == 123456
    assert make_payload("other-model", 123456) != PAYLOAD


def test_detect_and_psnr(marked: tuple[np.ndarray, np.ndarray]) -> None:
    video, wm = marked
    mse = ((wm.astype(np.float64) - video) ** 2).mean()
    assert 10 * np.log10(255**2 / mse) >= 40.0
    res = detect_watermark(wm)
    assert res.detected and res.p_false_alarm < 1e-6


def test_round_trip_payload_exact(marked: tuple[np.ndarray, np.ndarray]) -> None:
    assert detect_watermark(marked[1]).payload == PAYLOAD


def test_chunked_embedding_equals_whole(marked: tuple[np.ndarray, np.ndarray]) -> None:
    video, wm = marked
    parts = [embed_watermark(video[i : i + 8], PAYLOAD, frame_offset=i) for i in range(0, len(video), 8)]
    assert np.array_equal(np.concatenate(parts), wm)


@pytest.mark.parametrize(
    "attack", ["h264_crf28", "h264_crf35", "downscale_0.5", "crop_80", "trim_2s", "fps_12_to_8", "noise_3", "brightness"]
)
def test_survives_attack(marked: tuple[np.ndarray, np.ndarray], attack: str) -> None:
    res = detect_watermark(attacks.standard_attacks()[attack](marked[1]))
    assert res.detected, (attack, res)


def test_h264_attack_is_reproducible(marked: tuple[np.ndarray, np.ndarray]) -> None:
    """The benchmark's re-encode gives the same frames every time (one thread, x264's C code)."""
    wm = marked[1]
    first = attacks.h264(wm, 35)
    assert all(np.array_equal(first, attacks.h264(wm.copy(), 35)) for _ in range(3))


def disc_video(t: int = 12, size: int = 64) -> np.ndarray:
    """A crisp disc gliding over a plain background: the kind of picture an evaluator segments."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    frames = np.empty((t, size, size, 3), dtype=np.uint8)
    for i in range(t):
        inside = (xx - 20 - 2 * i) ** 2 + (yy - 32) ** 2 < 8.0**2
        frames[i] = np.where(inside[..., None], [220, 40, 40], [90, 110, 130])
    return frames


def test_mark_stays_off_objects() -> None:
    """No pixel of an object or next to it changes, the next ring little; the flat background carries
    the whole budget (PSNR still >= 40 dB over the frame) and the mark is found with its payload."""
    from scipy.ndimage import binary_dilation

    video = disc_video()
    wm = embed_watermark(video, PAYLOAD)
    obj = (video != video[:, :1, :1]).any(axis=-1)  # (T, H, W) the disc
    near = binary_dilation(obj, np.ones((1, 3, 3), dtype=bool))
    ring = binary_dilation(near, np.ones((1, 3, 3), dtype=bool)) & ~near
    change = ((wm.astype(np.float64) - video) ** 2).sum(axis=-1)  # (T, H, W)
    assert np.array_equal(wm[near], video[near]) and change[ring].mean() < 0.5 * change[~near].mean()
    assert 10 * np.log10(255**2 / ((wm.astype(np.float64) - video) ** 2).mean()) >= 40.0
    res = detect_watermark(wm)
    assert res.detected and res.payload == PAYLOAD
    assert detect_watermark(attacks.h264(wm, 28)).detected


def test_object_mask_is_stable_under_small_changes() -> None:
    """The detector recomputes the mask from marked, re-encoded frames: a level or two of change
    must move it little (it is continuous in the pixel values, never a whole frame at once)."""
    from cinegen.provenance.watermark import _quiet_mask

    cfg = WatermarkConfig()
    for video in (smooth_video(2), disc_video()):
        q = _quiet_mask(video, cfg)
        assert 0.0 <= q.min() and q.max() <= 1.0 and q.min() < 0.01  # objects found
        moved = _quiet_mask(attacks.noise(video, 1.0, seed=4), cfg)
        assert np.abs(moved - q).mean() < 0.02
    assert (_quiet_mask(smooth_video(2), WatermarkConfig(object_level=0)) == 1).all()


def near_white_video(seed: int, t: int = 16, size: int = 64, white: float = 238.0) -> np.ndarray:
    """A near-white background with a small soft blob: brightening clips almost every pixel to 255."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    bg = np.array([white, white - 2, white - 7]) + rng.normal(0.0, 0.5, (size, size, 3))
    colour, p = rng.uniform(60, 200, 3), rng.uniform(0.3, 0.7, 2)
    blob = np.exp(-((xx - p[0]) ** 2 + (yy - p[1]) ** 2) / (2 * 0.02**2))[..., None]
    frame = bg * (1 - blob) + colour * blob
    return np.clip(np.rint(np.stack([frame] * t)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("white", [238.0, 255.0])
def test_near_white_survives_brightening(white: float) -> None:
    """The headroom dots: after ×1.1 + 8 nearly every pixel is 255, yet the mark is found, within the PSNR."""
    video = near_white_video(5, white=white)
    wm = embed_watermark(video, PAYLOAD)
    assert 10 * np.log10(255**2 / ((wm.astype(np.float64) - video) ** 2).mean()) >= 40.0
    attacked = attacks.standard_attacks()["brightness"](wm)
    assert (attacked == 255).all(axis=-1).mean() > 0.95  # the case that matters: almost nothing left
    assert detect_watermark(attacked).detected
    # Unmarked near-white content, brightened the same way, stays below the threshold.
    plain = detect_watermark(attacks.standard_attacks()["brightness"](video))
    assert not plain.detected and plain.p_false_alarm > 1e-3


@pytest.mark.parametrize("attack", ["crop_80", "trim_2s", "noise_3"])
def test_payload_survives_mild_attacks(marked: tuple[np.ndarray, np.ndarray], attack: str) -> None:
    assert detect_watermark(attacks.standard_attacks()[attack](marked[1])).payload == PAYLOAD


def test_sync_score_is_student_t_for_any_content() -> None:
    """The false-alarm probability rests on this: for fixed readings and a random key, the sync
    score follows Student's t exactly, even for readings as skewed as a real picture's."""
    from scipy import stats

    from cinegen.provenance.watermark import (
        _Carriers,
        _clipped,
        _mean_gradients,
        _project,
        _sync_t,
    )

    cfg = WatermarkConfig()
    u = _clipped(_project(*_mean_gradients(smooth_video(7, t=4), cfg), 1.0, cfg), cfg)  # fixed content
    band, weight = _carriers(cfg).band, _carriers(cfg).weight  # the detector's own chip weights
    rng = np.random.default_rng(0)
    scores = []
    for _ in range(3000):  # a fresh key each time
        sync = rng.standard_normal(len(band)) * band
        car = _Carriers(band=band, sync=sync, bits=np.zeros((0, len(band))), sync_dir=sync, weight=weight)
        scores.append(_sync_t(u, car))
    assert stats.kstest(scores, stats.t(int(band.sum()) - 1).cdf).pvalue > 0.01


def test_masked_reading_is_exact_under_any_mask() -> None:
    """The masked least-squares reading gives a pattern's chip coefficients back whatever the masks
    hide (here 60 % of the differences), where the plain reading shrinks them."""
    from cinegen.provenance.watermark import _kept, _masked_gradients, _project, _write

    cfg = WatermarkConfig(masked_solve=1e-9)
    rng = np.random.default_rng(3)
    r = rng.standard_normal(int(_kept(cfg).sum()))
    gy, gx, my, mx = _masked_gradients(_write(r, 48, 56, cfg), cfg)  # a smooth pattern: nothing masked
    my, mx = (rng.random(my.shape) > 0.6).astype(float), (rng.random(mx.shape) > 0.6).astype(float)
    gy, gx = gy * my, gx * mx
    assert np.allclose(_project(gy, gx, my, mx, 1.0, cfg), r, atol=1e-6)
    plain = _project(gy, gx, my, mx, 1.0, WatermarkConfig(masked_solve=0.0))
    assert np.linalg.norm(plain) < 0.7 * np.linalg.norm(r)
    unmasked = _masked_gradients(_write(r, 48, 56, cfg), cfg)  # no mask: the ridge changes nothing
    assert np.allclose(_project(*unmasked, 1.0, WatermarkConfig(masked_solve=0.3)), r, atol=1e-6)


def test_detection_threshold_is_the_detectors(marked: tuple[np.ndarray, np.ndarray]) -> None:
    """Below the threshold score nothing is detected (no crop scale has a larger share), above it at
    full scale the mark is."""
    from cinegen.provenance.watermark import detection_threshold

    thr = detection_threshold()
    assert 3.0 < thr < 6.0
    res = detect_watermark(marked[1])
    assert res.score > thr and res.detected
    for seed in range(3):
        plain = detect_watermark(smooth_video(200 + seed))
        assert plain.score < thr and not plain.detected


def test_crop_shares_are_a_weighted_union_bound() -> None:
    from cinegen.provenance.watermark import _crop_shares

    cfg = WatermarkConfig()
    shares = _crop_shares(cfg)
    assert len(shares) == len(cfg.crops) and shares[0] == cfg.full_share and abs(shares.sum() - 1.0) < 1e-12


def test_no_false_alarm_on_unmarked() -> None:
    rng = np.random.default_rng(0)
    pvals = []
    for seed in range(6):
        for video in (smooth_video(100 + seed), rng.integers(0, 256, (8, 48, 64, 3), dtype=np.uint8)):
            res = detect_watermark(video)
            assert not res.detected and res.payload is None
            pvals.append(res.p_false_alarm)
    assert min(pvals) > 1e-4  # a bound for a fair-coin sign test: tiny values would be a bug


def test_result_is_plain_json(marked: tuple[np.ndarray, np.ndarray]) -> None:
    import json

    res = detect_watermark(marked[1])
    assert type(res.detected) is bool and type(res.p_false_alarm) is float
    json.dumps(res.to_dict())


def test_wrong_key_does_not_detect(marked: tuple[np.ndarray, np.ndarray]) -> None:
    assert not detect_watermark(marked[1], WatermarkConfig(key=12345)).detected


def test_bad_frames_are_input_errors() -> None:
    with pytest.raises(InputError):
        embed_watermark(np.zeros((2, 16, 16, 3), dtype=np.float32), PAYLOAD)
    with pytest.raises(InputError):
        detect_watermark(np.zeros((2, 4, 4, 3), dtype=np.uint8))


def test_label_only_touches_a_corner() -> None:
    frames = np.full((2, 64, 64, 3), 128, dtype=np.uint8)
    out = add_label(frames)
    changed = np.argwhere((out != frames).any(axis=(0, 3)))
    assert len(changed) > 0 and changed[:, 0].min() >= 32 and changed[:, 1].min() >= 16


def test_settings_from_env(config_dir: Path) -> None:
    s = ProvenanceSettings.from_env({"CINEGEN_WATERMARK": "0"})
    assert not s.watermark and s.c2pa and s.uses_dev_chain
    with pytest.raises(InputError):
        ProvenanceSettings.from_env({"CINEGEN_C2PA_KEY": "/nonexistent.pem"})


def test_sign_verify_tamper_and_exit_codes(marked: tuple[np.ndarray, np.ndarray], config_dir: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    video, wm = marked
    path = write_video(tmp_path / "gen.mp4", wm, fps=8)
    sign_file(path, model_id="cinegen-test-model", prompt="a red ball")
    assert (config_dir / "c2pa-dev" / "signer.key.pem").is_file()  # dev chain made in the config folder
    info = read_manifest(path)
    assert info.present and info.valid and info.dev_cert and info.ai_generated and not info.tampered
    params = info.actions[0]["parameters"]
    assert "prompt" not in params and len(params["prompt_sha256"]) == 64
    report = verify_file(path)
    assert report.marked and report.watermark.detected
    assert verify_command(path, json_out=False) == 0
    assert "local development certificate" in capsys.readouterr().out

    data = bytearray(path.read_bytes())
    data[data.find(b"mdat") + 64] ^= 0xFF  # one byte of video data changed after signing
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    info = read_manifest(tampered)
    assert info.present and not info.valid and info.tampered

    plain = write_video(tmp_path / "plain.mp4", video, fps=8)
    assert verify_command(plain, json_out=True) == 1
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    assert verify_command(text, json_out=False) == 2
    assert verify_command(tmp_path / "missing.mp4", json_out=False) == 2


def test_sign_png_with_prompt_opt_in(config_dir: Path, tmp_path: Path) -> None:
    path = write_video(tmp_path / "still.png", smooth_video(3, t=1), fps=1)
    sign_file(path, model_id="m", prompt="a blue cube", include_prompt=True)
    info = read_manifest(path)
    assert info.valid and info.actions[0]["parameters"]["prompt"] == "a blue cube"
