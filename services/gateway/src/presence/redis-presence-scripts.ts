/**
 * Lua scripts of the Redis presence. Each runs atomically and touches the keys of one hash
 * slot only, all declared in KEYS (ready for Redis Cluster):
 *
 * - Room scripts (JOIN, LEAVE, USERS, DROP, SET_SHARE, FLUSH) touch one room's keys, which
 *   share the hash tag `{<room>}`: a user's socket count, the room's roster and the owning
 *   node's share change together, and of two nodes racing to remove the same last socket
 *   exactly one sees "changed". Their cost is O(ROOM_USERS_MAX + log N) for a room of N
 *   users (O(share) for DROP and SET_SHARE), never O(N).
 * - Node scripts (HEARTBEAT, REGISTER, REAP, STATS) touch the registry, tagged `{<prefix>}`.
 *
 * Keys (see redis-presence-keys.ts):
 *   room  R..'members'     HASH  userId -> sockets in the room, all nodes (HLEN = count)
 *         R..'order'       ZSET  userId -> arrival sequence (the roster's order)
 *         R..'names'       HASH  userId -> username
 *         R..'seq'         counter giving users their arrival order
 *         R..'pending'     HASH  'joined' / 'left' -> coalesced changes not yet announced
 *         R..'flush'       STRING the room's window (SET NX PX): one summary per window
 *         R..'node:'..id   HASH  userId -> that node's sockets of the user in the room
 *   node  G..'nodes'       ZSET  nodeId -> heartbeat deadline (ms, Redis clock)
 *         G..'conns'       HASH  nodeId -> connections on '/'
 *         G..'dead'        SET   nodes reaped or withdrawn whose room shares are still being dropped
 *         G..'rooms:'..id  SET   rooms where that node holds sockets
 *         G..'reaper'      STRING the reaper lock (SET NX PX): one sweep per interval, cluster-wide
 */

/** KEYS of every room script, in this order. */
const ROOM_PRELUDE = `
local members, order, names, seq, pending, share = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
-- The first max arrivals (max <= 5000, within Lua's unpack limit), then the count.
local function roster(max)
  local ids = redis.call('ZRANGE', order, 0, max - 1)
  local users = {}
  if #ids > 0 then users = redis.call('HMGET', names, unpack(ids)) end
  return users, redis.call('HLEN', members)
end
-- Returns 1 when the user was not in the room before.
local function add(uid, n)
  if redis.call('HINCRBY', members, uid, n) ~= n then return 0 end
  redis.call('ZADD', order, redis.call('INCR', seq), uid)
  return 1
end
-- Returns 1 when the user's last socket left the room.
local function remove(uid, n)
  if redis.call('HEXISTS', members, uid) == 0 then return 0 end
  if redis.call('HINCRBY', members, uid, -n) > 0 then return 0 end
  redis.call('HDEL', members, uid)
  redis.call('ZREM', order, uid)
  redis.call('HDEL', names, uid)
  if redis.call('HLEN', members) == 0 then redis.call('DEL', seq, pending) end
  return 1
end
`;

/** KEYS: room keys (share = this node's). ARGV: userId, username, max, above -> {changed, coalesced, users, count}. */
export const JOIN = `${ROOM_PRELUDE}
local uid, name, max, above = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('HSET', names, uid, name)
redis.call('HINCRBY', share, uid, 1)
local changed = add(uid, 1)
local coalesced = 0
if redis.call('HLEN', members) > above then coalesced = 1 end
if changed == 1 and coalesced == 1 then redis.call('HINCRBY', pending, 'joined', 1) end
local users, count = roster(max)
return {changed, coalesced, users, count}
`;

/**
 * KEYS: room keys (share = this node's). ARGV: userId, max, above -> {changed, coalesced,
 * users, count} (users empty when coalesced); nothing changes when this node holds no such socket.
 */
export const LEAVE = `${ROOM_PRELUDE}
local uid, max, above = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local mine = tonumber(redis.call('HGET', share, uid) or '0')
local changed, coalesced = 0, 0
if mine > 0 then
  if mine == 1 then redis.call('HDEL', share, uid) else redis.call('HINCRBY', share, uid, -1) end
  if redis.call('HLEN', members) > above then coalesced = 1 end
  changed = remove(uid, 1)
  if changed == 1 and coalesced == 1 and redis.call('EXISTS', members) == 1 then redis.call('HINCRBY', pending, 'left', 1) end
end
-- Nobody hears of a coalesced departure at once: no roster to read (O(log N)).
if coalesced == 1 then return {changed, 1, {}, redis.call('HLEN', members)} end
local users, count = roster(max)
return {changed, coalesced, users, count}
`;

/** KEYS: room keys. ARGV: max -> {users, count}. */
export const USERS = `${ROOM_PRELUDE}
local users, count = roster(tonumber(ARGV[1]))
return {users, count}
`;

/**
 * KEYS: room keys (share = the departed node's). ARGV: max, above -> {coalesced, users,
 * count, left}: removes the node's whole share of the room; `left` names the users who left
 * for good, unless they were counted in the pending summary (coalesced).
 */
export const DROP = `${ROOM_PRELUDE}
local max, above = tonumber(ARGV[1]), tonumber(ARGV[2])
local have = redis.call('HGETALL', share)
redis.call('DEL', share)
local coalesced = 0
if redis.call('HLEN', members) > above then coalesced = 1 end
local left = {}
for i = 1, #have, 2 do
  local name = redis.call('HGET', names, have[i])
  if remove(have[i], tonumber(have[i + 1])) == 1 then left[#left + 1] = name end
end
if coalesced == 1 and #left > 0 then
  if redis.call('EXISTS', members) == 1 then redis.call('HINCRBY', pending, 'left', #left) end
  left = {}
end
local users, count = roster(max)
return {coalesced, users, count, left}
`;

/**
 * KEYS: room keys (share = this node's). ARGV: (userId, username, sockets)*: make Redis hold
 * exactly this share of the room for the node, adding and removing only the difference (users
 * who stay keep their place). Not announced.
 */
export const SET_SHARE = `${ROOM_PRELUDE}
local want = {}
for i = 1, #ARGV, 3 do
  redis.call('HSET', names, ARGV[i], ARGV[i + 1])
  want[ARGV[i]] = tonumber(ARGV[i + 2])
end
local have = redis.call('HGETALL', share)
for i = 1, #have, 2 do
  local uid, n = have[i], tonumber(have[i + 1])
  local w = want[uid] or 0
  if w < n then remove(uid, n - w) elseif w > n then add(uid, w - n) end
  want[uid] = nil
end
for i = 1, #ARGV, 3 do
  if want[ARGV[i]] then
    add(ARGV[i], want[ARGV[i]])
    want[ARGV[i]] = nil
  end
end
redis.call('DEL', share)
for i = 1, #ARGV, 3 do redis.call('HSET', share, ARGV[i], ARGV[i + 2]) end
return 1
`;

/**
 * KEYS: room keys, then the room's window key. ARGV: windowMs, max -> {0} nothing pending,
 * {1, ms} the window ends in ms, or {2, joined, left, users, count}: the summary, taken (the
 * window starts now).
 */
export const FLUSH = `${ROOM_PRELUDE}
local window = KEYS[7]
local p = redis.call('HMGET', pending, 'joined', 'left')
local joined, left = tonumber(p[1] or '0'), tonumber(p[2] or '0')
if joined == 0 and left == 0 then return {0} end
if not redis.call('SET', window, '1', 'NX', 'PX', ARGV[1]) then return {1, math.max(redis.call('PTTL', window), 1)} end
redis.call('DEL', pending)
local users, count = roster(tonumber(ARGV[2]))
return {2, joined, left, users, count}
`;

const NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * KEYS: nodes, conns. ARGV: node, ttlMs, connections -> 1 when the node was registered, 0
 * when Redis had forgotten it (restart, or reaped after a long pause): the caller then
 * re-registers its share.
 */
export const HEARTBEAT = `${NOW}
local node = ARGV[1]
local known = redis.call('ZSCORE', KEYS[1], node)
redis.call('ZADD', KEYS[1], now_ms() + tonumber(ARGV[2]), node)
redis.call('HSET', KEYS[2], node, ARGV[3])
if known then return 1 end
return 0
`;

/**
 * KEYS: nodes, conns, dead, this node's rooms. ARGV: node, ttlMs, connections, rooms... ->
 * the rooms the node's set held before: register the node with exactly these rooms (its
 * shares of each are then set room by room).
 */
export const REGISTER = `${NOW}
local node = ARGV[1]
local before = redis.call('SMEMBERS', KEYS[4])
redis.call('DEL', KEYS[4])
for i = 4, #ARGV do redis.call('SADD', KEYS[4], ARGV[i]) end
redis.call('ZADD', KEYS[1], now_ms() + tonumber(ARGV[2]), node)
redis.call('HSET', KEYS[2], node, ARGV[3])
redis.call('SREM', KEYS[3], node)
return before
`;

/**
 * KEYS: nodes, conns, dead, reaper lock. ARGV: node, lockMs -> the dead nodes whose room
 * shares are to be dropped (those whose heartbeat deadline passed are moved there now), or {}
 * when another node holds the reaper lock for this interval.
 */
export const REAP = `${NOW}
if not redis.call('SET', KEYS[4], ARGV[1], 'NX', 'PX', ARGV[2]) then return {} end
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms())) do
  redis.call('ZREM', KEYS[1], node)
  redis.call('HDEL', KEYS[2], node)
  redis.call('SADD', KEYS[3], node)
end
return redis.call('SMEMBERS', KEYS[3])
`;

/** KEYS: nodes, conns, dead. ARGV: node: unregister it (graceful shutdown); its shares are dropped next. */
export const WITHDRAW = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`;

/** KEYS: dead, the node's rooms. ARGV: node -> 1 when it is forgotten (no room share left to drop). */
export const FORGET = `
if redis.call('SCARD', KEYS[2]) > 0 then return 0 end
redis.call('SREM', KEYS[1], ARGV[1])
return 1
`;

/** KEYS: nodes, conns -> {nodeIds, connections} of live nodes. */
export const STATS = `${NOW}
local nodes = redis.call('ZRANGEBYSCORE', KEYS[1], now_ms(), '+inf')
local conns = {}
for i, node in ipairs(nodes) do conns[i] = tonumber(redis.call('HGET', KEYS[2], node) or '0') end
return {nodes, conns}
`;
