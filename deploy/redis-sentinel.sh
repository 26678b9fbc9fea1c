#!/bin/sh
# One of the three sentinels of docker-compose.yml: they watch the primary, and when it stops
# answering for 5 s a majority promotes the replica; Orderline asks them where the primary is
# (REDIS_SENTINELS). The config file lives in the volume: Sentinel rewrites it as it learns.
# Environment: NODE_NAME, FIRST_PRIMARY, REDIS_SENTINEL_MASTER, REDIS_PASSWORD (the nodes' and the
# sentinels' own); SENTINEL_PORT (26379), PRIMARY_PORT (6379), DATA_DIR (/data), DOWN_AFTER_MS (5000),
# FAILOVER_TIMEOUT_MS (10000: a failover whose election did not succeed is tried again after twice this).
set -eu
port="${SENTINEL_PORT:-26379}"
dir="${DATA_DIR:-/data}"
conf="$dir/sentinel.conf"
master="$REDIS_SENTINEL_MASTER"
if [ ! -f "$conf" ]; then
	cat > "$conf" <<CONF
port $port
dir $dir
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $NODE_NAME
sentinel monitor $master $FIRST_PRIMARY ${PRIMARY_PORT:-6379} 2
sentinel down-after-milliseconds $master ${DOWN_AFTER_MS:-5000}
sentinel failover-timeout $master ${FAILOVER_TIMEOUT_MS:-10000}
sentinel parallel-syncs $master 1
CONF
fi
grep -v -e '^requirepass ' -e '^user default ' -e "^sentinel auth-pass " "$conf" > "$conf.new" || true
printf 'requirepass "%s"\nsentinel auth-pass %s "%s"\n' "$REDIS_PASSWORD" "$master" "$REDIS_PASSWORD" >> "$conf.new"
mv "$conf.new" "$conf"
exec redis-sentinel "$conf"
