"""`cinegen` command line: generate | image | train | eval | verify | serve | world | keys.

Every CinegenError becomes one line on stderr and exit code 2 (no traceback).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from cinegen.common.errors import CinegenError
from cinegen.pipeline import limits as L

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="cinegen: text-to-video with a diffusion transformer, on your own machine.")
train_app = typer.Typer(no_args_is_help=True, help="Train the VAE, the DiT, or a whole recipe.")
world_app = typer.Typer(no_args_is_help=True, help="The procedural world the models learn from.")
app.add_typer(train_app, name="train")
app.add_typer(world_app, name="world")

MODEL_HELP = "checkpoint folder (config.json + safetensors); default: the model shipped with cinegen"
OFFLOAD_HELP = "keep the model's parts on the CPU and bring each to the GPU only while it runs (less GPU memory, slower)"


@app.command()
def generate(
    prompt: Optional[str] = typer.Argument(None, help=f"what the video shows (at most {L.MAX_PROMPT_CHARS} characters)"),
    out: Path = typer.Option(Path("out.mp4"), "-o", "--out", help="output: .mp4, .gif, .webp, or a folder for PNG frames"),
    model: Optional[Path] = typer.Option(None, "--model", help=MODEL_HELP),
    offload: bool = typer.Option(False, "--offload", help=OFFLOAD_HELP),
    seconds: Optional[float] = typer.Option(None, help=f"duration, more than 0 and at most {L.MAX_SECONDS:g}"),
    frames: Optional[int] = typer.Option(None, "--frames", help="an exact frame count instead of --seconds"),
    fps: Optional[float] = typer.Option(None, help=f"frames per second, {L.MIN_FPS:g} to {L.MAX_FPS:g}"),
    width: Optional[int] = typer.Option(None, help=f"pixels, {L.MIN_SIDE} to {L.MAX_SIDE}"),
    height: Optional[int] = typer.Option(None, help=f"pixels, {L.MIN_SIDE} to {L.MAX_SIDE}"),
    steps: Optional[int] = typer.Option(None, help=f"sampling steps, 1 to {L.MAX_STEPS}"),
    guidance: Optional[float] = typer.Option(None, help=f"classifier-free guidance scale, 0 to {L.MAX_GUIDANCE:g}"),
    sampler: Optional[str] = typer.Option(None, "--sampler", help=f"{' or '.join(L.SAMPLERS)} (default: the model's)"),
    seed: int = typer.Option(0, help="the same seed gives the same video"),
    negative_prompt: str = typer.Option("", "--negative-prompt", help="what the video should not show"),
    image: Optional[Path] = typer.Option(None, "--image", help="animate this still (it becomes the first frame)"),
    extend: Optional[Path] = typer.Option(None, "--extend", help="continue this video (see --direction)"),
    direction: str = typer.Option("forward", "--direction", help="with --extend: forward (after) or backward (before)"),
    connect: Optional[List[Path]] = typer.Option(None, "--connect", help="two videos: a transition from A to B (give --connect twice, or A B)"),
    loop: bool = typer.Option(False, "--loop", help="make a video that plays seamlessly on repeat"),
    edit: Optional[Path] = typer.Option(None, "--edit", help="change this video per the prompt, keeping its motion"),
    strength: Optional[float] = typer.Option(None, "--strength", help=f"with --edit: 0 keeps the source, 1 ignores it (default {L.EDIT_STRENGTH:g}; sdedit {L.SDEDIT_STRENGTH:g})"),
    source_prompt: Optional[str] = typer.Option(None, "--source-prompt", help="with --edit: what the source video shows (the edit then changes only what the prompts differ in)"),
    edit_method: str = typer.Option(L.EDIT_METHODS[0], "--edit-method", help=f"with --edit: {' or '.join(L.EDIT_METHODS)}"),
    storyboard: Optional[str] = typer.Option(None, "--storyboard", help="a YAML/JSON storyboard file, or inline '4s: shot one | 3s close-up: shot two'"),
    label: bool = typer.Option(False, "--label", help="add a small visible 'AI-generated' label in a corner"),
    no_expand: bool = typer.Option(False, "--no-expand", help="encode the prompt as written, without expansion"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="print the expanded prompt and timings"),
) -> None:
    """Generate a video from a text prompt (or an image, a video to extend/edit/connect, a storyboard)."""
    args = dict(locals())
    from cinegen.cli.generate_cmd import run_generate

    run_generate(**args)


@app.command()
def image(
    prompt: str = typer.Argument(..., help="what the image shows"),
    out: Path = typer.Option(Path("out.png"), "-o", "--out", help="output .png"),
    model: Optional[Path] = typer.Option(None, "--model", help=MODEL_HELP),
    offload: bool = typer.Option(False, "--offload", help=OFFLOAD_HELP),
    width: Optional[int] = typer.Option(None, help=f"pixels, {L.MIN_SIDE} to {L.MAX_SIDE}"),
    height: Optional[int] = typer.Option(None, help=f"pixels, {L.MIN_SIDE} to {L.MAX_SIDE}"),
    steps: Optional[int] = typer.Option(None, help=f"sampling steps, 1 to {L.MAX_STEPS}"),
    guidance: Optional[float] = typer.Option(None, help="classifier-free guidance scale"),
    seed: int = typer.Option(0),
    negative_prompt: str = typer.Option("", "--negative-prompt"),
    no_expand: bool = typer.Option(False, "--no-expand"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Generate a still image (a one-frame video)."""
    args = dict(locals())
    from cinegen.cli.generate_cmd import run_image

    run_image(**args)


@train_app.command("vae")
def train_vae(
    out: Path = typer.Option(..., "--out", help="run folder (checkpoints, logs; the model lands in OUT/model)"),
    recipe: str = typer.Option("default", help="default | tiny (the DiT stage of a ladder recipe runs only whole)"),
    set_: List[str] = typer.Option([], "--set", help="override a setting: name=value (repeatable)"),
    max_minutes: Optional[float] = typer.Option(None, help="stop (checkpointed) after this long; rerun to resume"),
    fit_minutes: Optional[float] = typer.Option(None, help="size the run (steps, cool-down) to end after about this long of training"),
) -> None:
    """Train the video VAE on the procedural world (resumes from OUT if it holds a checkpoint)."""
    from cinegen.cli.train_cmd import run_train_stage

    run_train_stage("vae", out, recipe, set_, max_minutes, fit_minutes=fit_minutes)


@train_app.command("dit")
def train_dit(
    out: Path = typer.Option(..., "--out", help="run folder"),
    vae: Path = typer.Option(..., "--vae", help="trained VAE folder (e.g. RUN/model of `train vae`), or 'default' for the shipped model's"),
    recipe: str = typer.Option("default", help="default | tiny (the DiT stage of a ladder recipe runs only whole)"),
    set_: List[str] = typer.Option([], "--set", help="override a setting: name=value (repeatable)"),
    max_minutes: Optional[float] = typer.Option(None, help="stop (checkpointed) after this long; rerun to resume"),
    fit_minutes: Optional[float] = typer.Option(None, help="size the run (steps, cool-down) to end after about this long of training"),
) -> None:
    """Train the diffusion transformer on VAE latents of the world (resumes from OUT)."""
    from cinegen.cli.train_cmd import run_train_stage

    run_train_stage("dit", out, recipe, set_, max_minutes, vae_dir=vae, fit_minutes=fit_minutes)


@train_app.command("package")
def train_package(
    run: Path = typer.Option(..., "--run", help="recipe run folder (holds vae/, dit/ or a ladder's dit_L*/ and decoder/, and model/)"),
    out: Path = typer.Option(..., "--out", help="where the packaged model goes (e.g. src/cinegen/assets/model)"),
    eval_dir: Optional[Path] = typer.Option(None, "--eval", help="a `cinegen eval run` report to put in the card"),
    failures: str = typer.Option("", help="known failure modes, for the card"),
) -> None:
    """Package a trained run as a checkpoint folder: fp16 safetensors, config, MODEL_CARD.md."""
    from cinegen.train.package import package_model

    model = run / "model" if (run / "model" / "config.json").exists() else run / "dit" / "model"
    if not (model / "config.json").exists():
        raise CinegenError(f"{run} has no trained model folder (model/ or dit/model/)")
    stages = sorted(run.glob("dit_L*")) or [run / "dit"]  # a ladder's stages sort in level order
    decoder = run / "decoder" if (run / "decoder" / "config.json").exists() else None
    package_model(model, out, run / "vae", stages, eval_dir, failures=failures, decoder_run=decoder)
    typer.echo(f"packaged {model} into {out}")


@train_app.callback(invoke_without_command=True)
def train_recipe(
    ctx: typer.Context,
    recipe: Optional[str] = typer.Option(None, help="train a whole recipe: VAE, then DiT (ladder: its stages, then a decoder for it) (default | ladder | tiny | tiny-ladder)"),
    out: Optional[Path] = typer.Option(None, "--out", help="run folder; the model lands in OUT/model"),
    max_minutes: Optional[float] = typer.Option(None, help="stop (checkpointed) after this long; rerun to resume"),
) -> None:
    """`cinegen train --recipe default --out runs/default` reproduces the shipped model."""
    if ctx.invoked_subcommand is not None:
        return
    if recipe is None or out is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(2)
    from cinegen.cli.train_cmd import run_recipe

    run_recipe(recipe, out, max_minutes)


@world_app.command("render")
def world_render(
    out: Path = typer.Option(Path("world_samples"), "--out", help="folder for the clips"),
    n: int = typer.Option(8, "--n", help="how many clips"),
    width: int = typer.Option(128),
    height: int = typer.Option(128),
    fps: float = typer.Option(8.0),
    seconds: float = typer.Option(3.0),
    seed: int = typer.Option(0),
    world: str = typer.Option("L4", "--world", help="world slice: L1 one mover on plain ground … L4 everything"),
) -> None:
    """Write sample clips of the procedural world with their captions."""
    from cinegen.world.cli import render_samples

    if n < 1 or n > 10_000:
        raise CinegenError("--n must be from 1 to 10000")
    paths = render_samples(n=n, out=out, width=width, height=height, fps=fps, seconds=seconds, seed=seed, level=world)
    typer.echo(f"wrote {len(paths)} clips to {out}")


@world_app.command("prompts")
def world_prompts(
    world: str = typer.Option(..., "--world", help="world slice L1..L4"),
    n: int = typer.Option(64, "--n", help="how many prompts"),
    paraphrase: bool = typer.Option(False, "--paraphrase", help="wording outside the caption templates"),
) -> None:
    """Print a world slice's evaluation prompts, one a line (the same n always give the same prompts)."""
    from cinegen.world.levels import level_prompts

    if n < 1 or n > 10_000:
        raise CinegenError("--n must be from 1 to 10000")
    typer.echo("\n".join(level_prompts(world, n, paraphrase)))


@app.command()
def verify(
    file: Path = typer.Argument(..., help="a video or image to check"),
    json_out: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Check a file for cinegen's C2PA manifest and invisible watermark (exit 0 marked, 1 not, 2 bad input)."""
    from cinegen.cli.verify_cmd import verify_command

    raise typer.Exit(verify_command(file, json_out))


def _mount_optional() -> None:
    """Sub-apps that live in their own files."""
    from cinegen.cli.eval_cmd import eval_app
    from cinegen.cli.serve_cmd import keys_app, serve_command

    app.add_typer(eval_app, name="eval", help="Measure what videos show against their prompts.")
    app.command("serve", help="Serve the Videos API (OpenAI-compatible) and a web page on this machine.")(serve_command)
    app.add_typer(keys_app, name="keys", help="Create, list and revoke API keys for `cinegen serve`.")


def main() -> None:
    _mount_optional()
    try:
        app(standalone_mode=True)
    except CinegenError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
