#!/usr/bin/env bash
# What `make test` needs besides the services: a Go that can build this
# module, and a working C compiler, since the race detector (-race) needs
# cgo. On a fresh Debian machine it installs gcc and the C library headers;
# where they are present it only checks. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
me=toolchain
apt_hint="or install a C compiler yourself (the race detector needs cgo)"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# Go: from 1.21 on, the go command fetches the version go.mod asks for
# (GOTOOLCHAIN=auto, set by the Makefile) through the module proxy. An
# older one cannot even read go.mod, so say what to do instead of its error.
if ! have go; then
  say "no go command: install Go 1.21 or newer (it fetches the Go this module needs), or Go $(sed -n 's/^go //p' go.mod) from go.dev"
  exit 1
fi
local_go=$(cd / && GOTOOLCHAIN=local go version | awk '{print $3}')
minor=$(printf '%s\n' "$local_go" | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ -z "$minor" ] || [ "$minor" -lt 21 ]; then
  say "$local_go is too old to build this module: install Go 1.21 or newer (it fetches the Go this module needs, $(sed -n 's/^go //p' go.mod), through the module proxy), or that Go from go.dev"
  exit 1
fi

# C compiler: -race needs cgo, and cgo a compiler that can link a program.
cc_works() {
  local cc
  cc=$(go env CC)
  have "$cc" && printf 'int main(void) { return 0; }\n' | "$cc" -x c - -o /dev/null >/dev/null 2>&1
}
if ! cc_works; then
  apt_install gcc libc6-dev
  if ! cc_works; then
    say "the C compiler ($(go env CC)) still cannot build a program; the race detector needs one"
    exit 1
  fi
fi
say "$(go env GOVERSION) with cgo ($(go env CC)) is ready for go test -race"
