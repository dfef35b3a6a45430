#!/usr/bin/env bash
# Make sure what the test suite talks to is present and running, on a Debian machine:
# PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL point elsewhere, or a Docker engine
# lets testcontainers start them), nginx (cluster tests), docker-compose (compose file check),
# busybox (the Redis Cluster init script runs under its sh and tools, as in redis:7-alpine),
# Debian's Chromium (the browser tests drive it with playwright-core; Playwright's own browser
# downloads cannot be fetched here) and Prometheus (its promtool checks /metrics and the scrape
# configurations; the monitoring test runs it).
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  echo "ensure-services: installing $*" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

docker_engine=false
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then docker_engine=true; fi

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v busybox >/dev/null 2>&1 || missing+=(busybox)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
if [ "$docker_engine" = false ]; then
  if [ -z "${DATABASE_URL:-}" ] && ! command -v pg_ctlcluster >/dev/null 2>&1; then missing+=(postgresql); fi
  if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1; then missing+=(redis-server); fi
fi
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi

if [ "$docker_engine" = false ] && [ -z "${DATABASE_URL:-}" ]; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    version=$(ls /etc/postgresql | sort -n | tail -1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  # The tests connect as the current user; create it as a superuser when it does not exist.
  if ! psql -h 127.0.0.1 -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    as_root su postgres -c "createuser --superuser $(id -un)" 2>/dev/null || true
  fi
fi
if [ "$docker_engine" = false ] && [ -z "${REDIS_URL:-}" ]; then
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
  fi
fi
echo "ensure-services: ready (docker engine: $docker_engine)" >&2
