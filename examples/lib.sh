# Shared by the example scripts: narration, a scratch folder, a git identity,
# and the remote each example pushes to (a local folder, or with --s3 moto's
# S3 server on loopback, started here and stopped on exit).
#
#   source "$(dirname "$0")/../lib.sh" "$@"
#   step bale add data        # prints "$ bale add data", then runs it
#   say "what happens next"   # one line of narration
#   remote_url name           # a fresh remote location for this run
set -euo pipefail

EXAMPLE_S3=0
for arg in "$@"; do
  case "$arg" in
    --s3) EXAMPLE_S3=1 ;;
    -h | --help)
      echo "usage: $0 [--s3]   (--s3: push to moto's S3 server on loopback instead of a folder)"
      exit 0
      ;;
    *)
      echo "error: unknown option '$arg' (the only option is --s3)" >&2
      exit 2
      ;;
  esac
done

export GIT_AUTHOR_NAME=example GIT_AUTHOR_EMAIL=example@example.invalid
export GIT_COMMITTER_NAME=example GIT_COMMITTER_EMAIL=example@example.invalid
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/bale-example.XXXXXX")
_s3_pid=""
_cleanup() {
  if [ -n "$_s3_pid" ]; then kill "$_s3_pid" 2>/dev/null || true; fi
  if [ -z "${KEEP_EXAMPLE:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap _cleanup EXIT

if [ -t 1 ]; then _bold=$'\033[1m' _dim=$'\033[2m' _off=$'\033[0m'; else _bold="" _dim="" _off=""; fi

# Print a command as the reader would type it (an argument with spaces or
# shell characters in single quotes), then run it.
step() {
  local shown="" arg
  for arg in "$@"; do
    if [[ -z "$arg" || "$arg" =~ [^A-Za-z0-9_./:=@%+,-] ]]; then arg="'${arg//\'/\'\\\'\'}'"; fi
    shown+="${shown:+ }$arg"
  done
  printf '\n%s$ %s%s\n' "$_bold" "$shown" "$_off"
  "$@"
}

say() { printf '\n%s# %s%s\n' "$_dim" "$*" "$_off"; }

git_init() { git init -q -b main "$@"; }

# moto's S3 server on a free loopback port, with the keys bale finds in the
# environment; the bucket "examples" is made empty for this run.
_start_s3() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  _s3_pid=$!
  export AWS_ACCESS_KEY_ID=example AWS_SECRET_ACCESS_KEY=example AWS_DEFAULT_REGION=us-east-1
  export S3_ENDPOINT="http://127.0.0.1:$port"
  for _ in $(seq 100); do
    if python3 -c "import urllib.request as u; u.urlopen('$S3_ENDPOINT/')" 2>/dev/null; then break; fi
    sleep 0.1
  done
  python3 -c "import urllib.request as u; u.urlopen(u.Request('$S3_ENDPOINT/examples', method='PUT'))"
}
if [ "$EXAMPLE_S3" = 1 ]; then _start_s3; fi

# A fresh remote location named $1: a folder under the scratch folder, or a
# prefix in the S3 bucket. Pair it with remote_options to set the endpoint.
remote_url() {
  if [ "$EXAMPLE_S3" = 1 ]; then echo "s3://examples/$1"; else echo "$work/remotes/$1"; fi
}

# After `bale remote add NAME URL`: point an S3 remote at the loopback server
# (a no-op for a folder remote).
remote_options() {
  if [ "$EXAMPLE_S3" = 1 ]; then bale remote modify "$1" endpointurl "$S3_ENDPOINT"; fi
}
