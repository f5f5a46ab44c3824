#!/usr/bin/env bash
# One call on a lent GPU machine (≤ 10 min): build the DiT's latent cache, train for MINUTES (steps
# and cool-down sized to fit), evaluate on the development prompts, and send the model back in $OUT.
#
#   here:   python tools/device_pack.py          # .device/: fp16 text encoder + two pure-Python packages
#   device: run(carry=[".device"], timeout_s=600, command="MINUTES=6 bash tools/device_train.sh")
#   here:   cinegen eval run --model <files_at>/model ...   (then `cinegen train package` if it wins)
#
# Settings (environment): MINUTES of training (6), CLIPS in the latent cache (40000), BATCH (128),
# LR (1e-3), INIT weights to start from (default = the shipped model; "" = from scratch), SETS (more
# `--set name=value`, e.g. "--set model.patch_size=[1,2,2]"), EVAL_PROMPTS (eval/prompts/dev.txt; a level's
# own set for a level run, e.g. eval/prompts/levels/L1_dev.txt), EVAL_LIMIT prompts (24), DEVICE (cuda).
# The L1 run the ladder study asks for next (docs/EXPERIMENTS.md, D's recipe at 10x its samples, from scratch):
#   MINUTES=8 INIT= CLIPS=20000 EVAL_PROMPTS=eval/prompts/levels/L1_dev.txt EVAL_LIMIT=64 \
#   SETS="--set world=L1 --set fg_weight=16 --set t2v_first=1 --set motion_weight=1" bash tools/device_train.sh
# Every phase is timed into $OUT/log.txt; the DiT's settings and loss land beside the weights.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/device}
RUN=${RUN:-runs/device}
mkdir -p "$OUT/model"
export PYTHONPATH="$PWD/src:$PWD/.device/site" PYTHONUNBUFFERED=1
export CINEGEN_MINILM_DIR="$PWD/.device/minilm" CINEGEN_CACHE_DIR=/tmp/cinegen-cache
log() { echo "[$(date +%T) +${SECONDS}s] $*" | tee -a "$OUT/log.txt"; }

[ -f .device/minilm/model.safetensors ] || { echo "no .device/minilm: run tools/device_pack.py here and carry .device" >&2; exit 2; }
log "$( (nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo no nvidia-smi) | head -1)"
log "$(python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())')"
log "train: MINUTES=${MINUTES:=6} CLIPS=${CLIPS:=40000} BATCH=${BATCH:=128} LR=${LR:=1e-3} INIT=${INIT-default} SETS=${SETS:-}"

# shellcheck disable=SC2086  # SETS is a list of --set arguments
python3 -m cinegen train dit --out "$RUN" --vae default --fit-minutes "$MINUTES" \
  --set device="${DEVICE:-cuda}" --set cache_clips="$CLIPS" --set batch_size="$BATCH" --set lr="$LR" \
  --set init_from="${INIT-default}" --set render_workers="$(nproc)" --set ckpt_every=1000000 ${SETS:-} \
  >>"$OUT/log.txt" 2>&1 || { log "training failed"; tail -20 "$OUT/log.txt"; exit 1; }
log "trained: $(tail -1 "$RUN/loss.csv")"

python3 - "$RUN" "$OUT/model" <<'PY' >>"$OUT/log.txt" 2>&1
import shutil, sys, torch
from pathlib import Path
from cinegen.common.checkpoint import load_state, save_state
run, out = Path(sys.argv[1]), Path(sys.argv[2])
shutil.copy(run / "model" / "config.json", out / "config.json")
for name in ("vae", "dit"):  # fp16, shards ≤ 15 MB: what the device tool returns
    save_state(out, name, load_state(run / "model", name), dtype=torch.float16, max_shard_bytes=15_000_000)
PY
cp "$RUN/loss.csv" "$OUT/loss.csv"
log "model packed: $(du -sh "$OUT/model" | cut -f1)"

python3 -m cinegen eval run --model "$RUN/model" --prompts "${EVAL_PROMPTS:-eval/prompts/dev.txt}" --limit "${EVAL_LIMIT:-24}" \
  --out "$RUN/eval" >"$OUT/eval.txt" 2>>"$OUT/log.txt" || log "eval failed"
cp "$RUN/eval/summary.json" "$OUT/eval_summary.json" 2>/dev/null || true
log "done"
cat "$OUT/eval.txt"
