# Shared by the command-line test scripts (tests/cli/*.sh), sourced after
# they set -u: a scratch folder $T removed on exit, pass/fail counters, and
#   check NAME CONDITION...   counts CONDITION's outcome, prints FAIL: NAME
#   run CMD...                runs CMD, setting rc, out and err (also in $T/out, $T/err)
#   one_line                  the last command's stderr is one non-empty line
#   has TEXT                  the last command's stderr contains TEXT
T=$(mktemp -d)
CLI_DIR=$(cd "$(dirname "$0")" && pwd)  # tests/cli, whatever the script's working directory becomes
trap 'rm -rf "$T"' EXIT
fails=0
pass=0
check() {  # check NAME CONDITION...
  local name=$1
  shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
run() {  # run CMD... : sets rc, out, err
  "$@" >"$T/out" 2>"$T/err"
  rc=$?
  out=$(cat "$T/out")
  err=$(cat "$T/err")
}
one_line() { [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && [ -n "$err" ]; }
has() { printf '%s\n' "$err" | grep -qF -- "$1"; }
