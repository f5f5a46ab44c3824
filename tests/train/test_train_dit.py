"""The whole recipe at tiny size: VAE → latent cache → DiT → a checkpoint the pipeline loads; DiT resume is exact."""
import dataclasses

import pytest
import torch
from safetensors.torch import load_file

from cinegen.common.checkpoint import load_state
from cinegen.dit.repatch import repatch_state
from cinegen.pipeline import Pipeline
from cinegen.train.recipes import tiny_dit, tiny_vae
from cinegen.train.latent_cache import ENCODE_BATCH
from cinegen.train.trainer import train


def test_recipe_end_to_end_and_exact_resume(tmp_path):
    res = train(dataclasses.replace(tiny_vae(), steps=3), tmp_path / "vae", progress=False)
    assert res["done"]
    vae_cfg = (tmp_path / "vae/model/config.json").read_text()
    assert "latent_std" in vae_cfg
    cfg = dataclasses.replace(tiny_dit(str(tmp_path / "vae/model")), steps=4, ckpt_every=2, cache_clips=6)
    train(cfg, tmp_path / "a", progress=False)
    train(cfg, tmp_path / "b", progress=False, stop_at=2)
    train(cfg, tmp_path / "b", progress=False)
    a, b = load_state(tmp_path / "a/ckpt", "model"), load_state(tmp_path / "b/ckpt", "model")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "a/cache/captions.txt").read_text().count("\n") == 6 * cfg.captions_per_clip
    pipe = Pipeline.from_pretrained(tmp_path / "a/model")
    out = pipe("a red ball bouncing", seconds=1, steps=2, expand=False, mark=False)
    assert out.frames.shape == (8, 32, 32, 3)
    assert pipe.sampling.memory is False  # trained without memory batches: windows get no memory frame
    mem = dataclasses.replace(cfg, memory_fraction=1.0, steps=2)
    train(mem, tmp_path / "m", progress=False)  # every clip batch a memory batch: trains and exports
    assert Pipeline.from_pretrained(tmp_path / "m/model").sampling.memory is True


def test_memory_batches():
    from cinegen.train.tasks import MAX_MEMORY_GAP, frame_positions, memory_gap

    cfg = dataclasses.replace(tiny_dit("unused"), memory_fraction=0.5)
    gaps = [memory_gap(cfg, s, 5) for s in range(400)]
    assert 0.4 < sum(g > 0 for g in gaps) / len(gaps) < 0.6  # the configured share of batches
    assert set(g for g in gaps if g) == set(range(1, MAX_MEMORY_GAP + 1))
    assert gaps == [memory_gap(cfg, s, 5) for s in range(400)]  # a pure function of (seed, step): exact resume
    assert memory_gap(cfg, 0, 1) == 0 and memory_gap(dataclasses.replace(cfg, memory_fraction=0.0), 3, 5) == 0
    assert frame_positions(5, 0) is None
    assert frame_positions(4, 3).tolist() == [0.0, 3.0, 4.0, 5.0]


def test_init_from_a_model_folder(tmp_path):
    """Stage 2 starts from stage 1's exported weights: at lr 0 it exports exactly them; a misfit is one clear error."""
    import pytest

    from cinegen.common.errors import CheckpointError
    train(dataclasses.replace(tiny_vae(), steps=2), tmp_path / "vae", progress=False)
    vae = str(tmp_path / "vae/model")
    train(dataclasses.replace(tiny_dit(vae), steps=2, cache_clips=4), tmp_path / "dit", progress=False)
    tune = dataclasses.replace(tiny_dit(vae), init_from=str(tmp_path / "dit/model"), steps=2, cache_clips=4, lr=0.0)
    train(tune, tmp_path / "dit2", progress=False)
    before, after = load_state(tmp_path / "dit/model", "dit"), load_state(tmp_path / "dit2/model", "dit")
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    moved = dataclasses.replace(tune, lr=1e-3, steps=2)
    train(moved, tmp_path / "dit3", progress=False)
    assert any(not torch.equal(before[k], v) for k, v in load_state(tmp_path / "dit3/model", "dit").items())
    wide = dataclasses.replace(tune, model_overrides={"dim": 96, "heads": 4})
    with pytest.raises(CheckpointError, match="do not fit"):
        train(wide, tmp_path / "dit4", progress=False)
    finer = dataclasses.replace(tune, model_overrides={"patch_size": [1, 1, 1]})  # from 2×2 cells: repatched
    train(finer, tmp_path / "dit5", progress=False)
    want = repatch_state(before, (1, 2, 2), (1, 1, 1), out_dim=before["out_proj.bias"].numel() // 4)
    got = load_state(tmp_path / "dit5/model", "dit")
    assert got["patch_embed.weight"].shape[-1] == 1 and all(torch.equal(want[k], got[k]) for k in want)


def test_fine_tune_the_shipped_model_by_name(tmp_path):
    """`vae_dir=default`, `init_from=default`: a run that starts from the weights that ship."""
    from cinegen.pipeline.pipeline import DEFAULT_MODEL_DIR
    from cinegen.train.recipes import default_dit

    cfg = dataclasses.replace(default_dit("default"), init_from="default", steps=1, cooldown=0, batch_size=1, lr=0.0,
                              cache_clips=2, captions_per_clip=1)
    res = train(cfg, tmp_path / "tune", progress=False)
    assert res["done"]
    shipped, tuned = load_state(DEFAULT_MODEL_DIR, "dit"), load_state(tmp_path / "tune/model", "dit")
    assert all(torch.equal(shipped[k], tuned[k]) for k in shipped)


def test_latent_cache_is_the_same_rendered_in_parallel(tmp_path):
    """render_workers spreads the cache's world clips over processes; the clips and latents are unchanged."""
    from cinegen.train.latent_cache import build_latents
    from cinegen.train.tasks import load_vae

    train(dataclasses.replace(tiny_vae(), steps=1), tmp_path / "vae", progress=False)
    vae = load_vae(tmp_path / "vae/model")
    cfg = dataclasses.replace(tiny_dit(str(tmp_path / "vae/model")), cache_clips=ENCODE_BATCH + 3)  # a partial batch too
    build_latents(cfg, vae, tmp_path / "one.safetensors", progress=False)
    build_latents(dataclasses.replace(cfg, render_workers=2), vae, tmp_path / "two.safetensors", progress=False)
    one, two = (load_file(str(tmp_path / f"{n}.safetensors"))["latents"] for n in ("one", "two"))
    assert one.shape[0] == cfg.cache_clips and torch.equal(one, two)
    assert not torch.equal(one[0], one[1])  # distinct clips, in order


def test_t2v_first_trains_plain_text_to_video_then_the_whole_mix(tmp_path):
    """In the first t2v_first share of the run: no image batches, no memory frames, no clean frames."""
    from cinegen.pipeline.tiny import make_tiny_checkpoint
    from cinegen.train import parallel
    from cinegen.train.tasks import DiTTask, is_image_step, memory_gap

    cfg = dataclasses.replace(tiny_dit(str(make_tiny_checkpoint(tmp_path / "tiny"))), steps=60, t2v_first=0.5,
                              image_fraction=0.5, memory_fraction=0.5, cache_clips=4, world="L1")
    early, late = range(30), range(30, 60)
    assert not any(is_image_step(cfg, s) or memory_gap(cfg, s, 5) for s in early)
    assert any(is_image_step(cfg, s) for s in late) and any(memory_gap(cfg, s, 5) for s in late)
    task = DiTTask(cfg, torch.device("cpu"), tmp_path / "run", parallel.Dist())
    clean = lambda s: task.batch(s, range(4))[4]  # noqa: E731
    assert not any(clean(s).any() for s in early)
    assert any(clean(s).any() for s in late if not is_image_step(cfg, s))
    full = dataclasses.replace(cfg, t2v_first=0.0)
    assert [is_image_step(full, s) for s in late] == [is_image_step(cfg, s) for s in late]  # same draws after it


def test_ladder_recipe_trains_each_level_from_the_one_before_then_a_decoder_for_it_and_resumes(tmp_path, capsys):
    import json

    from cinegen.cli.train_cmd import run_recipe
    from cinegen.common.errors import InputError
    from cinegen.cli.train_cmd import run_train_stage

    run_recipe("tiny-ladder", tmp_path, None)
    l1, l2 = (json.loads((tmp_path / f"dit_{w}/config.json").read_text()) for w in ("L1", "L2"))
    assert l1["world"] == "L1" and l1["init_from"] == "" and l2["world"] == "L2"
    assert l2["init_from"] == str(tmp_path / "dit_L1" / "model")
    final = load_state(tmp_path / "model", "dit")
    assert all(torch.equal(final[k], v) for k, v in load_state(tmp_path / "dit_L2/model", "dit").items())
    # the decoder redraws with the last stage's DiT; the final folder pairs that DiT with it
    dec = json.loads((tmp_path / "decoder/config.json").read_text())
    assert dec["redraw_from"] == str(tmp_path / "dit_L2" / "model") and dec["world"] == "L2"
    vae, first, redrawn = (load_state(tmp_path / d, "vae") for d in ("model", "vae/model", "decoder/model"))
    assert all(torch.equal(vae[k], v) for k, v in redrawn.items())
    enc = [k for k in vae if k.startswith("encoder.")]
    assert enc and all(torch.equal(vae[k], first[k]) for k in enc)  # the DiT's latent space is kept
    assert any(not torch.equal(vae[k], first[k]) for k in vae if k.startswith("decoder."))
    from typer.testing import CliRunner

    from cinegen.cli.main import app

    res = CliRunner().invoke(app, ["train", "package", "--run", str(tmp_path), "--out", str(tmp_path / "pkg")])
    assert res.exit_code == 0, res.output
    card = (tmp_path / "pkg/MODEL_CARD.md").read_text()  # every stage of the ladder has its row
    assert "| DiT | 3 |" in card and "| DiT stage 2 | 3 |" in card and "| VAE decoder for the DiT's latents | 3 |" in card
    stamps = [(tmp_path / d / "ckpt/state.json").stat().st_mtime_ns for d in ("dit_L2", "decoder")]
    run_recipe("tiny-ladder", tmp_path, None)  # a rerun finds every stage done
    assert [(tmp_path / d / "ckpt/state.json").stat().st_mtime_ns for d in ("dit_L2", "decoder")] == stamps
    assert "done" in capsys.readouterr().out
    with pytest.raises(InputError, match="stages"):
        run_train_stage("dit", tmp_path / "x", "tiny-ladder", [], None, vae_dir=tmp_path / "vae/model")


def test_t_shift_moves_the_training_times_toward_noise(tmp_path):
    """t_shift=s draws logit-normal times shifted by s (median s/(1+s)); 0 keeps the sampler's shift."""
    from cinegen.flow.schedule import shift_for_tokens
    from cinegen.pipeline.tiny import make_tiny_checkpoint
    from cinegen.train import parallel
    from cinegen.train.tasks import DiTTask

    base = dataclasses.replace(tiny_dit(str(make_tiny_checkpoint(tmp_path / "tiny"))), cache_clips=4, world="L1",
                               image_fraction=0.0)
    medians = {}
    for s in (0.0, 4.0):
        task = DiTTask(dataclasses.replace(base, t_shift=s), torch.device("cpu"), tmp_path / f"run{s}", parallel.Dist())
        t = torch.cat([task.batch(step, range(8))[3][:, 0] for step in range(40)])
        medians[s] = float(t.median())
    x0 = task.batch(0, range(1))[0]
    tokens = x0.shape[2] * (x0.shape[3] // task.model.cfg.patch_size[1]) * (x0.shape[4] // task.model.cfg.patch_size[2])
    default = shift_for_tokens(tokens)
    assert abs(medians[0.0] - default / (1 + default)) < 0.06
    assert abs(medians[4.0] - 0.8) < 0.06 and medians[4.0] > medians[0.0] + 0.05


def test_clip_sizes_are_checked_against_the_models_own_factors(tmp_path):
    """Frame counts and sides are checked against the VAE's factors and the DiT's patch read from them, before
    any cache is built: a size the models cannot take is a one-line InputError naming their numbers."""
    from cinegen.common.errors import InputError
    from cinegen.pipeline.tiny import make_tiny_checkpoint
    from cinegen.train import parallel
    from cinegen.train.tasks import DiTTask, VAETask

    vae_dir = make_tiny_checkpoint(tmp_path / "tiny")
    base = dataclasses.replace(tiny_dit(str(vae_dir)), cache_clips=2, world="L1")
    task = DiTTask(base, torch.device("cpu"), tmp_path / "ok", parallel.Dist())
    td, sd = task.vae.cfg.temporal_down, task.vae.cfg.spatial_down
    side = sd * task.model.cfg.patch_size[2]
    with pytest.raises(InputError, match=f"1 \\+ {td}k"):
        DiTTask(dataclasses.replace(base, n_frames=1 + td + 1), torch.device("cpu"), tmp_path / "a", parallel.Dist())
    with pytest.raises(InputError, match=f"multiple of {side}"):
        DiTTask(dataclasses.replace(base, width=base.width + side // 2), torch.device("cpu"), tmp_path / "b",
                parallel.Dist())
    assert not (tmp_path / "b" / "cache").exists()
    vae_cfg = dataclasses.replace(tiny_vae(), n_frames=1 + td + 1)
    with pytest.raises(InputError, match="1 \\+"):
        VAETask(vae_cfg, torch.device("cpu"))


def test_every_recipe_builds_valid_configs_with_the_ladder_ending_on_the_whole_world():
    from cinegen.train.recipes import RECIPES

    for name, (vae_fn, dit_fn, decoder_fn) in RECIPES.items():
        stages = dit_fn("vae")  # TrainConfig validates itself as it is built
        stages = stages if isinstance(stages, list) else [stages]
        assert vae_fn().kind == "vae" and all(s.kind == "dit" for s in stages), name
        if decoder_fn is not None:
            dec = decoder_fn("vae", "dit", stages[-1].world)
            assert dec.decoder_only and dec.redraw_from == "dit" and dec.init_from == "vae", name
    ladder = RECIPES["ladder"][1]("vae")
    assert [s.world for s in ladder] == ["L1", "L1", "L2", "L3", "L4"] and ladder[0].t2v_first == 1.0


def test_stage_folders_name_a_warm_restart_on_the_same_world_apart_and_sort_in_stage_order():
    from cinegen.cli.train_cmd import stage_folders
    from cinegen.train.recipes import RECIPES

    names = stage_folders(RECIPES["ladder"][1]("vae"))
    assert names == ["dit_L1", "dit_L1_2", "dit_L2", "dit_L3", "dit_L4"] and sorted(names) == names
