#!/usr/bin/env bash
# Installs what the tests need, idempotently: Debian's Chromium, openssl and the
# build headers code-server's native modules want (when run as root), and code-server
# 4.100.3 (the last release that runs on Node 20) into the ignored .vscode-test/ folder.
set -euo pipefail
cd "$(dirname "$0")/.."
CS_VERSION=4.100.3
CS_DIR="$PWD/.vscode-test/code-server-$CS_VERSION"

# --code-server-only: what `npm start` needs (no browser).
need_apt=()
[ "${1:-}" = --code-server-only ] || [ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v rg >/dev/null || need_apt+=(ripgrep)
# The direct HTTP client's TLS test makes a throwaway certificate with the openssl command.
[ "${1:-}" = --code-server-only ] || command -v openssl >/dev/null || need_apt+=(openssl)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
# The local API tests run the user guide's Python example with Debian's python3 + requests.
/usr/bin/python3 -c 'import requests' >/dev/null 2>&1 || need_apt+=(python3-requests)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "ensure-workbench: installing Debian packages: ${need_apt[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "ensure-workbench: missing Debian packages: ${need_apt[*]}. Install them with: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
fi

[ "${1:-}" = --apt-only ] && exit 0
if [ -f "$CS_DIR/node_modules/code-server/out/node/entry.js" ]; then
  exit 0
fi
echo "ensure-workbench: installing code-server $CS_VERSION into $CS_DIR (a few minutes, once)" >&2
# @vscode/ripgrep's install step downloads rg; it looks in this cache first, so give it Debian's.
cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
mkdir -p "$cache"
[ -f "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" ] ||
  tar czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg
rm -rf "$CS_DIR.partial" && mkdir -p "$CS_DIR.partial"
( cd "$CS_DIR.partial" && echo '{"private":true}' > package.json &&
  npm_config_yes=true npm_config_unsafe_perm=true npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION" >&2 )
rm -rf "$CS_DIR" && mv "$CS_DIR.partial" "$CS_DIR"
