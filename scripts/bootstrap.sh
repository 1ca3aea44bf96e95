#!/usr/bin/env bash
# Installs what dlp-gateway needs on a Debian machine: the system packages (libmagic,
# Tesseract with chi_tra, chi_sim and eng, OpenSSL) and a virtualenv in .venv with the
# package and its test tools. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libmagic1 libarchive13 tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-tra tesseract-ocr-chi-sim openssl python3-venv)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# python3-venv is only needed where the interpreter cannot make a venv by itself.
if python3 -c 'import ensurepip' 2>/dev/null; then
    missing=("${missing[@]/python3-venv}")
fi
read -r -a missing <<<"${missing[*]:-}"
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "bootstrap: installing system packages: ${missing[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "bootstrap: missing system packages: ${missing[*]}" >&2
        echo "bootstrap: install them as root: apt-get install ${missing[*]}" >&2
        exit 2
    fi
fi

python3 - <<'PY' || { echo "bootstrap: dlp-gateway needs Python 3.11 or newer as python3" >&2; exit 2; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e '.[test,bench]'
    rm -f .venv/.installed-*
    touch "$stamp"
fi
