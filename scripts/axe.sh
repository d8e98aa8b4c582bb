#!/usr/bin/env bash
# Refreshes the copy of axe-core the browser accessibility test runs
# (cmd/idp/testdata/axe): the version pinned below, fetched from the npm
# registry with `npm pack`, checked against the registry's sha512 integrity
# pinned below, then its axe.min.js and licences copied in. The tests never
# call this: the copy is checked in, so `go test` needs no network and no
# Node. Run it only to move to another version: change VERSION and
# INTEGRITY (npm view axe-core@VERSION dist.integrity), run it, then set
# axeVersion and axeSHA256 in cmd/idp/browser_a11y_test.go to what it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
me=axe
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

VERSION=4.14.1
INTEGRITY=sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==

if ! have npm; then
  say "npm is needed to fetch axe-core (apt-get install npm)"
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "axe-core@$VERSION" >/dev/null)
tgz="$tmp/axe-core-$VERSION.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$INTEGRITY" ]; then
  say "axe-core $VERSION from the registry has integrity $got, want $INTEGRITY"
  exit 1
fi
tar -xzf "$tgz" -C "$tmp"
dest=cmd/idp/testdata/axe
mkdir -p "$dest"
cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$tmp/package/LICENSE-3RD-PARTY.txt" "$dest/"
say "axe-core $VERSION in $dest (axe.min.js SHA-256 $(sha256sum "$dest/axe.min.js" | cut -d' ' -f1))"
