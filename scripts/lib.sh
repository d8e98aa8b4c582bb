# Helpers shared by the set-up scripts (sourced, not run). The sourcing
# script sets `me` to the name its messages start with, and may set
# `apt_hint` to what a machine without apt-get can do instead.

say() { printf '%s: %s\n' "${me:-setup}" "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif have sudo; then sudo "$@"
  else say "need root to run: $*"; exit 1
  fi
}

apt_updated=
apt_install() {
  if ! have apt-get; then
    say "cannot install $* here (no apt-get): install it yourself${apt_hint:+, $apt_hint}"
    exit 1
  fi
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  say "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
