#!/usr/bin/env bash
# `make demo` for now: a tour of the desired-state API with the real commands.
# The leader that brings a local cluster to the desired state comes next; this tour
# shows what it stands on — validation, refusal of bad edits, the versioned history.
set -euo pipefail
cd "$(dirname "$0")/../.."
coxswain() { node operator/bin/coxswain.mjs "$@"; }
edit() { node --import tsx operator/demo/edit-jsonc.ts "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

state=.coxswain-tour
rm -rf "$state" && mkdir -p "$state"
example=desired-state/desired_state.jsonc

step "1. Validate the example desired state" "coxswain validate $example"
coxswain validate "$example"

step "2. Accept it as version 1" "coxswain submit -f $example --state-dir $state"
coxswain submit -f "$example" --state-dir "$state"

step "3. An edit: id 2, three replicas per node group, a backup" "coxswain validate $state/v2.jsonc --previous $example"
edit "$example" "$state/v2.jsonc" id=2 replicationFactor=3 'backups=[{"id":"nightly","sink":{"type":"local","path":"backups"}}]'
coxswain validate "$state/v2.jsonc" --previous "$example"
coxswain submit -f "$state/v2.jsonc" --state-dir "$state"

step "4. A bad edit is refused with file:line:col, and nothing changes" "coxswain submit -f $state/bad.jsonc --state-dir $state"
edit "$state/v2.jsonc" "$state/bad.jsonc" id=3 version='"9.0"' nodeGroups='"4"' replicationFactr=2
coxswain submit -f "$state/bad.jsonc" --state-dir "$state" || echo "(exit $? — refused, as it should be)"

step "5. Changes the cluster cannot make are refused: a downgrade Valkey 8.0 → Redis 7.0 (7.0 cannot read 8.0's data), a new name" "coxswain validate $state/down.jsonc --previous $state/up.jsonc"
edit "$state/v2.jsonc" "$state/up.jsonc" id=3 version='"8.0"'
edit "$state/v2.jsonc" "$state/down.jsonc" id=4 version='"7.0"' name='"renamed"'
coxswain validate "$state/down.jsonc" --previous "$state/up.jsonc" || echo "(exit $? — refused)"

step "6. The versioned history and the JSON patch between versions" "coxswain history --state-dir $state; coxswain diff 1 2 --state-dir $state"
coxswain history --state-dir "$state"
coxswain diff 1 2 --state-dir "$state"

printf '\nThe tour kept its state in %s (coxswain history --state-dir %s).\n' "$state" "$state"
