#!/usr/bin/env bash
# What the browser tests of `make test` need: a Chromium that chromedp can
# start headless. It uses CHROME_PATH when set, else a Chromium or Chrome on
# the PATH; on a fresh Debian machine it installs Debian's chromium package
# (chromedp speaks the DevTools protocol itself: no chromium-driver), and a
# Chinese font (fonts-noto-cjk) so that pages render as people see them.
# Where one is present it only checks. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
me=browser
apt_hint="or install Chromium yourself and set CHROME_PATH to it (the browser tests need it)"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

find_chrome() {
  if [ -n "${CHROME_PATH:-}" ]; then
    [ -x "$CHROME_PATH" ] && printf '%s\n' "$CHROME_PATH"
    return
  fi
  local c
  for c in chromium chromium-browser google-chrome-stable google-chrome; do
    if have "$c"; then command -v "$c"; return; fi
  done
}

if [ -n "${CHROME_PATH:-}" ] && [ -z "$(find_chrome)" ]; then
  say "CHROME_PATH=$CHROME_PATH is not an executable file"
  exit 1
fi
if [ -z "$(find_chrome)" ]; then
  apt_install chromium
fi
chrome=$(find_chrome)
if [ -z "$chrome" ]; then
  say "no Chromium after installing it; set CHROME_PATH to a Chromium or Chrome"
  exit 1
fi
if ! version=$("$chrome" --version 2>/dev/null); then
  say "$chrome does not run ($chrome --version failed)"
  exit 1
fi
# The pages are mostly Chinese: without a CJK font Chromium draws boxes, and
# the accessibility tour measures text it cannot shape. Debian's Noto CJK.
if have fc-list && ! fc-list :lang=zh-tw 2>/dev/null | grep -q .; then
  if have apt-get; then
    apt_install fonts-noto-cjk
  else
    say "no Chinese font found (fc-list :lang=zh-tw): install one, e.g. Noto Sans CJK, for the page tests"
  fi
fi
say "$version ($chrome) is ready for the browser tests"
