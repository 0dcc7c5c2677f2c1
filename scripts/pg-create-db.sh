#!/usr/bin/env bash
# Create the PostgreSQL role and database for sixpn coordinators on a server
# running Debian's postgresql (as root), and print the line for
# /etc/sixpn/coordinator.env. Idempotent: an existing role gets a new password.
#   usage: scripts/pg-create-db.sh [DBNAME [ROLE [HOST]]]
# PGHOST/PGPORT select another server or cluster (the port also goes in the URL).
set -euo pipefail
db="${1:-sixpn}"
role="${2:-sixpn}"
host="${3:-127.0.0.1}"
[[ "$db" =~ ^[a-z_][a-z0-9_]*$ && "$role" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "database and role must be lowercase SQL identifiers" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (it uses the postgres superuser through runuser)" >&2; exit 1; }
psql() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAt "$@"; }
password="$(openssl rand -hex 24)"
if [ "$(psql -c "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" = 1 ]; then
  psql -c "ALTER ROLE $role WITH LOGIN PASSWORD '$password'"
else
  psql -c "CREATE ROLE $role WITH LOGIN PASSWORD '$password'"
fi
if [ "$(psql -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
  psql -c "CREATE DATABASE $db OWNER $role ENCODING 'UTF8' TEMPLATE template0"
fi
echo "# for /etc/sixpn/coordinator.env on every coordinator (keep it 0600):"
echo "SIXPN_DB_URL=postgres://$role:$password@$host:${PGPORT:-5432}/$db"
