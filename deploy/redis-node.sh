#!/bin/sh
# One Redis data node of docker-compose.yml. Its config file lives in its volume, so the role
# Sentinel gives it (REPLICAOF, saved with CONFIG REWRITE) survives a restart; on the very first
# start $FIRST_PRIMARY is the primary and every other node its replica. Nodes announce their
# service name, which Docker's DNS resolves, since a container's address changes on restart.
# Environment: NODE_NAME, FIRST_PRIMARY, REDIS_PASSWORD; REDIS_PORT (6379) and DATA_DIR (/data).
set -eu
port="${REDIS_PORT:-6379}"
dir="${DATA_DIR:-/data}"
conf="$dir/redis.conf"
if [ ! -f "$conf" ]; then
	{
		echo "port $port"
		echo "dir $dir"
		echo "appendonly yes"
		echo "appendfsync everysec"
		echo "replica-announce-ip $NODE_NAME"
		if [ "$NODE_NAME" != "$FIRST_PRIMARY" ]; then echo "replicaof $FIRST_PRIMARY ${PRIMARY_PORT:-$port}"; fi
	} > "$conf"
fi
# The password comes from .env at every start (so changing it there is enough), never from argv.
grep -v -e '^requirepass ' -e '^masterauth ' -e '^user default ' "$conf" > "$conf.new" || true
printf 'requirepass "%s"\nmasterauth "%s"\n' "$REDIS_PASSWORD" "$REDIS_PASSWORD" >> "$conf.new"
mv "$conf.new" "$conf"
exec redis-server "$conf"
