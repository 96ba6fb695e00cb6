#!/usr/bin/env bash
# Code, data and model in one snapshot: each git tag names the code, the
# data (data.dvc) and the model and metrics the pipeline made from them
# (dvc.lock), so restoring a tag restores all three, or only the data.
#
#   examples/snapshots/run.sh          # push to a local folder remote
#   examples/snapshots/run.sh --s3     # push to moto's S3 server on loopback
#
# Needs bale and NumPy (with --s3, moto_server too).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh" "$@"
cd "$work"

# Print a shell pipeline as typed, then run it.
step_sh() {
  printf '\n%s$ %s%s\n' "$_bold" "$1" "$_off"
  eval "$1"
}

mkdir project && cd project
git_init && bale init -q
bale remote add -q -d storage "$(remote_url storage)" && remote_options storage
git add .dvc && git commit -qm "init, remote"

# -- v1.0 -------------------------------------------------------------------------
say "v1.0: 40 rows of data, a straight-line fit."
python3 "$here/make_data.py" data 40
cp "$here/v1/train.py" "$here/dvc.yaml" .
step bale add data
step cat dvc.yaml
step bale repro
step cat metrics.json
cp model.bin "$work/model-v1.0.bin"  # to compare with later
git add data.dvc .gitignore train.py dvc.yaml dvc.lock metrics.json
git commit -qm "v1.0: straight line on 40 rows"
step git tag v1.0
say "Each snapshot's data goes to the remote (bale push sends what the checked-out revision uses)."
step bale push

# -- v2.0 -------------------------------------------------------------------------
say "v2.0: 400 rows of data and new code (a parabola); the model is retrained."
python3 "$here/make_data.py" data 400
cp "$here/v2/train.py" train.py
step bale add data
step bale repro
git add data.dvc train.py dvc.lock metrics.json
git commit -qm "v2.0: parabola on 400 rows"
step git tag v2.0
step bale push

say "What changed between the snapshots: data files, the model, and the metrics."
step bale diff v1.0 v2.0
step bale metrics diff v1.0 v2.0
v2_metrics=$(cat metrics.json)

# -- restore all of v1.0 ----------------------------------------------------------
say "Restore all of v1.0: git brings its code and .dvc files, bale checkout its data and model."
step git checkout -q v1.0
step bale checkout
step cat metrics.json
step_sh "wc -l data/train.csv"
step_sh "cmp model.bin ../model-v1.0.bin && echo 'model.bin: the same bytes as v1.0 made'"
say "Up to date: the data and model match v1.0's data.dvc and dvc.lock."
step bale status
say "Back to today's snapshot."
step git checkout -q main
step bale checkout
step cat metrics.json

# -- a fresh clone at v1.0 --------------------------------------------------------
say "The same from a fresh clone: check out v1.0, pull its data and model from the remote."
cd "$work" && git clone -q project fresh && cd fresh
step git checkout -q v1.0
step bale pull
step cat metrics.json
step_sh "cmp model.bin ../model-v1.0.bin && echo 'model.bin: the same bytes as v1.0 made'"
step bale status

# -- only the data of v1.0 --------------------------------------------------------
cd "$work/project"
say "Only v1.0's data, with today's code: take data.dvc from v1.0, check out just that."
step git checkout v1.0 -- data.dvc
step bale checkout data.dvc
step_sh "wc -l data/train.csv"
step_sh "grep -c 'x\*\*2' train.py"
say "The code is today's (the parabola), the data v1.0's; the stage sees its data changed."
step bale status
step bale repro
step cat metrics.json
say "Or, without touching the workspace: bale get copies v1.0's data out, untracked."
step bale get . data --rev v1.0 -o data-v1.0
step_sh "wc -l data-v1.0/train.csv"
step git status --short
