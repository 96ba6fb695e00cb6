#!/usr/bin/env bash
# A short end-to-end run of bale's main job on a temporary registry:
# init, add a dataset, status, change a file, status, checkout, push to and
# pull from a local-folder remote; then a project imports the collection and
# runs a pipeline stage on it.
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.invalid
export GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.invalid

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

cd "$work"
mkdir registry && cd registry
git init -q -b main
step bale init
git commit -qm "init registry"

mkdir -p raw/01_collection/images
for i in $(seq 1 50); do
  head -c $((1024 * (i % 7 + 1))) /dev/urandom > "raw/01_collection/images/img_$i.bin"
done
echo "label,count" > raw/01_collection/labels.csv
step bale add raw/01_collection
step cat raw/01_collection.dvc
git add raw/01_collection.dvc raw/.gitignore && git commit -qm "add collection 01"

step bale status
echo "extra,1" >> raw/01_collection/labels.csv
step bale status
step bale checkout -f raw/01_collection
step bale status

if bale remote -h >/dev/null 2>&1; then
  step bale remote add -d storage "$work/remote"
  step bale push
  rm -rf raw/01_collection .dvc/cache
  step bale pull
  step bale status
  git add .dvc/config && git commit -qm "remote"
fi

# A project that takes the collection from the registry and derives data from it.
cd "$work" && mkdir project && cd project
git init -q -b main && bale init -q && git commit -qm "init project"
step bale import "$work/registry" raw/01_collection -o collection
step bale stage add -n count -d collection -o count.txt "ls collection/images | wc -l > count.txt"
step bale repro
step cat dvc.lock
step bale status
printf '\nDemo finished: the registry lived in %s and is removed now.\n' "$work"
