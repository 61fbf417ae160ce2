#!/usr/bin/env bash
# Retrain Stepwise's built-in translation model (English -> Spanish BART) from package registries only.
# Usage: bash tools/train/translate/train.sh OUTDIR [train.py options, e.g. --steps 2000]
# Uses the venv of tools/train (same pinned requirements), generates the sentence pairs, checks their
# words against Debian's dictionaries, trains the tokenizer and the model, measures it and writes
# OUTDIR/README.md (the model card).
# Environment: STEPWISE_TRAIN_WORK (scratch folder, default tools/train/translate/.work),
# STEPWISE_TRAIN_VENV (default tools/train/.work/venv, shared with tools/train/train.sh).
set -euo pipefail
OUT="${1:?usage: bash tools/train/translate/train.sh OUTDIR [--steps N]}"
shift
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="${STEPWISE_TRAIN_WORK:-$HERE/.work}"
VENV="${STEPWISE_TRAIN_VENV:-$HERE/../.work/venv}"
mkdir -p "$WORK" "$OUT"
OUT="$(cd "$OUT" && pwd)"
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/../requirements.txt"
cd "$HERE"
"$VENV/bin/python" pairs.py "$WORK/pairs"
"$VENV/bin/python" lexicon_check.py "$WORK"
"$VENV/bin/python" train.py --work "$WORK" --out "$OUT" "$@"
"$VENV/bin/python" report.py "$OUT" --work "$WORK"
echo "done: $OUT"
