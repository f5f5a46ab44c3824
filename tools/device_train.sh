#!/usr/bin/env bash
# One call on a lent GPU machine (≤ 10 min): build the DiT's latent cache, train for MINUTES (steps
# and cool-down sized to fit), evaluate on the development prompts, and send the model back in $OUT.
#
#   here:   python tools/device_pack.py          # .device/: fp16 text encoder + two pure-Python packages
#   device: run(carry=[".device"], timeout_s=600, command="MINUTES=6 bash tools/device_train.sh")
#   here:   cinegen eval run --model <files_at>/model ...   (then `cinegen train package` if it wins)
#
# Settings (environment): MINUTES of training (6; per level with LEVELS), CLIPS in the latent cache (40000),
# BATCH (128), LR (1e-3), INIT weights to start from (default = the shipped model; "" = from scratch), SETS
# (more `--set name=value`, e.g. "--set model.patch_size=[1,2,2]"), EVAL_PROMPTS (eval/prompts/dev.txt),
# EVAL_LIMIT prompts (24), DEVICE (cuda).
# LEVELS="L1 L2 L3 L4" climbs the world ladder as `cinegen train --recipe ladder` does: one DiT stage per
# level, each MINUTES long and started from the one before, every level scored on its own dev prompts.
# DECODER_MINUTES (0: none) then fine-tunes the decoder on the last DiT's own latents (train/redraw.py)
# and pairs the two in the model sent back.
# The ladder run the study asks for next (docs/EXPERIMENTS.md: D's recipe, from scratch, then the decoder):
#   LEVELS="L1 L2 L3 L4" MINUTES=1.5 DECODER_MINUTES=0.5 INIT= CLIPS=20000 EVAL_LIMIT=32 \
#   SETS="--set fg_weight=16 --set t2v_first=1 --set motion_weight=1" bash tools/device_train.sh
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
log "train: MINUTES=${MINUTES:=6} CLIPS=${CLIPS:=40000} BATCH=${BATCH:=128} LR=${LR:=1e-3} INIT=${INIT-default} SETS=${SETS:-} LEVELS=${LEVELS:-} DECODER_MINUTES=${DECODER_MINUTES:=0}"

# one stage, or one per level, each started from the one before; "-" stands for the world SETS choose
model="" world=""
for level in ${LEVELS:--}; do
  run=$RUN level_set=()
  if [ "$level" != - ]; then run=$RUN/dit_$level level_set=(--set world="$level") world=$level; fi
  # shellcheck disable=SC2086  # SETS is a list of --set arguments
  python3 -m cinegen train dit --out "$run" --vae default --fit-minutes "$MINUTES" \
    --set device="${DEVICE:-cuda}" --set cache_clips="$CLIPS" --set batch_size="$BATCH" --set lr="$LR" \
    --set init_from="${model:-${INIT-default}}" --set render_workers="$(nproc)" --set ckpt_every=1000000 ${SETS:-} \
    "${level_set[@]}" >>"$OUT/log.txt" 2>&1 || { log "training $level failed"; tail -20 "$OUT/log.txt"; exit 1; }
  log "trained $level: $(tail -1 "$run/loss.csv")"
  model=$run/model
done

decoder=""
if [ "$DECODER_MINUTES" != 0 ]; then  # the settings of recipes.py redraw_decoder, its length fitted
  python3 -m cinegen train vae --out "$RUN/decoder" --fit-minutes "$DECODER_MINUTES" --set device="${DEVICE:-cuda}" \
    --set init_from=default --set decoder_only=true --set redraw_from="$model" --set world="${world:-L4}" \
    --set n_frames=17 --set lr=3e-4 --set warmup=50 --set redraw_t=0.8 --set ckpt_every=1000000 \
    >>"$OUT/log.txt" 2>&1 || { log "decoder failed"; tail -20 "$OUT/log.txt"; exit 1; }
  decoder=$RUN/decoder/model
  log "decoder: $(tail -1 "$RUN/decoder/loss.csv")"
fi

python3 - "$model" "$OUT/model" "$RUN/final" "$decoder" <<'PY' >>"$OUT/log.txt" 2>&1
import shutil, sys, torch
from pathlib import Path
from cinegen.common.checkpoint import load_state, save_state
model, out, final, decoder = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
shutil.copytree(model, final, dirs_exist_ok=True)  # the model scored here: the DiT with its decoder
if decoder:
    save_state(final, "vae", load_state(decoder, "vae"))
shutil.copy(final / "config.json", out / "config.json")
for name in ("vae", "dit"):  # fp16, shards ≤ 15 MB: what the device tool returns
    save_state(out, name, load_state(final, name), dtype=torch.float16, max_shard_bytes=15_000_000)
PY
[ -n "${LEVELS:-}" ] || cp "$RUN/loss.csv" "$OUT/loss.csv"
log "model packed: $(du -sh "$OUT/model" | cut -f1)"

# each level on its own dev prompts (L4, the whole world, on eval/prompts/dev.txt)
for level in ${LEVELS:--}; do
  prompts=${EVAL_PROMPTS:-eval/prompts/dev.txt}
  [ "$level" = - ] || [ "$level" = L4 ] || prompts=eval/prompts/levels/${level}_dev.txt
  echo "== ${LEVELS:+$level: }$prompts" >>"$OUT/eval.txt"
  python3 -m cinegen eval run --model "$RUN/final" --prompts "$prompts" --limit "${EVAL_LIMIT:-24}" \
    --out "$RUN/eval_$level" >>"$OUT/eval.txt" 2>>"$OUT/log.txt" || log "eval $level failed"
done
# one file for every level's summary (the tool returns 8 files): {"L1": summary, ...}, or the one summary
python3 - "$RUN" "$OUT/eval_summary.json" ${LEVELS:-} <<'PY' 2>>"$OUT/log.txt" || log "no eval summary"
import json, sys
from pathlib import Path
run, out, levels = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
read = lambda level: json.loads((run / f"eval_{level}" / "summary.json").read_text())
out.write_text(json.dumps({lv: read(lv) for lv in levels} if levels else read("-"), indent=1))
PY
log "done"
cat "$OUT/eval.txt"
