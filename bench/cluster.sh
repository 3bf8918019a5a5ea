# Sourced by the benchmarks of the shared store: bench_cluster DIR starts a throwaway
# PostgreSQL 15 cluster (tests/postgres/cluster) with its state in DIR, stops it when the
# script exits, and logs in as its superuser from a password file (PGPASSFILE), as a team
# would keep the password, so that every command runs the same way. Needs $here, the
# directory of the benchmark scripts.
# shellcheck disable=SC2154
bench_cluster() {
  state=$1/cluster.env
  sh "$here/../tests/postgres/cluster" start "$state"
  # shellcheck disable=SC2064
  trap "sh '$here/../tests/postgres/cluster' stop '$state'" EXIT INT TERM
  # shellcheck disable=SC1090
  . "$state"
  printf '*:*:*:%s:%s\n' "$PGUSER" "$PGPASSWORD" >"$1/pgpass"
  chmod 600 "$1/pgpass"
  export PGPASSFILE="$1/pgpass"
  unset PGPASSWORD
}
