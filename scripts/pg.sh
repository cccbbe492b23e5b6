#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on a free loopback port, for tests.
#
#   eval "$(scripts/pg.sh start DIR)"   # exports PORTCULLIS_TEST_DATABASE_URL
#   scripts/pg.sh stop DIR
#
# Installs PostgreSQL with apt when the binaries are missing. Runs the server
# as the `postgres` user when started as root (initdb refuses root).
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop DIR}
dir=${2:?usage: pg.sh start|stop DIR}
bin=/usr/lib/postgresql/15/bin

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  if [ ! -x "$bin/initdb" ]; then
    echo "installing postgresql-15 with apt" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15) >&2
  fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off" start >&2
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres portcullis_test >&2
  echo "export PORTCULLIS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/portcullis_test"
  ;;
stop)
  if [ -d "$dir/data" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  fi
  ;;
*)
  echo "usage: pg.sh start|stop DIR" >&2
  exit 2
  ;;
esac
