#!/usr/bin/env bash
# `make demo`: a local Redis Cluster run by Coxswain, start to finish, with the real
# commands. It copies the example desired state to a working file, starts the leader in
# the background, waits for 3 node groups × 2 (Redis 7.0), writes and reads keys with
# redis-cli, then edits the file the way a person would and waits after each edit:
# three replicas per node group, a fourth node group, Valkey 8.0, a backup. An invalid
# edit is refused with the reason while the cluster stays as it was. At the end the keys
# are read back, `down --purge` stops everything, and the demo checks that no process it
# saw is left. Each step prints how long it took.
#
# Ports: data nodes from 7001, agents from 7101 (the next free ones when taken);
# COXSWAIN_DATA_PORT_BASE / COXSWAIN_AGENT_PORT_BASE move them.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

coxswain() { node "$root/operator/bin/coxswain.mjs" "$@"; }
edit() { node "$root/operator/demo/edit-jsonc.ts" "$file" "$file" "$@"; }
now() { date +%s.%N; }
bold() { printf '\033[1m%s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/coxswain-demo-XXXXXX")
state="$work/state"
file="$work/desired_state.jsonc"
timings=()
step_title=''
step_started=''

step() {
  step_title=$1
  step_started=$(now)
  printf '\n'
  bold "== $1"
}
step_done() {
  local took
  took=$(awk -v a="$step_started" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  printf '   (%s s)\n' "$took"
  timings+=("$(printf '%6s s  %s' "$took" "$step_title")")
}

# Every pid the cluster's pid files name: the leader, each agent, each data node.
pids_now() {
  local f
  for f in "$state/leader.pid" "$state"/vms/*/agent.pid "$state"/vms/*/data/nodes/*/redis.pid; do
    [ -f "$f" ] && head -n 1 "$f"
  done
  return 0
}
seen_pids=()
remember_pids() {
  local p
  for p in $(pids_now); do seen_pids+=("$p"); done
}

cleanup() {
  local code=$?
  # Only while the cluster's state is there (after down --purge only the backups remain).
  if [ -d "$state/vms" ] || [ -f "$state/leader.pid" ]; then
    printf '\nCleaning up: coxswain down --purge\n'
    coxswain down --purge --state-dir "$state" || true
  fi
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The port of a data node that serves now: the first endpoint status lists to seed a
# client with (any one node may be removed by a later edit, so ask each time).
data_port() {
  local seed
  seed=$(coxswain status --endpoints --state-dir "$state" | head -n 1)
  echo "${seed##*:}"
}

# Applies an edit and waits for the cluster to reach it.
change() {
  local id=$1 what=$2
  shift 2
  step "$what (id $id)"
  show "edit $file: id=$id $*"
  edit id="$id" "$@"
  show "coxswain wait --id $id"
  coxswain wait --id "$id" --timeout 300 --state-dir "$state"
  remember_pids
  step_done
}

demo_started=$(now)

step "Start: copy the example desired state and start the leader in the background"
cp desired-state/desired_state.jsonc "$file"
show "coxswain up -f $file --state-dir $state --detach"
coxswain up -f "$file" --state-dir "$state" --detach
step_done

step "Wait until the cluster is at the desired state: 3 node groups × 2, Redis 7.0"
show "coxswain wait --id 1"
coxswain wait --id 1 --timeout 300 --state-dir "$state"
remember_pids
step_done

step "The cluster, as the leader sees it"
show "coxswain status"
coxswain status --state-dir "$state"
step_done

port=$(data_port)
step "Write and read keys with redis-cli (cluster mode follows the slots to their node)"
show "redis-cli -c -p $port set greeting 'hello from coxswain'"
redis-cli -c -p "$port" set greeting 'hello from coxswain'
show "redis-cli -c -p $port get greeting"
redis-cli -c -p "$port" get greeting
printf 'and 200 more keys (key:1 … key:200)\n'
for i in $(seq 1 200); do printf 'SET key:%s value-%s\n' "$i" "$i"; done | redis-cli -c -p "$port" >/dev/null
step_done

change 2 "Three replicas per node group" replicationFactor=3
change 3 "A fourth node group (slots move to it online)" nodeGroups=4
change 4 "Rolling upgrade to Valkey 8.0" version='"8.0"'
# A relative sink path is relative to the state directory, the same for every VM.
change 5 "A backup" 'backups=[{"id":"demo-backup","sink":{"type":"local","path":"backups"}}]'

step "An invalid edit: back to Redis 7.0 (7.0 cannot read 8.0's data files) is refused"
cp "$file" "$work/accepted.jsonc"
show "edit $file: id=6 version=\"7.0\""
edit id=6 version='"7.0"'
show "coxswain wait --id 6   # exits 4: desired state 6 is refused, with the reason"
refused=0
coxswain wait --id 6 --timeout 30 --state-dir "$state" || refused=$?
if [ "$refused" != 4 ]; then
  echo "expected desired state 6 to be refused (exit 4), got exit $refused" >&2
  exit 1
fi
show "coxswain status"
coxswain status --state-dir "$state"
printf 'The cluster keeps desired state 5; putting the accepted file back.\n'
cp "$work/accepted.jsonc" "$file"
step_done

step "The keys are all still there after scaling, upgrading and backing up"
port=$(data_port)
show "redis-cli -c -p $port get greeting"
redis-cli -c -p "$port" get greeting
missing=0
for i in 1 50 100 150 200; do
  [ "$(redis-cli -c -p "$port" get "key:$i")" = "value-$i" ] || missing=$((missing + 1))
done
printf 'key:1, key:50, key:100, key:150, key:200: %s missing\n' "$missing"
[ "$missing" = 0 ] || exit 1
show "ls $state/backups/demo-backup"
ls "$state/backups/demo-backup"
show "coxswain jobs | tail -n 4"
coxswain jobs --state-dir "$state" | tail -n 4
step_done

step "Stop everything and delete the data"
remember_pids
show "coxswain down --purge"
coxswain down --purge --state-dir "$state"
# A process counts as left when /proc still has it running (an exited one that its
# parent has not reaped yet — state Z — is gone).
left=()
for p in $(printf '%s\n' "${seen_pids[@]}" | sort -un); do
  if [ -r "/proc/$p/stat" ] && ! grep -q ') Z ' "/proc/$p/stat" 2>/dev/null; then
    left+=("$p ($(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | cut -c1-80))")
  fi
done
if [ "${#left[@]}" -gt 0 ]; then
  echo "processes left behind: ${left[*]}" >&2
  exit 1
fi
printf 'No process left: checked %s pids (leader, agents, data nodes).\n' "$(printf '%s\n' "${seen_pids[@]}" | sort -un | wc -l)"
step_done

total=$(awk -v a="$demo_started" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
printf '\n'
bold "Timings"
printf '%s\n' "${timings[@]}"
printf '%6s s  %s\n' "$total" "the whole demo"
