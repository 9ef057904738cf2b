#!/usr/bin/env bash
# Builds the control-plane binaries envtest needs (kube-apiserver, etcd, kubectl)
# from Go module sources. Release downloads are not reachable from our CI
# machines, so setup-envtest cannot be used; the Go module proxy is.
#
# Output:  bin/k8s/<K8S_VERSION>-linux-amd64/{kube-apiserver,etcd,kubectl}
# Cache:   ${XDG_CACHE_HOME:-~/.cache}/trackstack/k8s/<K8S_VERSION>-etcd<ETCD_VERSION>-<os>-<arch>/
#          A fresh clone on the same machine reuses the cached copy instead of
#          rebuilding (a cold kube-apiserver build takes 10-20 minutes on 2 cores).
#
# Usage: hack/build-envtest-bins.sh            build or reuse, print the directory
#        K8S_VERSION=1.37.2 ETCD_VERSION=3.6.15 hack/build-envtest-bins.sh
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.6.15}"
GOOS="$(go env GOOS)"
GOARCH="$(go env GOARCH)"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${root}/bin/k8s/${K8S_VERSION}-${GOOS}-${GOARCH}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/trackstack/k8s/${K8S_VERSION}-etcd${ETCD_VERSION}-${GOOS}-${GOARCH}"
bins=(kube-apiserver etcd kubectl)

log() { echo "build-envtest-bins: $*" >&2; }

have_all() {
  local dir="$1" b
  for b in "${bins[@]}"; do [[ -x "${dir}/${b}" ]] || return 1; done
}

if have_all "${out}"; then
  echo "${out}"
  exit 0
fi
mkdir -p "${out}"
if have_all "${cache}"; then
  log "reusing cached binaries from ${cache}"
  cp -f "${cache}"/* "${out}/"
  echo "${out}"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/trackstack-envtest.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0

build_kubernetes() {
  # k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/apiserver, ...)
  # at v0.0.0 and replaces them with ./staging paths, which do not exist outside
  # its own repository. Point every such module at its published release instead.
  local mod="${work}/kubernetes"
  mkdir -p "${mod}"
  cd "${mod}"
  go mod init trackstack.dev/envtest-kubernetes >/dev/null 2>&1
  cat >tools.go <<GO
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  local gomod
  gomod="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/v${K8S_VERSION}.mod"
  if [[ ! -f "${gomod}" ]]; then
    go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" >/dev/null
  fi
  local staging
  staging="$(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "${gomod}" | sort -u)"
  log "kubernetes v${K8S_VERSION}: replacing $(echo "${staging}" | wc -l) staging modules with v0.${K8S_VERSION#1.}"
  go mod edit -require="k8s.io/kubernetes@v${K8S_VERSION}"
  local m
  for m in ${staging}; do
    go mod edit -replace="${m}=${m}@v0.${K8S_VERSION#1.}"
  done
  go mod tidy >/dev/null 2>&1 || go mod tidy
  log "building kube-apiserver (slow: 10-20 minutes cold on 2 cores)"
  go build -trimpath -ldflags="-s -w" -o "${out}/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  log "building kubectl"
  go build -trimpath -ldflags="-s -w" -o "${out}/kubectl" k8s.io/kubernetes/cmd/kubectl
}

build_etcd() {
  local mod="${work}/etcd"
  mkdir -p "${mod}"
  cd "${mod}"
  go mod init trackstack.dev/envtest-etcd >/dev/null 2>&1
  cat >main.go <<GO
// Command etcd is etcd's own server entry point, built from its Go module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  go mod edit -require="go.etcd.io/etcd/server/v3@v${ETCD_VERSION}"
  go mod tidy >/dev/null 2>&1 || go mod tidy
  log "building etcd v${ETCD_VERSION}"
  go build -trimpath -ldflags="-s -w" -o "${out}/etcd" .
}

[[ -x "${out}/etcd" ]] || build_etcd
[[ -x "${out}/kube-apiserver" && -x "${out}/kubectl" ]] || build_kubernetes

mkdir -p "${cache}"
cp -f "${out}"/* "${cache}/"
log "done; cached in ${cache}"
echo "${out}"
