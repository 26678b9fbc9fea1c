#!/bin/bash
# One member of the MongoDB replica set rs0 in docker-compose.yml. Members prove themselves to each
# other with a shared key file, written here from MONGO_REPLICA_KEY (.env) and readable by mongod
# only; then the image's own entrypoint starts mongod (and, on an empty volume, creates the root
# user from MONGO_INITDB_ROOT_USERNAME / _PASSWORD before joining the set).
set -euo pipefail
key=/etc/mongo-replica.key
umask 077
printf '%s' "$MONGO_REPLICA_KEY" > "$key"
chown mongodb:mongodb "$key"
chmod 400 "$key"
unset MONGO_REPLICA_KEY
exec docker-entrypoint.sh mongod --replSet rs0 --keyFile "$key" --bind_ip_all --wiredTigerCacheSizeGB "${MONGO_CACHE_GB:-0.25}"
