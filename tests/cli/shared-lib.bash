# Helpers for the suites that run against the ctest fixture's PostgreSQL cluster (the shared
# store): shared.bash and engines.bash source this after lib.bash.

# fresh_database [OPTION…]: a fresh database of the fixture's cluster, made with CREATE
# DATABASE's OPTIONs if any; sets SHARED (its URI, no password: libpq takes PGPASSWORD from
# the environment) and DBNAME.
# shellcheck disable=SC2120 # the options are optional
fresh_database() {
  [[ -n ${PERFGUARD_TEST_POSTGRES:-} && -f $PERFGUARD_TEST_POSTGRES ]] ||
    fail "no PostgreSQL server (ctest's cli.shared starts one: tests/postgres/cluster)"
  # shellcheck disable=SC1090
  source "$PERFGUARD_TEST_POSTGRES"
  DBNAME="fleet_$RANDOM$RANDOM"
  psql -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DBNAME $*" >/dev/null || fail "create database"
  # shellcheck disable=SC2034 # the suites read it
  SHARED="postgresql:///$DBNAME?host=$PGHOST&user=$PGUSER"
}

# pg QUERY: one value from the case's database.
pg() { psql -X -qAt -d "$DBNAME" -c "$1"; }
