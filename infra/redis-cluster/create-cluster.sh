#!/bin/sh
# Form Parley's Redis Cluster out of redis-servers started in cluster mode. The compose service
# `redis-cluster-init` (docker-compose.redis-cluster.yml) runs it in the redis:7-alpine image;
# services/gateway/test/cluster/compose-redis-cluster.test.ts runs this very file against local
# redis-servers. POSIX sh (busybox ash, dash): redis-cli, sed, awk, sort, tr, date.
#
#   REDIS_CLUSTER_NODES     every node, host:port comma separated (the gateways' variable)
#   REDIS_CLUSTER_REPLICAS  replicas per master (default 0): N nodes make N / (1 + replicas) masters
#   REDIS_CLUSTER_WAIT_SEC  how long to wait for the nodes to answer and the cluster to form (default 60)
#
# `redis-cli --cluster create` and CLUSTER MEET want IP addresses: each node's is the one it answers
# on (`laddr` of CLIENT INFO, Redis >= 6.2), so service names work without getent or nslookup.
#
# Run it as often as you like; what it does depends on what it finds:
#   formed      every node reports cluster_state:ok and 16384 slots, and knows exactly these nodes,
#               at the addresses they answer on, connected: nothing to do;
#   all empty   (fresh containers) redis-cli --cluster create;
#   all members but not formed (restarted, or recreated with new IP addresses, keeping nodes.conf):
#               CLUSTER MEET every node with every other at its current address (a known node's
#               address is updated; nothing else changes), then wait until formed;
#   some empty, some members: refuse (reset with `docker compose down`, or add them by hand).
# Exit 0 once the cluster is formed, 1 otherwise.
set -eu

nodes=${REDIS_CLUSTER_NODES:?set REDIS_CLUSTER_NODES to host:port,host:port,...}
replicas=${REDIS_CLUSTER_REPLICAS:-0}
wait_sec=${REDIS_CLUSTER_WAIT_SEC:-60}
deadline=$(($(date +%s) + wait_sec))

log() { echo "create-cluster: $*"; }
fail() {
  echo "create-cluster: $*" >&2
  exit 1
}
late() { [ "$(date +%s)" -ge "$deadline" ]; }

# cli <host:port> <command...>: one command, its reply without carriage returns ('' if unreachable).
cli() {
  _node=$1
  shift
  redis-cli -h "${_node%:*}" -p "${_node##*:}" "$@" 2>/dev/null | tr -d '\r'
}
# field <name>: the value of `name:value` in an INFO-style reply on stdin.
field() { sed -n "s/^$1:\(.*\)$/\1/p"; }

# Sets $addrs to every node's ip:port (space separated); returns 1 while one ($silent) does not answer.
resolve() {
  addrs=''
  for _node in $(echo "$nodes" | tr ',' ' '); do
    _laddr=$(cli "$_node" CLIENT INFO | sed -n 's/.* laddr=\([^ ]*\).*/\1/p')
    silent=$_node
    [ -n "$_laddr" ] || return 1
    addrs="$addrs $_laddr"
  done
  addrs=${addrs# }
}

# Formed: every node ok with every slot assigned, knowing exactly $addrs, all connected, none
# failing, and seeing as many masters as there should be (right after the create, a replica can
# still look like a master to the others until gossip has told them).
formed() {
  _want=$(echo "$addrs" | tr ' ' '\n' | sort)
  _masters=$(($(echo "$addrs" | wc -w) / (1 + replicas)))
  for _addr in $addrs; do
    _info=$(cli "$_addr" CLUSTER INFO)
    [ "$(echo "$_info" | field cluster_state)" = ok ] || return 1
    [ "$(echo "$_info" | field cluster_slots_assigned)" = 16384 ] || return 1
    _table=$(cli "$_addr" CLUSTER NODES)
    [ "$(echo "$_table" | awk 'NF { split($2, a, "@"); print a[1] }' | sort)" = "$_want" ] || return 1
    echo "$_table" | awk 'NF && ($8 != "connected" || $3 ~ /fail|handshake|noaddr/) { bad = 1 } END { exit bad }' || return 1
    [ "$(echo "$_table" | awk 'NF && $3 ~ /master/ { n++ } END { print n + 0 }')" = "$_masters" ] || return 1
  done
}

# Introduce every node to every other at its current address (idempotent).
meet_all() {
  for _to in $addrs; do
    _bus=$(cli "$_to" CLUSTER NODES | awk '$3 ~ /myself/ { split($2, a, "@"); split(a[2], b, ","); print b[1] }')
    for _from in $addrs; do
      [ "$_from" = "$_to" ] || cli "$_from" CLUSTER MEET "${_to%:*}" "${_to##*:}" "$_bus" >/dev/null
    done
  done
}

until resolve; do
  late && fail "$silent did not answer within ${wait_sec}s"
  sleep 0.5
done
for addr in $addrs; do
  [ "$(cli "$addr" INFO cluster | field cluster_enabled)" = 1 ] || fail "$addr is not in cluster mode (redis-server --cluster-enabled yes)"
done

if formed; then
  log "already formed over $addrs: nothing to do"
else
  empty=''
  members=''
  for addr in $addrs; do
    info=$(cli "$addr" CLUSTER INFO)
    if [ "$(echo "$info" | field cluster_known_nodes)" = 1 ] && [ "$(echo "$info" | field cluster_slots_assigned)" = 0 ]; then
      empty="$empty $addr"
    else
      members="$members $addr"
    fi
  done
  if [ -z "$members" ]; then
    log "creating a cluster of $addrs with $replicas replica(s) per master"
    # shellcheck disable=SC2086 # one argument per node
    redis-cli --cluster create $addrs --cluster-replicas "$replicas" --cluster-yes || fail 'redis-cli --cluster create failed'
  elif [ -n "$empty" ]; then
    fail "partly formed: empty:$empty; in a cluster:$members. Reset (docker compose down) or add the empty nodes by hand (redis-cli --cluster add-node)"
  else
    log "every node is in a cluster but it is not formed (restarted, or new addresses): introducing the nodes at $addrs"
    meet_all
  fi
  meet_again=$(($(date +%s) + 5))
  until formed; do
    late && fail "the cluster did not form within ${wait_sec}s; CLUSTER NODES of ${addrs%% *}:
$(cli "${addrs%% *}" CLUSTER NODES)"
    sleep 0.5
    # MEET again every 5 s: Redis does not retry a handshake that timed out.
    if [ -n "$members" ] && [ "$(date +%s)" -ge "$meet_again" ]; then
      meet_all
      meet_again=$(($(date +%s) + 5))
    fi
  done
  log "formed over $addrs"
fi
redis-cli --cluster check "${addrs%% *}" | tr -d '\r'
