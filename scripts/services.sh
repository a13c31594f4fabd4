#!/usr/bin/env bash
# Installs (Debian packages) and starts the services the integration tests use:
# PostgreSQL on 127.0.0.1:5432 with role/database "onegin", Redis on 127.0.0.1:6379.
# Idempotent. Prints the URLs as shell exports; use: eval "$(bash scripts/services.sh)"
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq >&2
  apt-get install -y -qq "${need[@]}" >&2
fi

version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >&2
fi
pg_ctlcluster "$version" main start >&2 2>/dev/null || true
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 0.2  # waiting for a server we just started: a readiness poll, not test sync
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='onegin'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE onegin LOGIN CREATEDB PASSWORD 'onegin'\"" >&2
# The tests drop their own databases WITH (FORCE), which also ends an autovacuum worker
# busy in one: that takes pg_signal_backend (else "must be a member of the role whose
# process is being terminated").
su postgres -c "psql -qc 'GRANT pg_signal_backend TO onegin'" >&2
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='onegin'\"" | grep -q 1 ||
  su postgres -c "createdb -O onegin onegin" >&2

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >&2
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
echo "export ONEGIN_TEST_POSTGRES_URL=postgresql+psycopg2://onegin:onegin@127.0.0.1:5432/onegin"
echo "export ONEGIN_TEST_REDIS_URL=redis://127.0.0.1:6379/0"
