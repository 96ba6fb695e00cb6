#!/usr/bin/env bash
# A team's registry of datasets and models: cards every entry must have, an
# experiments folder synced file by file, push --all / pull --all in place of
# hand-written scripts, a model moved through stages on GTO's git tags, and
# the catalog of it all. Two people, alice and bob, share one git server and
# one remote.
#
#   examples/team-registry/run.sh          # the remote is a local folder
#   examples/team-registry/run.sh --s3     # the remote is moto's S3 server on loopback
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh" "$@"
cd "$work"

# Print a shell pipeline as typed, then run it.
step_sh() {
  printf '\n%s$ %s%s\n' "$_bold" "$1" "$_off"
  eval "$1"
}

# A command expected to fail: print it, run it, show its exit status.
step_fails() {
  printf '\n%s$ %s%s\n' "$_bold" "$*" "$_off"
  if "$@"; then
    echo "expected a failure" >&2
    exit 1
  else
    echo "(exit status $?)"
  fi
}

# A small CSV: a header and $2 rows of text "$1 N".
rows() { printf 'id,text,label\n'; for i in $(seq "$2"); do printf '%s,%s %s,%s\n' "$i" "$1" "$i" $((i % 2)); done; }

git_init --bare origin.git  # the team's git server

# -- alice sets up the registry -----------------------------------------------------
say "alice: a registry with a remote and the team's conventions in bale.yaml."
git clone -q origin.git alice 2>/dev/null && cd alice
bale init -q
step bale remote add -d store "$(remote_url store)"
remote_options store
cp "$here/registry/bale.yaml" "$here/registry/.gitignore" .
cp -r "$here/registry/datasets" .
step cat bale.yaml

say "Two datasets, tracked; bale.yaml says each needs a card, so the check fails."
mkdir -p datasets/reviews datasets/products
for part in 1 2 3; do rows "review part $part" 20 >"datasets/reviews/part-$part.csv"; done
rows product 30 >datasets/products/products.csv
step bale add datasets/reviews datasets/products
step_fails bale card check

say "A card from the folder's template.card.md; still failing: its owner is not filled in."
step bale card new datasets/reviews
step cat datasets/reviews.card.md
step_fails bale card check
say "Fill in the owner, write the other card: the check passes."
step_sh "sed 's/^owner:\$/owner: reviews-team/' datasets/reviews.card.md >card && mv card datasets/reviews.card.md"
step bale card new datasets/products
step_sh "sed 's/^owner:\$/owner: catalog-team/' datasets/products.card.md >card && mv card datasets/products.card.md"
step bale card check

say "A model, declared in dvc.yaml's artifacts; models/ has no template: the default card asks for its license."
cp "$here/registry/dvc.yaml" .
mkdir models && head -c 4096 /dev/urandom >models/classifier.bin
step bale add models/classifier.bin
step bale card new models/classifier.bin
step_sh "head -n 5 models/classifier.bin.card.md"
step_sh "sed 's/^license:\$/license: apache-2.0/' models/classifier.bin.card.md >card && mv card models/classifier.bin.card.md"
step bale card check
say "(bale git-hook install makes git run this check on what is staged, before each commit.)"
git add -A && git commit -qm "registry: reviews and products datasets, classifier model"

say "An experiment's files in the synced area: not versioned, mirrored to the remote."
mkdir -p experiments/run-001
rows loss 5 >experiments/run-001/loss.csv
echo '{"lr": 0.1}' >experiments/run-001/params.json
step bale sync status
say "One command sends the versioned data and every synced area."
step bale push --all
step git push -q origin main

say "Register the model's version and put it in staging: annotated git tags, as GTO writes them."
step bale model register classifier --version v1.0.0
step bale model assign classifier --version v1.0.0 --stage staging
step git tag -l
step git push -q origin --tags

# -- bob joins -------------------------------------------------------------------
say "bob: a clone, then one command for everything (data, model and experiments)."
cd "$work" && git clone -q origin.git bob && cd bob
step bale pull --all
step_sh "ls datasets/reviews experiments"
say "bob runs an experiment and syncs it; he retrains the model and registers the next version."
mkdir -p experiments/run-002
rows loss 5 >experiments/run-002/loss.csv
echo '{"lr": 0.05}' >experiments/run-002/params.json
step bale sync push
head -c 4096 /dev/urandom >models/classifier.bin
step bale add models/classifier.bin
git add models/classifier.bin.dvc && git commit -qm "classifier retrained with lr 0.05"
step bale push
step bale model register classifier --bump-minor
step bale model assign classifier --stage staging
step git push -q origin main --tags

# -- alice again -----------------------------------------------------------------
say "alice: bob's commit and tags, his experiment from the synced area, his model."
cd "$work/alice"
step git pull -q --tags origin main
step bale sync pull
step_sh "ls experiments"
step bale pull
say "v1.0.0 passed its review in staging: promote it to prod."
step bale model assign classifier --version v1.0.0 --stage prod
step bale model show classifier
step bale model list

step git tag -l

say "The catalog: every dataset and model, its card's title, versions and stages, and whether the remote has its data."
step bale catalog --check-remote
say "A query searches paths, artifact names, card titles and card fields (here an owner):"
step bale catalog reviews-team
step bale catalog --kind model
say "experiments/ is a synced area, not versioned: it holds no entries. (--json gives each card's fields too.)"
