#!/usr/bin/env bash
# Makes sure both Redis Cluster engine versions Coxswain drives are installed:
#   Redis 7.0   redis-server + redis-cli     (Debian 12 "bookworm": redis-server, redis-tools)
#   Valkey 8.0  valkey-server + valkey-cli   (bookworm-backports: valkey-server, valkey-tools)
# Idempotent: when all four binaries are there with the right versions it prints one
# line and exits without touching apt. Called by `make engines` (and so by demo/test).
#
# Notes
# - Installing a server package on a machine that runs systemd starts the package's
#   system service on 127.0.0.1:6379 (redis-server.service; valkey-server.service would then
#   fail to bind the same port, which its postinst tolerates with "|| true"). Coxswain never uses
#   6379: it starts its own nodes on its own ports and data directories, so the
#   services are harmless. To stop them:
#     systemctl disable --now redis-server valkey-server
# - Valkey and Redis install side by side. Checked on bookworm-backports 8.0.1+dfsg1-1~bpo12+1:
#   valkey-tools ships only valkey-* names (valkey-cli, valkey-benchmark, valkey-check-aof,
#   valkey-check-rdb); it does not touch redis-cli (no alternatives, no diversion, no
#   Conflicts/Replaces with redis-tools). bookworm-backports has no valkey-redis-compat
#   (the package that, in Ubuntu 24.04 and later, adds redis-* names pointing at Valkey);
#   never install it here. So `redis-cli` stays Redis 7.0's and `valkey-cli` is Valkey
#   8.0's; the version check below fails if `redis-cli` ever stops being 7.0.
# - The backports entry is derived from this machine's own apt sources (no mirror
#   host name is written into the repository).
set -euo pipefail

readonly REDIS_WANT=7.0 VALKEY_WANT=8.0
readonly BACKPORTS_FILE=/etc/apt/sources.list.d/coxswain-bookworm-backports.sources
readonly ME="install-debian.sh"

say() { printf '%s: %s\n' "$ME" "$*"; }
die() { printf '%s: error: %s\n' "$ME" "$*" >&2; exit 1; }

# First x.y.z in `<binary> --version`, or empty when the binary is missing/broken.
version_of() {
  command -v "$1" >/dev/null 2>&1 || return 0
  "$1" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true
}

# is_series 7.0.15 7.0 -> true
is_series() { [[ -n $1 && $1 == "$2".* ]]; }

# Prints what is missing or wrong; empty output means everything is in place.
check_engines() {
  local rs rc vs vc
  rs=$(version_of redis-server); rc=$(version_of redis-cli)
  vs=$(version_of valkey-server); vc=$(version_of valkey-cli)
  is_series "$rs" "$REDIS_WANT" || echo "redis-server ${REDIS_WANT}.x (found: ${rs:-none})"
  is_series "$rc" "$REDIS_WANT" || echo "redis-cli ${REDIS_WANT}.x (found: ${rc:-none})"
  is_series "$vs" "$VALKEY_WANT" || echo "valkey-server ${VALKEY_WANT}.x (found: ${vs:-none})"
  is_series "$vc" "$VALKEY_WANT" || echo "valkey-cli ${VALKEY_WANT}.x (found: ${vc:-none})"
  return 0
}

versions_line() {
  echo "engines: redis-server $(version_of redis-server), redis-cli $(version_of redis-cli)," \
    "valkey-server $(version_of valkey-server), valkey-cli $(version_of valkey-cli)"
}

# ---- fast path: nothing to do -------------------------------------------------------
missing=$(check_engines)
if [[ -z $missing ]]; then
  echo "$(versions_line) (already installed)"
  exit 0
fi

say "to install: $(echo "$missing" | paste -sd ';' - | sed 's/;/; /g')"

manual_help() {
  cat >&2 <<EOF
Install by hand, then run this script again:
  - Redis ${REDIS_WANT}.x providing redis-server and redis-cli
  - Valkey ${VALKEY_WANT}.x providing valkey-server and valkey-cli
all four on PATH. On Debian 12: redis-server and redis-tools from bookworm, and
valkey-server and valkey-tools from bookworm-backports.
EOF
}

# ---- must be Debian 12 --------------------------------------------------------------
os_id="" os_codename=""
if [[ -r /etc/os-release ]]; then
  # shellcheck disable=SC1091
  os_id=$(. /etc/os-release && echo "${ID:-}")
  os_codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
fi
if [[ $os_id != debian || $os_codename != bookworm ]]; then
  echo "$ME: this installer only knows Debian 12 (bookworm); this machine is '${os_id:-unknown} ${os_codename:-unknown}'." >&2
  manual_help
  exit 1
fi

# ---- bookworm-backports --------------------------------------------------------------
# Is a bookworm-backports suite configured in any enabled source (one-line or deb822)?
backports_configured() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    grep -Eq '^[[:space:]]*deb[[:space:]].*[[:space:]]bookworm-backports([[:space:]]|$)' "$f" && return 0
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    awk '
      function flush() { if (deb && bp && enabled) found = 1; deb = bp = 0; enabled = 1 }
      BEGIN { enabled = 1 }
      /^[[:space:]]*$/ { flush(); next }
      /^#/ { next }
      { l = tolower($0) }
      l ~ /^types:/ && l ~ /[[:space:]]deb([[:space:]]|$)/ { deb = 1 }
      l ~ /^suites:/ && l ~ /[[:space:]]bookworm-backports([[:space:]]|$)/ { bp = 1 }
      l ~ /^enabled:[[:space:]]*no/ { enabled = 0 }
      END { flush(); exit found ? 0 : 1 }' "$f" && return 0
  done
  return 1
}

# Prints two lines, URI and Signed-By value (possibly empty), of the first enabled
# "deb" entry for suite bookworm: deb822 files first, then one-line entries.
derive_bookworm_source() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    awk '
      function flush() {
        if (!done && deb && bw && enabled && uri != "") {
          print uri; print signed; done = 1
        }
        deb = bw = 0; enabled = 1; uri = signed = ""; field = ""
      }
      BEGIN { enabled = 1 }
      /^[[:space:]]*$/ { flush(); next }
      /^#/ { next }
      /^[[:space:]]/ {                       # continuation line (e.g. an inline key)
        if (field == "signed-by") signed = signed "\n" $0
        next
      }
      {
        field = tolower(substr($0, 1, index($0, ":") - 1))
        value = substr($0, index($0, ":") + 1); sub(/^[[:space:]]+/, "", value); sub(/[[:space:]]+$/, "", value)
        n = split(value, w, /[[:space:]]+/)
        if (field == "types")   for (i = 1; i <= n; i++) if (w[i] == "deb") deb = 1
        if (field == "suites")  for (i = 1; i <= n; i++) if (w[i] == "bookworm") bw = 1
        if (field == "uris")    for (i = 1; i <= n; i++) if (uri == "" && w[i] !~ /^cdrom:/) uri = w[i]
        if (field == "enabled" && tolower(value) == "no") enabled = 0
        if (field == "signed-by") signed = value
      }
      END { flush(); exit done ? 0 : 1 }' "$f" && return 0
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    awk '
      /^[[:space:]]*deb[[:space:]]/ {
        line = $0; sub(/#.*/, "", line); signed = ""
        if (match(line, /\[[^]]*\]/)) {
          opts = substr(line, RSTART + 1, RLENGTH - 2)
          line = substr(line, 1, RSTART - 1) substr(line, RSTART + RLENGTH)
          n = split(opts, o, /[[:space:]]+/)
          for (i = 1; i <= n; i++) if (o[i] ~ /^signed-by=/) signed = substr(o[i], 11)
        }
        n = split(line, w, /[[:space:]]+/)
        # w[1] may be empty when the line is indented; find "deb", then URI, suite
        for (i = 1; i <= n && w[i] != "deb"; i++) ;
        if (w[i + 1] !~ /^cdrom:/ && w[i + 2] == "bookworm") { print w[i + 1]; print signed; found = 1; exit }
      }
      END { exit found ? 0 : 1 }' "$f" && return 0
  done
  return 1
}

# ---- must be root or have passwordless sudo -----------------------------------------
if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo)
else
  echo "$ME: need root or passwordless sudo to install packages. Run these as root, then run this script again:" >&2
  if ! backports_configured; then
    uri="<the URIs: value of your bookworm entry>" signed=/usr/share/keyrings/debian-archive-keyring.gpg
    if src=$(derive_bookworm_source); then
      uri=$(sed -n 1p <<<"$src")
      s=$(sed -n 2p <<<"$src"); [[ -n $s && $(wc -l <<<"$src") -eq 2 ]] && signed=$s
    fi
    printf "  printf 'Types: deb\\\\nURIs: %s\\\\nSuites: bookworm-backports\\\\nComponents: main\\\\nSigned-By: %s\\\\n' > %s\n" \
      "$uri" "$signed" "$BACKPORTS_FILE" >&2
  fi
  cat >&2 <<'EOF2'
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server redis-tools
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -t bookworm-backports valkey-server valkey-tools
EOF2
  exit 1
fi

LOG=$(mktemp -t coxswain-engines.XXXXXX.log)
trap 'rm -f "$LOG"' EXIT

# Runs apt-get quietly; on failure shows its output and the command to retry by hand.
apt_get() {
  local -a cmd=(apt-get -q -y -o DPkg::Lock::Timeout=120 "$@")
  if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive "${cmd[@]}" >"$LOG" 2>&1; then
    echo "$ME: failed: ${cmd[*]}" >&2
    tail -n 25 "$LOG" | sed 's/^/  | /' >&2
    echo "$ME: fix the problem above, then run as root: DEBIAN_FRONTEND=noninteractive ${cmd[*]}" >&2
    echo "$ME: and run this script again." >&2
    exit 1
  fi
}

need_update=0
if backports_configured; then
  say "bookworm-backports is already configured"
else
  if ! src=$(derive_bookworm_source); then
    die "no enabled 'deb … bookworm' entry in /etc/apt/sources.list or /etc/apt/sources.list.d/ to derive bookworm-backports from. Add bookworm-backports to your apt sources (Debian's backports instructions), then run this script again."
  fi
  uri=$(sed -n 1p <<<"$src")
  signed=$(sed -n '2,$p' <<<"$src")
  [[ -n $signed ]] || signed=/usr/share/keyrings/debian-archive-keyring.gpg
  say "enabling bookworm-backports from the bookworm entry ($uri) in $BACKPORTS_FILE"
  {
    echo "# Written by Coxswain (agent/engines/redis/install-debian.sh): Valkey 8.0 is in bookworm-backports."
    echo "# Derived from this machine's own bookworm entry. Remove this file to undo."
    echo "Types: deb"
    echo "URIs: $uri"
    echo "Suites: bookworm-backports"
    echo "Components: main"
    echo "Signed-By: $signed"
  } | "${SUDO[@]}" tee "$BACKPORTS_FILE" >/dev/null
  "${SUDO[@]}" chmod 0644 "$BACKPORTS_FILE"
  need_update=1
fi

# Package lists that know neither package (fresh machine, or lists cleaned) need an update.
candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'; }
[[ $(candidate redis-server) == "" || $(candidate redis-server) == "(none)" ]] && need_update=1
if [[ $need_update -eq 0 ]] && ! apt-cache policy valkey-server 2>/dev/null | grep -q 'bookworm-backports'; then
  need_update=1
fi
if [[ $need_update -eq 1 ]]; then
  say "apt-get update"
  apt_get update
fi

say "installing redis-server redis-tools (bookworm)"
apt_get install --no-install-recommends redis-server redis-tools

say "installing valkey-server valkey-tools (bookworm-backports)"
apt_get install --no-install-recommends -t bookworm-backports valkey-server valkey-tools

missing=$(check_engines)
if [[ -n $missing ]]; then
  echo "$ME: installed, but still not right: $(echo "$missing" | paste -sd ';' - | sed 's/;/; /g')" >&2
  echo "$ME: check with: apt-cache policy redis-server redis-tools valkey-server valkey-tools; command -v redis-cli valkey-cli" >&2
  exit 1
fi
versions_line
