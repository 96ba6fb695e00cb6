#!/usr/bin/env bash
# An image data registry and a project that processes its collections.
#
# The registry is a git repository (here a bare one, reached by its path as
# any git URL) whose raw collections bale tracks and pushes to a remote. Two
# people add images to one collection on two branches; git merges the two
# .dvc files through bale's merge driver. A processing project imports the
# collections and runs a pipeline: drop corrupted images, drop too-dark and
# too-bright ones, sort the rest by orientation. When a new collection
# arrives, `bale repro` runs the stages for it and skips the others.
#
#   examples/image-registry/run.sh [--s3]
#
# Needs bale on PATH and Pillow in the python3 on PATH.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh" "$@"

if ! python3 -c "import PIL" 2>/dev/null; then
  echo "error: this example makes and reads images with Pillow; run: python3 -m pip install Pillow" >&2
  exit 1
fi
images() { python3 "$here/make_images.py" "$@"; }

cd "$work"
say "The registry: a bare git repository everyone pushes to, and one person's clone of it."
git init -q --bare -b main registry.git
git clone -q registry.git registry 2>/dev/null
cd registry
step bale init -q
step bale remote add -d storage "$(remote_url images)"
remote_options storage
say "Hooks: git checkout runs bale checkout, git push runs bale push; and the merge driver for .dvc files."
step bale git-hook install
git add .dvc .dvcignore .gitattributes
git commit -qm "registry: bale, its remote and merge driver"

say "A first collection: 16 images, two of them corrupted, two too dark, two too bright."
images raw/01_collection --count 16 --corrupt 2 --dark 2 --bright 2 --seed 1
step bale add raw/01_collection
step cat raw/01_collection.dvc
git add raw/01_collection.dvc raw/.gitignore
git commit -qm "raw: collection 01"
say "git push uploads the data first (the pre-push hook runs bale push), then the commit."
step git push -q -u origin main

say "Two photographers add to collection 01 at once, each on a branch, each pushed for review."
step git checkout -q -b field-north main
images raw/01_collection --count 6 --corrupt 1 --prefix north --seed 2
step bale add raw/01_collection
git commit -qam "raw/01_collection: 6 images from the north site"
step git push -q -u origin field-north
step git checkout -q -b field-south main
say "The post-checkout hook put main's collection back: the north images are not here."
step ls -C raw/01_collection
images raw/01_collection --count 6 --dark 1 --prefix south --seed 3
step bale add raw/01_collection
git commit -qam "raw/01_collection: 6 images from the south site"
step git push -q -u origin field-south

say "Both branches rewrote raw/01_collection.dvc's md5 line: a text merge would conflict."
say "bale's merge driver merges the two folders by their manifests instead."
step git checkout -q main
step git merge -q --no-edit field-north
step git merge --no-edit field-south
step cat raw/01_collection.dvc
step bale checkout
step bale status
step git push -q

say "A processing project, elsewhere, takes the collection from the registry's git URL."
registry_url="file://$work/registry.git"
cd "$work"
git_init processing
cd processing
bale init -q
cp -r "$here/scripts" "$here/dvc.yaml" "$here/params.yaml" .
mkdir -p data/inputs
step bale list "$registry_url" raw
step bale import "$registry_url" raw/01_collection -o data/inputs/01_collection
step cat data/inputs/01_collection.dvc
say "The pipeline: verify, exposure and sort stages per collection of params.yaml, then a report."
step cat params.yaml
step bale stage list
step bale repro
step bale metrics show
step ls -C data/sorted/01_collection/*
git add .
git commit -qm "processing: collection 01"

say "A new collection arrives in the registry."
cd "$work/registry"
images raw/02_collection --count 10 --corrupt 1 --bright 1 --seed 4
step bale add raw/02_collection
git add raw/02_collection.dvc raw/.gitignore
git commit -qm "raw: collection 02"
step git push -q

say "The project imports it and adds it to params.yaml's collections."
cd "$work/processing"
step bale import "$registry_url" raw/02_collection -o data/inputs/02_collection
cat >params.yaml <<'YAML'
collections:     # the imported collections the pipeline processes
  - 01_collection
  - 02_collection
exposure:
  dark_below: 40     # mean brightness (0-255) under which an image is too dark
  bright_above: 215  # and over which it is too bright
YAML
step git diff params.yaml
say "status names the stages the new collection needs (the report runs after them: its input changes then)."
step bale status
step bale repro
step bale metrics diff
git add .
git commit -qm "processing: collection 02"

say "Collection 01 shows 'update available': the registry's commit moved on (collection 02), not its data."
step bale update data/inputs/01_collection.dvc
say "The new commit holds the same images, so no stage has anything to do."
step bale repro
git add .
git commit -qm "processing: collection 01 at the registry's newest commit"
step bale status
