# shellcheck shell=bash
# Shared by bin/setup, bin/test and bin/demo: system packages, the cargo build
# of the extension, and a throwaway PostgreSQL. Source it; it defines
# functions and exports a few variables, and runs nothing else.

GC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Debian packages the gem's build and tests need.
GC_PACKAGES=(
  ruby ruby-dev libclang-dev make rake ruby-minitest postgresql
  ruby-railties ruby-activerecord ruby-activejob ruby-pg ruby-fugit faketime puma
  ruby-sidekiq redis-server openssl
)

# One cargo target dir for every build and test (rake compile, clippy, the
# Rust tests, the gem-install test), so dependencies are compiled once.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/good_cron/target}"

gc_say() { printf '==> %s\n' "$*"; }
gc_die() {
  printf '\nERROR: %s\n' "$*" >&2
  exit 1
}

# Installs the missing packages of GC_PACKAGES (as root), or prints the line
# that would (otherwise) and fails. Installed packages are left alone.
gc_ensure_packages() {
  local pkg missing=()
  for pkg in "${GC_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then return 0; fi

  if [[ $(id -u) -ne 0 ]]; then
    printf 'Missing Debian packages: %s\nInstall them with:\n\n' "${missing[*]}" >&2
    printf '  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y %s\n\n' "${missing[*]}" >&2
    exit 1
  fi
  gc_say "installing Debian packages: ${missing[*]}"
  apt-get update || gc_die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" ||
    gc_die "apt-get install failed for: ${missing[*]}"
}

gc_ensure_cargo() {
  if ! command -v cargo >/dev/null 2>&1 && [[ -x "${HOME:-/root}/.cargo/bin/cargo" ]]; then
    export PATH="${HOME:-/root}/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null 2>&1 ||
    gc_die "cargo is not on PATH: install a Rust toolchain (rustup), then run this again"
}

# Packages, cargo, and the extension built into lib/good_cron/good_cron.so.
gc_setup() {
  gc_ensure_packages
  gc_ensure_cargo
  gc_say "building the extension (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
  (cd "$GC_ROOT" && rake compile) || gc_die "building the extension failed (rake compile)"
}

# ---------------------------------------------------------------------------
# A throwaway PostgreSQL, unless DATABASE_URL is set. Exports DATABASE_URL and
# GOOD_CRON_PG_LOG; the server is stopped and its folder removed when the
# calling shell exits, whatever the reason (gc_stop_postgres, via trap).
# GC_PG_EXTRA_CONF, if set, holds more postgresql.conf lines for it (the
# scheduler benchmark turns on track_commit_timestamp with it).

GC_PG_DIR=""

gc_pg_bindir() {
  local dir
  dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
  [[ -x "$dir/initdb" ]] || gc_die "PostgreSQL server binaries not found under /usr/lib/postgresql (package postgresql)"
  printf '%s\n' "$dir"
}

# Runs a PostgreSQL tool: as the postgres user when we are root (the tools
# refuse to run as root), directly otherwise; from / so the tool's working
# directory is readable whoever it runs as.
gc_pg_run() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

gc_free_port() {
  ruby -rsocket -e 's = TCPServer.new("127.0.0.1", 0); puts s.addr[1]; s.close'
}

gc_stop_postgres() {
  [[ -n "$GC_PG_DIR" && -d "$GC_PG_DIR" ]] || return 0
  if [[ -f "$GC_PG_DIR/data/postmaster.pid" ]]; then
    gc_pg_run "$(gc_pg_bindir)/pg_ctl" -D "$GC_PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      gc_pg_run "$(gc_pg_bindir)/pg_ctl" -D "$GC_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$GC_PG_DIR"
  GC_PG_DIR=""
}

gc_start_postgres() {
  if [[ -n "${DATABASE_URL:-}" ]]; then
    gc_say "using the PostgreSQL at DATABASE_URL"
    return 0
  fi
  local bin port try
  bin="$(gc_pg_bindir)"
  GC_PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/good_cron_pg.XXXXXX")"
  trap 'gc_stop_postgres' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$GC_PG_DIR"; fi

  gc_pg_run "$bin/initdb" -D "$GC_PG_DIR/data" -U postgres -A trust -E UTF8 --no-sync \
    >"$GC_PG_DIR/initdb.log" 2>&1 ||
    gc_die "initdb failed: $(cat "$GC_PG_DIR/initdb.log")"

  export GOOD_CRON_PG_LOG="$GC_PG_DIR/postgresql.log"
  for try in 1 2 3; do
    port="$(gc_free_port)"
    cat >"$GC_PG_DIR/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$GC_PG_DIR'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
log_min_error_statement = error
log_line_prefix = '%m [%p] %q%u@%d '
${GC_PG_EXTRA_CONF:-}
EOF
    if gc_pg_run "$bin/pg_ctl" -D "$GC_PG_DIR/data" -l "$GOOD_CRON_PG_LOG" -w -t 60 start >/dev/null; then
      export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
      gc_say "throwaway PostgreSQL on 127.0.0.1:$port (log: $GOOD_CRON_PG_LOG)"
      return 0
    fi
    printf 'PostgreSQL did not start on port %s (try %s of 3)\n' "$port" "$try" >&2
  done
  gc_die "could not start PostgreSQL: $(tail -n 20 "$GOOD_CRON_PG_LOG" 2>/dev/null)"
}
