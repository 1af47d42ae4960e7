#!/bin/bash
# Starts PostgreSQL the way the official postgres image does for the variables it documents:
# on an empty PGDATA it makes a cluster whose superuser POSTGRES_USER (default postgres) has the
# password POSTGRES_PASSWORD (required), creates the database POSTGRES_DB (default: the user's
# name) and accepts password logins (scram-sha-256) from any address; then it serves PGDATA.
set -euo pipefail

readonly user=${POSTGRES_USER:-postgres}
readonly database=${POSTGRES_DB:-$user}

# The database is created by a server listening on the local socket only, as the official
# image does, so that a failure stops the start instead of leaving a cluster without it.
create_database() {
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  psql -X -v ON_ERROR_STOP=1 -q -U "$user" -d postgres -v name="$database" \
    <<<'CREATE DATABASE :"name";'
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
}

initialize() {
  [[ -n ${POSTGRES_PASSWORD:-} ]] || { echo "postgres: POSTGRES_PASSWORD must be set" >&2; exit 1; }
  initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.auto.conf"
  [[ $database == postgres ]] || create_database
  echo "postgres: initialized $PGDATA with database $database"
}

[[ -s $PGDATA/PG_VERSION ]] || initialize
exec postgres -D "$PGDATA" "$@"
