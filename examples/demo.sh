#!/usr/bin/env bash
# bale's main story in under a minute, in a temporary folder removed at the
# end: a registry tracks a dataset and pushes it to its remote; a project
# lists the registry, imports the dataset with its source commit locked and
# runs a pipeline stage on it; the registry publishes a new version, the
# project updates and reruns; the catalog says what the registry holds.
#
#   make demo      (or: bash examples/demo.sh, with bale on PATH)
source "$(dirname "$0")/lib.sh" "$@"

# A dataset of small CSV files, one per day of sensor readings.
readings() { # FOLDER FIRST_DAY LAST_DAY
  mkdir -p "$1"
  for day in $(seq "$2" "$3"); do
    {
      echo "day,hour,temperature"
      for hour in $(seq 0 23); do echo "$day,$hour,$(((day * 7 + hour * 3) % 15 + 10))"; done
    } >"$1/day_$(printf %02d "$day").csv"
  done
}

cd "$work"
say "A registry: a git repository (bare here, reached by its path as any git URL) and a clone to work in."
git init -q --bare -b main registry.git
git clone -q registry.git registry 2>/dev/null
cd registry
step bale init
step bale remote add -d storage "$(remote_url storage)"
git add .dvc .dvcignore
git commit -qm "registry: bale and its remote"

say "Track a dataset: its bytes go to the cache, a small .dvc file goes to git."
readings raw/sensors 1 12
step bale add raw/sensors
step cat raw/sensors.dvc
say "Each entry gets a card, written from its folder's template: the catalog shows it."
cat >raw/template.card.md <<'CARD'
---
license: CC-BY-4.0
---
# Card: {{ name }}, hourly temperatures

{{ files }} CSV files ({{ size }}), one per day: day, hour, temperature in degrees C.
CARD
step bale card new raw/sensors
step cat raw/sensors.card.md
git add raw/sensors.dvc raw/template.card.md raw/sensors.card.md raw/.gitignore
git commit -qm "raw/sensors: 12 days of readings"
say "Push the data to the remote and the commit to git."
step bale push
step git push -q -u origin main

say "status compares the workspace with the .dvc files; checkout undoes a change."
echo "24,99" >>raw/sensors/day_01.csv
step bale status
step bale checkout -f raw/sensors
step bale status

say "A project, elsewhere, reads the registry by its URL."
url="file://$work/registry.git"
cd "$work"
git_init project
cd project
bale init -q
git commit -qm "project: bale"
step bale list -R "$url"
step bale import "$url" raw/sensors -o sensors
step cat sensors.dvc

say "A pipeline stage on the imported data; repro runs it and records its inputs and outputs in dvc.lock."
step bale stage add -n summary -d sensors -o summary.txt \
  'cat sensors/*.csv | grep -vc hour > summary.txt'
step bale repro
step cat summary.txt
step bale repro
git add .
git commit -qm "project: summary of the sensor readings"

say "The registry publishes six more days."
cd "$work/registry"
readings raw/sensors 13 18
step bale add raw/sensors
git commit -qam "raw/sensors: 18 days"
bale push -q
git push -q

say "The project sees the update, takes it, and repro reruns the stage."
cd "$work/project"
step bale status
step bale update sensors.dvc
step bale repro
step cat summary.txt
git commit -qam "project: 18 days"

say "The catalog: every dataset and model of a registry, read from its URL without a checkout."
step bale catalog --repo "$url" --check-remote
say "And of the project: the import and the stage output."
step bale catalog

printf '\nDemo finished; its folder %s is removed now.\n' "$work"
