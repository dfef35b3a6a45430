/**
 * Lua scripts of the Redis presence. Each runs atomically, so a user's socket count, the
 * room's user list and the owning node's share always change together, and of two nodes
 * racing to remove the same last socket exactly one sees "changed".
 *
 * Keys (B = ARGV[1] = '{<prefix>}:presence:'; the hash tag keeps every key in one slot):
 *   B..'nodes'          ZSET  nodeId -> heartbeat deadline (ms, Redis clock)
 *   B..'conns'          HASH  nodeId -> connections on '/'
 *   B..'names'          HASH  userId -> username
 *   B..'rooms'          SET   rooms with at least one member
 *   B..'seq'            counter giving users their arrival order
 *   B..'r:'..room..':n' HASH  userId -> sockets in the room, all nodes
 *   B..'r:'..room..':o' ZSET  userId -> arrival order (the roomUsers order)
 *   B..'n:'..nodeId     HASH  room..'\n'..userId -> that node's sockets of the user in the room
 *   B..'reaper'         STRING the reaper lock (SET NX PX): one sweep per interval, cluster-wide
 */

const PRELUDE = `
local B = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function users(room)
  local ids = redis.call('ZRANGE', B..'r:'..room..':o', 0, -1)
  if #ids == 0 then return {} end
  return redis.call('HMGET', B..'names', unpack(ids))
end
-- Returns 1 when the user was not in the room before.
local function add(room, uid, n)
  local c = redis.call('HINCRBY', B..'r:'..room..':n', uid, n)
  redis.call('SADD', B..'rooms', room)
  if c == n then
    redis.call('ZADD', B..'r:'..room..':o', redis.call('INCR', B..'seq'), uid)
    return 1
  end
  return 0
end
-- Returns 1 when the user's last socket left the room.
local function remove(room, uid, n)
  local key = B..'r:'..room..':n'
  if redis.call('HEXISTS', key, uid) == 0 then return 0 end
  local c = redis.call('HINCRBY', key, uid, -n)
  if c > 0 then return 0 end
  redis.call('HDEL', key, uid)
  redis.call('ZREM', B..'r:'..room..':o', uid)
  if redis.call('HLEN', key) == 0 then redis.call('SREM', B..'rooms', room) end
  return 1
end
local function split(field)
  return string.match(field, '^(.*)\\n(%d+)$')
end
-- Remove a node and its whole share; returns {room, username, users} for each user who left.
local function drop(node)
  redis.call('ZREM', B..'nodes', node)
  redis.call('HDEL', B..'conns', node)
  local nk = B..'n:'..node
  local share = redis.call('HGETALL', nk)
  redis.call('DEL', nk)
  local gone = {}
  for i = 1, #share, 2 do
    local room, uid = split(share[i])
    if remove(room, uid, tonumber(share[i + 1])) == 1 then
      gone[#gone + 1] = {room, uid}
    end
  end
  local out = {}
  for _, g in ipairs(gone) do
    out[#out + 1] = {g[1], redis.call('HGET', B..'names', g[2]) or '', users(g[1])}
  end
  return out
end
`;

/** ARGV: B, node, room, userId, username -> {changed, users}. */
export const JOIN = `${PRELUDE}
local node, room, uid, name = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
redis.call('HSET', B..'names', uid, name)
redis.call('HINCRBY', B..'n:'..node, room..'\\n'..uid, 1)
local changed = add(room, uid, 1)
return {changed, users(room)}
`;

/** ARGV: B, node, room, userId -> {changed, users}; a no-op when this node holds no such socket. */
export const LEAVE = `${PRELUDE}
local node, room, uid = ARGV[2], ARGV[3], ARGV[4]
local nk, field = B..'n:'..node, room..'\\n'..uid
local mine = tonumber(redis.call('HGET', nk, field) or '0')
if mine <= 0 then return {0, users(room)} end
if mine == 1 then redis.call('HDEL', nk, field) else redis.call('HINCRBY', nk, field, -1) end
return {remove(room, uid, 1), users(room)}
`;

/** ARGV: B, room -> usernames in arrival order. */
export const USERS = `${PRELUDE}
return users(ARGV[2])
`;

/**
 * ARGV: B, node, ttlMs, connections -> 1 when the node was registered, 0 when Redis had
 * forgotten it (restart, or reaped after a long pause): the caller then re-registers its share.
 */
export const HEARTBEAT = `${PRELUDE}
local node = ARGV[2]
local known = redis.call('ZSCORE', B..'nodes', node)
redis.call('ZADD', B..'nodes', now_ms() + tonumber(ARGV[3]), node)
redis.call('HSET', B..'conns', node, ARGV[4])
if known then return 1 end
return 0
`;

/**
 * ARGV: B, node, ttlMs, connections, then (room, userId, username, sockets)*: make Redis hold
 * exactly this share for the node (adds and removes only the difference, so users who stay
 * keep their place in the list) and register the node.
 */
export const REGISTER = `${PRELUDE}
local node = ARGV[2]
local nk = B..'n:'..node
local want = {}
for i = 5, #ARGV, 4 do
  redis.call('HSET', B..'names', ARGV[i + 1], ARGV[i + 2])
  want[ARGV[i]..'\\n'..ARGV[i + 1]] = tonumber(ARGV[i + 3])
end
local have = redis.call('HGETALL', nk)
for i = 1, #have, 2 do
  local field, n = have[i], tonumber(have[i + 1])
  local room, uid = split(field)
  local w = want[field] or 0
  if w < n then remove(room, uid, n - w) elseif w > n then add(room, uid, w - n) end
  want[field] = nil
end
for i = 5, #ARGV, 4 do
  local field = ARGV[i]..'\\n'..ARGV[i + 1]
  if want[field] then
    add(ARGV[i], ARGV[i + 1], want[field])
    want[field] = nil
  end
end
redis.call('DEL', nk)
for i = 5, #ARGV, 4 do
  redis.call('HSET', nk, ARGV[i]..'\\n'..ARGV[i + 1], ARGV[i + 3])
end
redis.call('ZADD', B..'nodes', now_ms() + tonumber(ARGV[3]), node)
redis.call('HSET', B..'conns', node, ARGV[4])
return 1
`;

/**
 * ARGV: B, node, lockMs -> evictions of every node whose heartbeat deadline passed, or {}
 * when another node holds the reaper lock for this interval.
 */
export const REAP = `${PRELUDE}
if not redis.call('SET', B..'reaper', ARGV[2], 'NX', 'PX', ARGV[3]) then return {} end
local out = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', B..'nodes', '-inf', now_ms())) do
  for _, e in ipairs(drop(node)) do out[#out + 1] = e end
end
return out
`;

/** ARGV: B, node -> evictions caused by removing this node (graceful shutdown). */
export const WITHDRAW = `${PRELUDE}
return drop(ARGV[2])
`;

/** ARGV: B -> {nodeIds, connections, rooms} over live nodes. */
export const STATS = `${PRELUDE}
local nodes = redis.call('ZRANGEBYSCORE', B..'nodes', now_ms(), '+inf')
local conns = {}
for i, node in ipairs(nodes) do conns[i] = tonumber(redis.call('HGET', B..'conns', node) or '0') end
return {nodes, conns, redis.call('SCARD', B..'rooms')}
`;
