#!/bin/bash
# Starts PostgreSQL the way the official postgres image does for the variables it documents:
# on an empty PGDATA it makes a cluster whose superuser POSTGRES_USER (default postgres) has the
# password POSTGRES_PASSWORD (required), creates the database POSTGRES_DB (default: the user's
# name) and accepts password logins (scram-sha-256) from any address; then it serves PGDATA.
set -euo pipefail

readonly user=${POSTGRES_USER:-postgres}
readonly database=${POSTGRES_DB:-$user}

initialize() {
  [[ -n ${POSTGRES_PASSWORD:-} ]] || { echo "postgres: POSTGRES_PASSWORD must be set" >&2; exit 1; }
  initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.auto.conf"
  if [[ $database != postgres ]]; then
    printf 'CREATE DATABASE "%s";\n' "${database//\"/\"\"}" \
      | postgres --single -D "$PGDATA" -j postgres >/dev/null
  fi
  echo "postgres: initialized $PGDATA with database $database"
}

[[ -s $PGDATA/PG_VERSION ]] || initialize
exec postgres -D "$PGDATA" "$@"
