#!/usr/bin/env bash
# Switching a profile's receive mode without retyping its features (issue 31):
# virtio.features_remove / virtio.features_add edit the list the profile (or
# the file, a sweep axis, a --set) gave, and the error a policy that
# contradicts the features gets suggests the edit, which then runs.
# Usage: features_edit_test.sh VRINGSIM SOURCE_DIR
set -u
BIN=$1
SRC=$2
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$SRC" || exit 1
field() {  # field FILE DOTTED.KEY : prints the value as JSON
  /usr/bin/python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k]
print(json.dumps(d))' "$1" "$2"
}
suggestion() {  # the --set arguments the error in $T/err suggests, one a line
  grep -o -- '--set virtio\.[a-z_]*=[^ ]*' "$T/err" | sed 's/^--set //'
}
# follows WHAT FILE POLICY EXPECTED MODE: --set policy.name=POLICY on FILE is
# refused in one line suggesting EXPECTED, and the suggested command runs in
# receive mode MODE.
follows() {
  local what=$1 file=$2 policy=$3 expected=$4 mode=$5 name
  name=$(basename "$file" .json)
  run "$BIN" run "$file" --set policy.name="$policy" --out "$T/refused-$policy"
  check "$what: exit 2" [ "$rc" = 2 ]
  check "$what: one line" [ "$(wc -l <"$T/err")" = 1 ]
  mapfile -t fix < <(suggestion)
  check "$what: suggests $expected" [ "${fix[*]}" = "$expected" ]
  run "$BIN" run "$file" --set policy.name="$policy" --set "${fix[0]:-}" --out "$T/followed-$policy"
  check "$what, suggested command: exit 0" [ "$rc" = 0 ]
  check "$what, suggested command: $mode buffers" [ "$(field "$T/followed-$policy/linux6-$name/summary.json" virtio.receive_mode)" = "\"$mode\"" ]
}
MERGEABLE=scenarios/linux-6/mergeable-mtu-10g.json
BIG=scenarios/linux-6/big-mtu-10g.json  # linux-6.x's features without MRG_RXBUF or RING_INDIRECT_DESC

# 1. big-packets on today's mergeable profile: one line, saying how to fix it.
run "$BIN" run "$MERGEABLE" --set policy.name=big-packets --out "$T/o1"
check "big-packets on linux-6: exit 2" [ "$rc" = 2 ]
check "big-packets on linux-6: one line" [ "$(wc -l <"$T/err")" = 1 ]
check "big-packets on linux-6: says why" grep -q -- "--set policy.name=big-packets: /policy/name: policy \"big-packets\" posts big buffers, but the features in /virtio/features make the driver post mergeable buffers" "$T/err"
check "big-packets on linux-6: suggests removing MRG_RXBUF" grep -q -- "; --set virtio.features_remove=MRG_RXBUF makes them post big buffers and keeps the other features$" "$T/err"
check "big-packets on linux-6: nothing written" [ ! -e "$T/o1" ]
mapfile -t fix < <(suggestion)
check "big-packets on linux-6: one --set suggested" [ "${fix[*]}" = "virtio.features_remove=MRG_RXBUF" ]

# The suggested command line runs.
run "$BIN" run "$MERGEABLE" --set policy.name=big-packets --set "${fix[0]:-}" --out "$T/big"
check "the suggested command: exit 0" [ "$rc" = 0 ]
S=$T/big/linux6-mergeable-mtu-10g/summary.json
check "it ran big packets" [ "$(field "$S" virtio.receive_mode)" = '"big"' ]
check "it ran policy big-packets" [ "$(field "$S" policy.name)" = '"big-packets"' ]
check "summary virtio.features: the profile's without MRG_RXBUF" [ "$(field "$S" virtio.features)" = '["CSUM", "GUEST_CSUM", "MAC", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN", "HOST_TSO4", "HOST_TSO6", "HOST_ECN", "STATUS", "CTRL_VQ", "RING_INDIRECT_DESC", "RING_EVENT_IDX", "VERSION_1"]' ]
check "config echo: the list that ran" [ "$(field "$S" config.virtio.features)" = '["CSUM", "GUEST_CSUM", "MAC", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN", "HOST_TSO4", "HOST_TSO6", "HOST_ECN", "STATUS", "CTRL_VQ", "RING_INDIRECT_DESC", "RING_EVENT_IDX", "VERSION_1"]' ]
check "config echo: no edit keys (the list holds their result)" [ "$(field "$S" config.virtio | grep -c features_)" = 0 ]
check "provenance: the edit (remove)" [ "$(field "$S" provenance.features_edit.remove)" = '["MRG_RXBUF"]' ]
check "provenance: the edit (add)" [ "$(field "$S" provenance.features_edit.add)" = '[]' ]
check "provenance: the list it edited" [ "$(field "$S" provenance.features_edit.base | grep -c MRG_RXBUF)" = 1 ]
check "runs.csv has the edit" grep -q "provenance.features_edit.remove" "$T/big/runs.csv"
# Without an edit, no features_edit in provenance.
run "$BIN" run "$MERGEABLE" --set stop.time_s=0.01 --set measure.warmup_s=0.005 --out "$T/plain"
check "no edit: exit 0" [ "$rc" = 0 ]
check "no edit: no provenance.features_edit" [ "$(grep -c features_edit "$T/plain/linux6-mergeable-mtu-10g/summary.json")" = 0 ]

# 2. small on linux-6: guest GSO goes too (GUEST_ECN with it, it needs TSO).
follows "small on linux-6" "$MERGEABLE" small "virtio.features_remove=GUEST_TSO4,GUEST_TSO6,GUEST_ECN,MRG_RXBUF" small

# 3. mergeable on a linux-6 file whose list lacks MRG_RXBUF.
follows "mergeable without MRG_RXBUF" "$BIG" mergeable "virtio.features_add=MRG_RXBUF" mergeable
# ... and small on that file: guest GSO only.
run "$BIN" validate "$BIG" --set policy.name=small
mapfile -t fix < <(suggestion)
check "small without MRG_RXBUF: exit 2" [ "$rc" = 2 ]
check "small without MRG_RXBUF: suggests removing guest GSO" [ "${fix[*]}" = "virtio.features_remove=GUEST_TSO4,GUEST_TSO6,GUEST_ECN" ]
run "$BIN" validate "$BIG" --set policy.name=small --set "${fix[0]:-}"
check "small without MRG_RXBUF, suggested: validates" [ "$rc" = 0 ]

# 4. Edits that name no feature or change nothing: exit 2, the pointer named.
run "$BIN" validate "$MERGEABLE" --set virtio.features_remove=MRG_RXBUFS
check "unknown name from --set: exit 2" [ "$rc" = 2 ]
check "unknown name from --set: the --set and the pointer" grep -q -- '^--set virtio.features_remove=MRG_RXBUFS: /virtio/features_remove/0: unknown feature "MRG_RXBUFS" (did you mean MRG_RXBUF?)$' "$T/err"
run "$BIN" validate "$MERGEABLE" --set virtio.features_remove=RING_PACKED
check "removing what is not there: exit 2" [ "$rc" = 2 ]
check "removing what is not there: says so" grep -q "RING_PACKED is not in virtio.features (driver.profile \"linux-6.x\"'s list): removing it changes nothing" "$T/err"
run "$BIN" validate "$MERGEABLE" --set virtio.features_add=VERSION_1
check "adding what is there: exit 2" [ "$rc" = 2 ]
check "adding what is there: says so" grep -q "VERSION_1 is already in virtio.features (driver.profile \"linux-6.x\"'s list): adding it changes nothing" "$T/err"
cat >"$T/edit.json" <<'J'
{"name": "edit", "driver": {"profile": "linux-6.x"}, "stop": {"time_s": 0.01}, "measure": {"warmup_s": 0.005},
 "virtio": {"features_remove": ["MRG_RXBUF", "RING_INDIRECT_DESC"], "features_add": ["GUEST_UFO"]}}
J
run "$BIN" validate "$T/edit.json"
check "from a scenario file: validates" [ "$rc" = 0 ]
check "from a scenario file: picks big packets" grep -q "policy big-packets" "$T/out"
sed 's/"GUEST_UFO"/"GUEST_UFOO"/' "$T/edit.json" >"$T/bad.json"
run "$BIN" validate "$T/bad.json"
check "unknown name in a file: exit 2" [ "$rc" = 2 ]
check "unknown name in a file: the file and the pointer" grep -q "^$T/bad.json: /virtio/features_add/0: unknown feature \"GUEST_UFOO\" (did you mean GUEST_UFO?)$" "$T/err"

# 5. A sweep axis.
cat >"$T/sw.json" <<J
{"schema_version": 1, "name": "edits", "base": "$SRC/$MERGEABLE",
 "axes": [{"key": "virtio.features_remove", "values": [[], ["MRG_RXBUF"]]},
          {"key": "stop.time_s", "values": [0.01]}, {"key": "measure.warmup_s", "values": [0.005]}],
 "replications": 1, "seed": 1}
J
run "$BIN" sweep "$T/sw.json" --out "$T/sweep" --jobs 2
check "sweep over virtio.features_remove: exit 0" [ "$rc" = 0 ]
modes=$(for f in "$T"/sweep/points/*/rep-0/summary.json; do field "$f" virtio.receive_mode; done | sort | tr '\n' ' ')
check "sweep: one point mergeable, one big ($modes)" [ "$modes" = '"big" "mergeable" ' ]
sed 's/\["MRG_RXBUF"\]/["MRG_RXBUF", "NOPE"]/' "$T/sw.json" >"$T/swbad.json"
run "$BIN" sweep "$T/swbad.json" --dry-run
check "sweep: an unknown name on an axis: exit 2" [ "$rc" = 2 ]
check "sweep: an unknown name on an axis: the pointer named" grep -q '/virtio/features_remove/1: unknown feature "NOPE"' "$T/err"

# 6. Listed with every other parameter.
run "$BIN" params
check "params lists virtio.features_remove" grep -q "^virtio.features_remove " "$T/out"
check "params lists virtio.features_add" grep -q "^virtio.features_add " "$T/out"

echo "$pass passed, $fails failed"
[ "$fails" = 0 ]
