#!/usr/bin/env bash
# Makes sure the system packages the tests use are installed: the PostgreSQL
# server binaries (tests start throwaway servers from them), Chromium and
# chromedriver (browser tests), ca-certificates, git and make. `make test` and
# .ci/run both run this script, so a developer's machine and CI are set up by
# the same steps.
#
# As root it installs whichever packages are missing with apt-get, without
# creating the default PostgreSQL cluster and without starting any service,
# and makes sure the postgres user exists (the tests run PostgreSQL as that
# user when they run as root). As any other user it installs nothing: it names
# each missing package and the command to run, and exits 1 at once.
#
# Usage: hack/install-test-deps.sh           install what is missing (as root)
#        hack/install-test-deps.sh --check   only report; exit 1 when something is missing
#
# Where it looks (overridable, so a test of this script can hide them):
#   TRACKSTACK_PG_BIN_GLOB   /usr/lib/postgresql/*/bin            (initdb and postgres)
#   TRACKSTACK_CHROMIUM      /usr/bin/chromium                    (runtime/internal/browsertest runs it)
#   TRACKSTACK_CHROMEDRIVER  /usr/bin/chromedriver
#   TRACKSTACK_CA_BUNDLE     /etc/ssl/certs/ca-certificates.crt
#   git and make are looked up on PATH.
#   TRACKSTACK_SYSROOT       prefix of the files written while installing
#                            (policy-rc.d, PostgreSQL's createcluster.d); empty
set -euo pipefail

pg_bin_glob="${TRACKSTACK_PG_BIN_GLOB:-/usr/lib/postgresql/*/bin}"
chromium="${TRACKSTACK_CHROMIUM:-/usr/bin/chromium}"
chromedriver="${TRACKSTACK_CHROMEDRIVER:-/usr/bin/chromedriver}"
ca_bundle="${TRACKSTACK_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
sysroot="${TRACKSTACK_SYSROOT:-}"
self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"

log() { echo "install-test-deps: $*" >&2; }

have_postgres_server() {
  local dir
  for dir in ${pg_bin_glob}; do
    [[ -x "${dir}/initdb" && -x "${dir}/postgres" ]] && return 0
  done
  return 1
}

# missing_packages prints one line per missing Debian package: its name, a
# tab, and what was looked for.
missing_packages() {
  have_postgres_server ||
    printf 'postgresql\tPostgreSQL server binaries (initdb, postgres) under %s\n' "${pg_bin_glob}"
  [[ -x "${chromium}" ]] || printf 'chromium\t%s\n' "${chromium}"
  [[ -x "${chromedriver}" ]] || printf 'chromium-driver\t%s\n' "${chromedriver}"
  [[ -s "${ca_bundle}" ]] || printf 'ca-certificates\t%s\n' "${ca_bundle}"
  command -v git >/dev/null 2>&1 || printf 'git\tgit on PATH\n'
  command -v make >/dev/null 2>&1 || printf 'make\tmake on PATH\n'
  return 0
}

report_missing() {
  local report="$1" name what
  log "missing system packages the tests need:"
  while IFS=$'\t' read -r name what; do
    printf '  %-16s %s\n' "${name}" "not found: ${what}" >&2
  done <<<"${report}"
}

# install runs apt-get for the named packages. The tests start their own
# throwaway PostgreSQL servers, so the package must neither create the
# default cluster nor start services (a policy-rc.d answering 101 forbids
# service starts while it is in place).
install() {
  local conf_dir="${sysroot}/etc/postgresql-common/createcluster.d"
  local policy="${sysroot}/usr/sbin/policy-rc.d"
  mkdir -p "${conf_dir}"
  echo "create_main_cluster = false" >"${conf_dir}/trackstack-tests.conf"
  local policy_added=""
  if [[ ! -e "${policy}" ]]; then
    mkdir -p "$(dirname "${policy}")"
    printf '#!/bin/sh\nexit 101\n' >"${policy}"
    chmod 0755 "${policy}"
    policy_added=1
  fi
  local rc=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "$@" </dev/null
  } || rc=$?
  [[ -z "${policy_added}" ]] || rm -f "${policy}"
  return "${rc}"
}

# ensure_postgres_user creates the user the tests run PostgreSQL as when they
# run as root (PostgreSQL refuses to run as root). The Debian package creates
# it; this covers a machine where the binaries came without it.
ensure_postgres_user() {
  getent passwd postgres >/dev/null && return 0
  log "creating the postgres system user"
  useradd --system --user-group --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
}

main() {
  local check_only=""
  case "${1:-}" in
  "") ;;
  --check) check_only=1 ;;
  *)
    echo "usage: $0 [--check]" >&2
    return 2
    ;;
  esac

  local report names
  report="$(missing_packages)"
  names="$(cut -f1 <<<"${report}" | tr '\n' ' ' | sed 's/ *$//')"

  if [[ -n "${report}" && ( -n "${check_only}" || "$(id -u)" != 0 ) ]]; then
    report_missing "${report}"
    if [[ -z "${check_only}" ]]; then
      log "installing them needs root; run this once, then run make test again:"
      echo >&2
      echo "    sudo ${self}" >&2
      echo >&2
      log "(it runs apt-get install ${names}, creates no PostgreSQL cluster and starts no service)"
    fi
    return 1
  fi

  if [[ -n "${report}" ]]; then
    log "installing: ${names}"
    # shellcheck disable=SC2086 # one word per package name
    install ${names}
    report="$(missing_packages)"
    if [[ -n "${report}" ]]; then
      log "apt-get finished, yet these are still missing:"
      report_missing "${report}"
      return 1
    fi
  else
    log "all system packages present"
  fi
  if [[ "$(id -u)" == 0 && -z "${check_only}" ]]; then
    ensure_postgres_user
  fi
  log "PostgreSQL server binaries: $(echo ${pg_bin_glob})"
  log "Chromium: $("${chromium}" --version 2>/dev/null || echo "? (${chromium} --version failed)")"
  return 0
}

main "$@"
