#!/usr/bin/env bash
# Runs every case in cases.txt (see its header). Usage: run.sh VRINGSIM
set -u
BIN=$(realpath "$1")
cd "$(dirname "$0")"
pass=0 fails=0
while IFS='|' read -r file cmd code frag names; do
  file=$(echo "$file" | xargs) cmd=$(echo "$cmd" | xargs) code=$(echo "$code" | xargs)
  frag=$(echo "$frag" | sed 's/^ *//; s/ *$//')
  names=$(echo "${names:-$file}" | xargs)
  [ -z "$file" ] && continue
  [ -f "$file" ] || { echo "FAIL $file: the case file is missing"; fails=$((fails + 1)); continue; }
  out=$(mktemp -d)
  # shellcheck disable=SC2086  # cmd holds a subcommand and its flags
  "$BIN" $cmd "$file" >"$out/stdout" 2>"$out/stderr"
  rc=$?
  err=$(cat "$out/stderr")
  lines=$(grep -c '' "$out/stderr")
  rm -rf "$out"
  why=""
  [ "$rc" = "$code" ] || why="exit $rc, expected $code"
  [ -z "$why" ] && [ "$lines" != 1 ] && why="$lines lines on stderr, expected 1"
  [ -z "$why" ] && [[ "$err" != *"$names"* ]] && why="the message does not name $names"
  [ -z "$why" ] && [[ "$err" != *"$frag"* ]] && why="the message lacks: $frag"
  if [ -n "$why" ]; then
    echo "FAIL $file ($cmd): $why; stderr: $err"
    fails=$((fails + 1))
  else
    pass=$((pass + 1))
  fi
done < <(grep -v '^#' cases.txt)
echo "bad inputs: $pass passed, $fails failed"
[ "$fails" = 0 ] && [ "$pass" -ge 30 ]
