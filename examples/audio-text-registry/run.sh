#!/usr/bin/env bash
# An audio and text registry, and a project that consumes it.
#
# The registry is a git repository (a bare one here, reached by its path as
# any git URL) whose recordings and texts bale tracks and pushes to a remote.
# A speech project lists what it holds, imports one recording with its
# source commit locked, transcribes it in a pipeline stage and adds the
# transcript back to the registry from a clone. When the registry records a
# new take, `bale update` brings it and `bale repro` transcribes it again.
#
#   examples/audio-text-registry/run.sh [--s3]
#
# Needs bale and python3 on PATH (the audio is made with Python's wave module).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh" "$@"

record() { python3 "$here/make_audio.py" "$@"; }

cd "$work"
say "The registry: a bare git repository everyone pushes to, and its maintainers' clone."
git init -q --bare -b main registry.git
git clone -q registry.git registry 2>/dev/null
cd registry
step bale init -q
step bale remote add -d storage "$(remote_url audio)"
remote_options storage
git add .dvc .dvcignore
git commit -qm "registry: bale and its remote"

say "Three recordings and the texts read aloud in them."
mkdir -p raw/audio raw/text
record raw/audio/recording.wav --seconds 2.5
record raw/audio/interview.wav --seconds 1.5 --pitch 180
record raw/audio/street.wav --seconds 1 --pitch 300
printf 'The quick brown fox jumps over the lazy dog.\n' >raw/text/prompts.txt
printf 'recording.wav\tread speech, one speaker\n' >raw/text/index.tsv
step bale add raw/audio raw/text
git add raw/audio.dvc raw/text.dvc raw/.gitignore
git commit -qm "raw: three recordings and their prompts"
step bale push
step git push -q -u origin main

say "A speech project, elsewhere, reaches the registry by its git URL."
registry_url="file://$work/registry.git"
cd "$work"
git_init speech
cd speech
bale init -q
say "What the registry holds, git files and tracked data alike, without cloning it by hand:"
step bale list -R "$registry_url"
say "Import one recording: it comes with the source commit locked in its .dvc file."
mkdir -p data
step bale import "$registry_url" raw/audio/recording.wav -o data/recording.wav
step cat data/recording.wav.dvc
git add data
git commit -qm "data: recording.wav from the registry"

say "A transcription stage (a stand-in model: it writes the length and a checksum)."
cp -r "$here/scripts" .
mkdir transcripts
step bale stage add -n transcribe -d scripts/transcribe.py -d data/recording.wav \
  -o transcripts/recording.txt python3 scripts/transcribe.py data/recording.wav transcripts/recording.txt
step bale repro
step cat transcripts/recording.txt
git add .
git commit -qm "transcribe recording.wav"

say "The transcript goes back to the registry, from a clone of it: add, commit, push."
cd "$work"
git clone -q "$registry_url" registry-clone
cd registry-clone
step bale pull raw/text
cp "$work/speech/transcripts/recording.txt" raw/text/recording.txt
say "Adding one file inside a tracked folder updates the folder's .dvc file."
step bale add raw/text/recording.txt
step git diff --stat
git commit -qam "raw/text: transcript of recording.wav"
step bale push
step git push -q
step bale list "$registry_url" raw/text

say "The maintainers record a longer take of recording.wav and publish it."
cd "$work/registry"
git pull -q
step bale pull
record raw/audio/recording.wav --seconds 4 --pitch 240
step bale add raw/audio
git commit -qam "raw/audio: a new take of recording.wav"
step bale push
step git push -q

say "The speech project learns of it from status, and update brings it."
cd "$work/speech"
step bale status
step bale update data/recording.wav.dvc
step git diff data/recording.wav.dvc
step bale repro
step cat transcripts/recording.txt
git add .
git commit -qm "transcribe the new take of recording.wav"
say "get downloads from the registry without tracking: the first transcript, as the registry holds it."
step bale get "$registry_url" raw/text/recording.txt -o first-transcript.txt
step cat first-transcript.txt
