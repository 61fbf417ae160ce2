#!/usr/bin/env bash
# Retrain Stepwise's built-in teaching model from package registries only.
# Usage: bash tools/train/train.sh OUTDIR [train.py options, e.g. --steps 3000]
# Makes a venv from requirements.txt, fetches Jane Austen's novels (Debian package r-cran-janeaustenr),
# trains the tokenizer and the model, measures the heads and writes OUTDIR/README.md (the model card).
# Environment: STEPWISE_TRAIN_WORK (scratch folder, default tools/train/.work), STEPWISE_TRAIN_VENV.
set -euo pipefail
OUT="${1:?usage: bash tools/train/train.sh OUTDIR [--steps N]}"
shift
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="${STEPWISE_TRAIN_WORK:-$HERE/.work}"
VENV="${STEPWISE_TRAIN_VENV:-$WORK/venv}"
mkdir -p "$WORK" "$OUT"
OUT="$(cd "$OUT" && pwd)"
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"
cd "$HERE"
"$VENV/bin/python" corpus.py "$WORK"
"$VENV/bin/python" train.py --work "$WORK" --out "$OUT" "$@"
"$VENV/bin/python" report.py "$OUT" --work "$WORK"
echo "done: $OUT"
