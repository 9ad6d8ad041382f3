#!/usr/bin/env bash
# Installs what Hotline needs and is missing: Debian packages, libvosk (from
# the npm package vosk@0.3.39, which ships the prebuilt library) and Go
# modules. Safe to run again: it only installs what is not there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  pkg-config gcc
  pocketsphinx pocketsphinx-en-us libpocketsphinx-dev
  pocketsphinx-testdata festvox-ru   # recordings with reference texts, used by tests when ../shared is absent
  sox
  libspandsp-dev sip-tester baresip   # telephony tests: spandsp G.722 (the reference the Go codec is held to), SIPp and a softphone
  chromium fonts-dejavu-core   # headless browser for the web editor's end-to-end test
  espeak-ng libespeak-ng-dev festival festvox-us-slt-hts   # speech synthesis (tts/espeak, tts/festival)
  libopus-dev libopusfile-dev   # Opus for telephony/webrtc (hraban/opus links opusfile unless built with -tags nolibopusfile)
  libpcre3 libreadline8   # what the Kamailio binary below links
)

VOSK_VERSION=0.3.39
VOSK_TGZ_SHA256=f0acfb81236e492f29193ffbd1029204cd0af7107fca4e5e5a410432b3291ad3
VOSK_DIR=${VOSK_DIR:-$PWD/.cache/vosk}
# Kamailio is the SIP proxy the tests put in front of two instances. Only
# its binary and modules are unpacked into .cache: the Debian package
# would also install and start a system service on port 5060.
KAMAILIO_DIR=$PWD/.cache/kamailio

say() { printf 'setup: %s\n' "$*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { say "need root (or sudo) to install: ${missing[*]}"; exit 1; }
    SUDO="sudo -n"
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null; then
    $SUDO apt-get update -q </dev/null
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
  fi
fi

if [ ! -f "$VOSK_DIR/lib/libvosk.so" ]; then
  command -v npm >/dev/null || { say "npm is needed to fetch libvosk (Debian package npm)"; exit 1; }
  say "fetching libvosk from npm package vosk@$VOSK_VERSION"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "vosk@$VOSK_VERSION" >/dev/null)
  echo "$VOSK_TGZ_SHA256  $tmp/vosk-$VOSK_VERSION.tgz" | sha256sum -c --quiet -
  tar -xzf "$tmp/vosk-$VOSK_VERSION.tgz" -C "$tmp" package/lib/linux-x86_64/libvosk.so
  mkdir -p "$VOSK_DIR/lib"
  mv "$tmp/package/lib/linux-x86_64/libvosk.so" "$VOSK_DIR/lib/libvosk.so"
fi

if [ ! -x "$KAMAILIO_DIR/usr/sbin/kamailio" ]; then
  say "unpacking Kamailio (Debian package kamailio, binary only) into $KAMAILIO_DIR"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if ! (cd "$tmp" && apt-get download -q kamailio </dev/null); then
    ${SUDO:-} apt-get update -q </dev/null
    (cd "$tmp" && apt-get download -q kamailio </dev/null)
  fi
  mkdir -p "$KAMAILIO_DIR"
  dpkg-deb -x "$tmp"/kamailio_*.deb "$KAMAILIO_DIR"
  rm -rf "$tmp"
fi

go mod download
