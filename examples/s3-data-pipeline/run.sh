#!/usr/bin/env bash
# Data that already lives in an S3-compatible store (custom endpoint, keys
# kept out of git) feeds a three-stage pipeline: index -> embeddings -> k-means.
#
#   examples/s3-data-pipeline/run.sh          # the "store" is a local folder: no server needed
#   examples/s3-data-pipeline/run.sh --s3     # the store and the remote are buckets on moto's
#                                             # S3 server on loopback (pip install 'bale[s3]' moto)
#
# Needs bale and NumPy; with --s3, boto3 and moto_server too.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh" "$@"
cd "$work"

# Print a shell pipeline as typed, then run it.
step_sh() {
  printf '\n%s$ %s%s\n' "$_bold" "$1" "$_off"
  eval "$1"
}

# -- the store, before the project exists ---------------------------------------------
python3 "$here/make_documents.py" incoming 0 40 >/dev/null
if [ "$EXAMPLE_S3" = 1 ]; then
  say "40 documents land in s3://examples/store/documents, uploaded by some other system (plain boto3)"
  store="s3://examples/store/documents"
  step_sh "python3 $here/upload.py incoming $store | tail -n 2"
else
  say "No --s3: a local folder stands in for the bucket, so no server is needed (--s3 uses moto's S3 server)."
  store="$work/store/documents"
  mkdir -p "$store" && cp incoming/* "$store/"
  step_sh "ls $store | head -n 3"
fi

# -- the project -------------------------------------------------------------------
mkdir project && cd project
git_init && bale init -q && git commit -qm "init"

say "The project's remote: where bale pushes what it tracks."
step bale remote add -d storage "$(remote_url storage)"
if [ "$EXAMPLE_S3" = 1 ]; then
  say "The endpoint goes in .dvc/config (git tracks it); the keys in .dvc/config.local (git ignores it)."
  step bale remote modify storage endpointurl "$S3_ENDPOINT"
  step bale remote modify --local storage access_key_id "$AWS_ACCESS_KEY_ID"
  step bale remote modify --local storage secret_access_key "$AWS_SECRET_ACCESS_KEY"
  step cat .dvc/config
  step git check-ignore .dvc/config.local
fi

say "Track the store's documents without copying them: --no-download records only their hashes."
if [ "$EXAMPLE_S3" = 1 ]; then
  say "The endpoint is recorded with the import (--fs-config); keys come from AWS_* (bale refuses secrets in a .dvc file)."
  say "(Or declare the store as a remote too and import remote://NAME/documents: its keys then come from config.local.)"
  step bale import-url --no-download "$store" documents --fs-config "endpointurl=$S3_ENDPOINT"
else
  step bale import-url --no-download "$store" documents
fi
step cat documents.dvc
step bale status
say "bale pull downloads what the import records, from the store."
step bale pull
step_sh "ls documents | head -n 3"

say "A large generated file goes straight to the remote: the local cache gets no copy of it."
python3 "$here/make_background.py" background.txt 6000
step du -h background.txt
step bale add --to-remote background.txt
say "'deleted' is dvc's word for 'on the remote, not in the local cache':"
step bale status -c background.txt.dvc
git add .dvc/config documents.dvc background.txt.dvc .gitignore
git commit -qm "track the store's documents and the background corpus"

# -- the pipeline ------------------------------------------------------------------
say "The pipeline: index -> embeddings -> k-means; kmeans.npz is declared persist: true."
cp -r "$here/scripts" "$here/dvc.yaml" "$here/params.yaml" .
step cat dvc.yaml
step cat params.yaml
step bale repro
step cat clusters.json
say "Run again: nothing changed, so nothing runs."
step bale repro
git add dvc.yaml dvc.lock params.yaml scripts clusters.json .gitignore
git commit -qm "pipeline: index, embeddings, k-means"
step bale push

say "New documents arrive in the store; status tells the import's source changed."
python3 "$here/make_documents.py" more 40 8 >/dev/null
if [ "$EXAMPLE_S3" = 1 ]; then
  python3 "$here/upload.py" more "$store" >/dev/null
else
  cp more/* "$store/"
fi
step bale status documents.dvc
step bale update
say "Every stage reruns; kmeans.npz was not deleted first, so k-means warm-starts from it."
step bale repro
git add documents.dvc dvc.lock clusters.json
git commit -qm "8 more documents"

say "One more cluster: only the k-means stage reruns, keeping the 3 persisted centroids."
cat >params.yaml <<'YAML'
embed:
  dim: 64
  ngrams: 2
cluster:
  k: 4
  seed: 7
YAML
step bale params diff
step bale repro
step bale metrics diff
git add dvc.lock params.yaml clusters.json
git commit -qm "k=4"
step bale push

# -- a colleague's clone ------------------------------------------------------------
say "A colleague clones the project and pulls."
cd "$work" && git clone -q project colleague && cd colleague
if [ "$EXAMPLE_S3" = 1 ]; then
  say "The keys are not in git (config.local), so they set their own."
  step bale remote modify --local storage access_key_id "$AWS_ACCESS_KEY_ID"
  step bale remote modify --local storage secret_access_key "$AWS_SECRET_ACCESS_KEY"
fi
step bale pull
say "Documents, background corpus and every stage's outputs came from the remote: nothing to rerun."
step bale status
