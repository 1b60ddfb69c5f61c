/**
 * The proxy's own Lua scripts. BullMQ keeps the queue (order, leases, the global cap, stalled
 * jobs); these keep what it has no primitive for, each in one atomic step so that several
 * instances never see a task half-changed: the task record beside its job (request, result,
 * times, the contract's fields), the queue-size cap at admission, queue positions, idempotency
 * keys, the newest-first lists and per-status counts, and an event stream whose entry ids let a
 * subscriber resume on any instance.
 *
 * Every script takes ARGV[1] = the key prefix, ARGV[2] = the event window (stream length) and
 * ARGV[3] = the id of the instance calling it (the events' origin), and builds its key names
 * from the prefix, as BullMQ's own scripts do: this needs a single Redis server (or every key
 * of a prefix in one slot), not Redis Cluster. Scripts read BullMQ's job and lock keys where a
 * decision depends on them (never write them): their layout is pinned by the `bullmq` version.
 */

/** Helpers every script starts with. */
const COMMON = `
local P, WINDOW, ORIGIN = ARGV[1], ARGV[2], ARGV[3]
local SUMMARY = {'id', 'm', 'p', 'c', 's', 'st', 'ct', 'l', 'a', 'e', 'rm', 'ro', 'ra', 'q',
  'pr', 'tn', 'dl', 'ma', 'na', 'al', 'cb'}
-- A pending task's score in line: its level first (high 1, normal 2, low 3), then admission
-- (with fair sharing, its turn first, then admission; see takeTurn).
local LEVEL = 1000000000000
-- Fair sharing's turns within a level: BullMQ takes job priorities up to 2^21, which the three
-- levels share; a turn is TURN wide in the pending index's scores, admission order within it.
local TURNS, TURN = 699050, 1000000

local function taskKey(id) return P .. ':task:' .. id end
local function index(name) return P .. ':q:' .. name end

local function summaryOf(id)
  local values = redis.call('HMGET', taskKey(id), unpack(SUMMARY))
  for i = 1, #SUMMARY do values[i] = values[i] or '' end
  return values
end

-- The place in line of a task known not to wait for a retry.
local function rankOf(id)
  local rank = redis.call('ZRANK', index('pending'), id)
  if rank then return tostring(rank + 1) end
  return ''
end

local function positionOf(id)
  -- Waiting for its next attempt, a task has no place in line yet.
  if (redis.call('HGET', taskKey(id), 'na') or '') ~= '' then return '' end
  return rankOf(id)
end

-- Appends a transition to the event stream: its type, who made it, and the task as it is now.
local function emit(kind, id, position)
  local summary = summaryOf(id)
  local entry = {'XADD', P .. ':events', 'MAXLEN', '~', WINDOW, '*', 't', kind, 'o', ORIGIN, 'pos', position}
  for i, field in ipairs(SUMMARY) do
    entry[#entry + 1] = field
    entry[#entry + 1] = summary[i]
  end
  return redis.call(unpack(entry)), summary
end

local function emitRemoved(count)
  return redis.call('XADD', P .. ':events', 'MAXLEN', '~', WINDOW, '*', 't', 'removed', 'o', ORIGIN, 'n', count)
end

-- {status, event id, queue position, the summary's fields...}
local function reply(status, eventId, position, summary)
  local out = {status, eventId, position}
  for i = 1, #SUMMARY do out[#out + 1] = summary[i] end
  return out
end

local function nextOrder() return redis.call('HINCRBY', P .. ':meta', 'order', 1) end

-- A task whose tenant had --tenant-max-in-flight calls in flight (and places kept for tasks
-- released) when BullMQ handed out its job is set aside by the start script, its job delayed
-- (task-runner.ts): in a set per tenant by its score in line, its tenant in the set of tenants
-- with tasks set aside. Each call of the tenant that ends releases the first: the script's caller
-- promotes its job, and until it starts it keeps a place under the cap, in the released set,
-- where the sweep promotes it again should that promotion be lost. A released task that leaves
-- the line before it starts passes its release on.
local released = {}
local function parkedKey(tenant) return P .. ':parked:' .. tenant end
local PARKED_TENANTS, RELEASED = P .. ':parked-tenants', P .. ':released'
local RELEASED_BY_TENANT = P .. ':tenants:released'
local function setAside(tenant, id, score)
  redis.call('ZADD', parkedKey(tenant), score, id)
  redis.call('SADD', PARKED_TENANTS, tenant)
end
local function unsetAside(tenant, id)
  redis.call('ZREM', parkedKey(tenant), id)
  if redis.call('EXISTS', parkedKey(tenant)) == 0 then redis.call('SREM', PARKED_TENANTS, tenant) end
end
local function markReleased(tenant, id, score)
  if redis.call('ZADD', RELEASED, score, id) == 1 then
    redis.call('ZINCRBY', RELEASED_BY_TENANT, 1, tenant)
  end
end
-- True when the task had been released (its place is given up).
local function unmarkReleased(tenant, id)
  if redis.call('ZREM', RELEASED, id) == 0 then return false end
  if tonumber(redis.call('ZINCRBY', RELEASED_BY_TENANT, -1, tenant)) <= 0 then
    redis.call('ZREM', RELEASED_BY_TENANT, tenant)
  end
  return true
end
local function releasedOf(tenant)
  return tonumber(redis.call('ZSCORE', RELEASED_BY_TENANT, tenant) or '0')
end
local function release(tenant)
  local first = redis.call('ZPOPMIN', parkedKey(tenant))
  if not first[1] then return end
  if redis.call('EXISTS', parkedKey(tenant)) == 0 then redis.call('SREM', PARKED_TENANTS, tenant) end
  markReleased(tenant, first[1], first[2])
  released[#released + 1] = first[1]
end

-- Each tenant's tasks queued (pending) and calls in flight (processing), for its caps and
-- /stats, by tenant: the task's 'tn', '' without fair sharing (nothing to count), else '=' and
-- its name. Sorted sets, so that /stats reads the busiest without reading every tenant.
local function loadKey(status)
  return P .. (status == 'pending' and ':tenants:queued' or ':tenants:calls')
end
local function tenantLoad(tenant, status)
  return tonumber(redis.call('ZSCORE', loadKey(status), tenant) or '0')
end
-- A call that ends releases a task set aside, unless keep (its own task keeps the place).
local function tenantCount(tenant, status, by, keep)
  if not tenant or tenant == '' then return end
  if status ~= 'pending' and status ~= 'processing' then return end
  local key = loadKey(status)
  if tonumber(redis.call('ZINCRBY', key, by, tenant)) <= 0 then
    redis.call('ZREM', key, tenant)
    -- A tenant's last turn counts only while it has tasks queued (takeTurn); kept past that, every
    -- tenant that ever called (each caller's address, with --fair-key ip) would stay in the hash.
    if status == 'pending' then
      for level = 1, 3 do redis.call('HDEL', P .. ':turns:' .. level, tenant) end
    end
  end
  if status == 'processing' and by < 0 and not keep then release(tenant) end
end

-- Places under a tenant's cap on calls: calls in flight and tasks released count against it;
-- own is 1 for a task released itself, whose place is its own.
local function tenantRoom(tenant, cap, own)
  return cap - tenantLoad(tenant, 'processing') - releasedOf(tenant) + own
end

-- Appends the tasks released by tenantCount to a reply.
local function withReleased(out)
  for _, id in ipairs(released) do out[#out + 1] = id end
  return out
end

-- The BullMQ job priority of a turn in a level (a task without a tenant takes the level's first).
local function turnPriority(level, turn) return (level - 1) * TURNS + turn end

-- Fair sharing is start-time fair queueing: a tenant's task takes the turn after the later of
-- the level's turn now (the turn of the task that started last) and its tenant's last (while
-- the tenant has tasks queued: one whose tasks were cancelled or expired starts afresh), and
-- BullMQ runs a level's tasks by turn (its job priority), so tenants with tasks queued take
-- turns and one that arrives late starts at once rather than behind another's burst. A level
-- none of whose tasks is queued starts again from turn 1; one never empty for TURNS turns runs
-- its later tasks in admission order until it empties. Call it before counting the task as
-- queued. Reply: the turn, the task's score in line, its job priority.
local function takeTurn(level, tenant, seq)
  local turns = P .. ':turns:' .. level
  if redis.call('ZCOUNT', index('pending'), level * LEVEL, (level + 1) * LEVEL - 1) == 0 then
    redis.call('DEL', turns)
  end
  local turn = tonumber(redis.call('HGET', turns, 'now') or '0') + 1
  if tenantLoad(tenant, 'pending') > 0 then
    turn = math.max(turn, tonumber(redis.call('HGET', turns, tenant) or '0') + 1)
  end
  turn = math.min(TURNS - 1, turn)
  redis.call('HSET', turns, tenant, turn)
  return turn, level * LEVEL + turn * TURN + seq % TURN, turnPriority(level, turn)
end

-- The priority of a task's BullMQ job: its turn's with fair sharing, else its level's first.
local function jobPriorityOf(key)
  local f = redis.call('HMGET', key, 'jp', 'pr')
  if f[1] and f[1] ~= '' then return f[1] end
  return tostring(turnPriority(tonumber(f[2] or '2'), 1))
end

local function finishTask(id, from, status, completedAt, isLong, err, meta, body, kind)
  local key = taskKey(id)
  -- Read first, so that a task with no deadline, retry or callback costs no command for them.
  local policy = redis.call('HMGET', key, 'dl', 'na', 'cb', 'tn')
  tenantCount(policy[4], from, -1)
  if from == 'pending' and (policy[4] or '') ~= '' then
    unsetAside(policy[4], id)
    if unmarkReleased(policy[4], id) then release(policy[4]) end
  end
  redis.call('HSET', key, 's', status, 'ct', completedAt, 'l', isLong, 'e', err, 'rm', meta, 'na', '')
  if kind ~= '' then redis.call('HSET', key, 'rb', body, 'rk', kind) end
  redis.call('ZREM', index(from), id)
  if (policy[1] or '') ~= '' then redis.call('ZREM', index('deadline'), id) end
  if (policy[2] or '') ~= '' then redis.call('ZREM', index('retry'), id) end
  redis.call('ZREM', index('started'), id)
  redis.call('ZADD', index(status), nextOrder(), id)
  redis.call('ZADD', index('finished'), completedAt, id)
  -- Its callback is due now: kept where pendingCallbacks finds it, should this instance die.
  if (policy[3] or '') ~= '' then redis.call('SADD', P .. ':callbacks', id) end
  if isLong == '1' then redis.call('HINCRBY', P .. ':meta', 'long', 1) end
end

-- The call a stopped process cut off, kept in the history as ended 'interrupted' by endedAt
-- (as AttemptRecord's JSON), since the task runs again and its own fields will show that run.
local function logCutOff(key, endedAt)
  local f = redis.call('HMGET', key, 'a', 'st', 'al')
  local startedAt = (f[2] and f[2] ~= '') and f[2] or endedAt
  local entry = '{"attempt":' .. (f[1] or '0') .. ',"startedAt":' .. startedAt ..
    ',"finishedAt":' .. endedAt ..
    ',"outcome":"failed","statusCode":null,"errorCode":"interrupted","retryAt":null}'
  local log = f[3]
  if log and log ~= '' then log = string.sub(log, 1, -2) .. ',' .. entry .. ']' else log = '[' .. entry .. ']' end
  redis.call('HSET', key, 'al', log)
end

-- The calls of a task cut off and requeued after (logCutOff keeps each), for --max-requeues.
local function cutOffs(key)
  local n = 0
  for _ in string.gmatch(redis.call('HGET', key, 'al') or '', '"errorCode":"interrupted"') do n = n + 1 end
  return n
end

-- Whether the task was ended interrupted by another instance, as a dead one's (its lease ran
-- out), while the call of the attempt it still shows ran on here.
local function endedUnderCall(key)
  return string.find(redis.call('HGET', key, 'e') or '', '"code":"interrupted"', 1, true) ~= nil
end

-- processing -> pending, back at its place in admission order, the cut-off call in its history.
-- With fair sharing, a task whose turn is past the level's turn now took it before the level
-- emptied and started again from turn 1: it goes back at the turn now, the head of the line,
-- with its job's new priority as the reply ('' when its priority stands).
local function requeueTask(id, endedAt)
  local key = taskKey(id)
  logCutOff(key, endedAt)
  local f = redis.call('HMGET', key, 'tn', 'pr', 'vt', 'q')
  local tenant, newPriority = f[1], ''
  -- Back at the head of the line, it keeps its place under its tenant's cap on calls.
  tenantCount(tenant, 'processing', -1, true)
  tenantCount(tenant, 'pending', 1)
  if (tenant or '') ~= '' then markReleased(tenant, id, f[4]) end
  if (tenant or '') ~= '' and (f[3] or '') ~= '' then
    local level = tonumber(f[2] or '2')
    local now = tonumber(redis.call('HGET', P .. ':turns:' .. level, 'now') or '0')
    if tonumber(f[3]) > now then
      -- Turn 0 of the high level is BullMQ's priority 0: the head of the queue, as it should be.
      local turn = now
      newPriority = turnPriority(level, turn)
      redis.call('HSET', key, 'vt', turn, 'jp', newPriority,
        'q', level * LEVEL + turn * TURN + tonumber(f[4]) % TURN)
    end
  end
  redis.call('HSET', key, 's', 'pending', 'st', '')
  redis.call('ZREM', index('processing'), id)
  redis.call('ZREM', index('started'), id)
  redis.call('ZADD', index('pending'), redis.call('HGET', key, 'q'), id)
  return tostring(newPriority)
end

local function removeTask(id)
  local key = taskKey(id)
  local f = redis.call('HMGET', key, 's', 'ik', 'l', 'tn')
  if not f[1] then return end
  tenantCount(f[4], f[1], -1)
  if (f[4] or '') ~= '' then
    unsetAside(f[4], id)
    unmarkReleased(f[4], id)
  end
  redis.call('DEL', key)
  redis.call('ZREM', index('all'), id)
  redis.call('ZREM', index(f[1]), id)
  redis.call('ZREM', index('finished'), id)
  redis.call('ZREM', index('deadline'), id)
  redis.call('ZREM', index('retry'), id)
  redis.call('ZREM', index('handed'), id)
  redis.call('SREM', P .. ':callbacks', id)
  if f[2] and redis.call('GET', P .. ':idem:' .. f[2]) == id then
    redis.call('DEL', P .. ':idem:' .. f[2])
  end
  if f[3] == '1' then redis.call('HINCRBY', P .. ':meta', 'long', -1) end
end

-- Takes back an admission whose job never reached BullMQ's queue (no caller was told of it).
local function discardTask(id)
  local retryOf = redis.call('HGET', taskKey(id), 'ro')
  if retryOf and retryOf ~= '' and redis.call('HGET', taskKey(retryOf), 'ra') == id then
    redis.call('HSET', taskKey(retryOf), 'ra', '')
  end
  removeTask(id)
  return emitRemoved(1)
end
`;

/**
 * Admission. BullMQ has no cap on a queue's length and no unique key other than the job id, so
 * the idempotency key lookup, the capacity check and the write of the task happen here in one
 * step: a burst with one key makes one task, and a burst at a nearly full queue never overfills
 * it. `slots` is the cap on calls when this instance runs tasks (else 0): tasks that free slots
 * will take at once are not waiting, as with the local backend, where they never enter the line.
 * The caller then adds the job to BullMQ's queue.
 *
 * With a cap on tasks held, the oldest finished tasks make room first, and none finished means
 * no room. A full queue sheds its newest task of the lowest level when that level is below the
 * newcomer's (it fails `shed`); the caller then takes its job out of BullMQ's queue. A task that
 * waits for its retry counts as queued but is never shed (the local backends keep such tasks
 * aside from their lines): with no other task below, or none among the newest 1,000 below, the
 * queue is full.
 *
 * With fair sharing the task takes its tenant's next turn (takeTurn), and a tenant holding
 * tenantMaxQueued tasks queued already gets no more.
 *
 * ARGV[4..]: id, createdAt, method, path, headers, body, hasBody, idempotencyKey, requestHash,
 * retryOf, level, tenant, deadlineAt, maxAttempts, timeoutMs, callback (JSON), maxQueueSize,
 * slots, maxTasks ('' for none), shed error (JSON), job key prefix, tenantMaxQueued ('' for
 * none). Reply: {'ok', event id, position, shed id or '', job priority, released ids...} (the
 * caller knows the rest of the new task; a task shed may pass its release on) | {'existing', id, job priority when its job is to be added again} |
 * {'conflict', id} | {'full', queued} (the queue), {'tasks_full', queued} (maxTasks, with too
 * few finished), {'tenant_full', queued} (the tenant's).
 */
const ADMIT = `${COMMON}
local id, key = ARGV[4], taskKey(ARGV[4])
local idempotencyKey, requestHash, retryOf = ARGV[11], ARGV[12], ARGV[13]
if idempotencyKey ~= '' then
  local known = redis.call('GET', P .. ':idem:' .. idempotencyKey)
  if known then
    if (redis.call('HGET', taskKey(known), 'ih') or '') ~= requestHash then return {'conflict', known} end
    -- Pending with no job and no retry to wait for: the instance that admitted it died before
    -- it added the job (its client had no 202 and retries now). This replay's caller adds it,
    -- with the task's level; a job added twice is added once, and a run skips a finished task.
    local f = redis.call('HMGET', taskKey(known), 's', 'na')
    if f[1] == 'pending' and (f[2] or '') == '' and redis.call('EXISTS', ARGV[24] .. known) == 0 then
      return {'existing', known, jobPriorityOf(taskKey(known))}
    end
    return {'existing', known}
  end
end
local level, tenant = tonumber(ARGV[14]), ARGV[15]
if tenant ~= '' and ARGV[25] ~= '' then
  local held = tenantLoad(tenant, 'pending')
  if held >= tonumber(ARGV[25]) then return {'tenant_full', tostring(held)} end
end
local free = math.max(0, tonumber(ARGV[21]) - redis.call('ZCARD', index('processing')))
local queued = math.max(0, redis.call('ZCARD', index('pending')) - free)
local shed = ''
if queued >= tonumber(ARGV[20]) then
  -- The newest task of a level below the newcomer's, newest first, skipping those waiting for a
  -- retry (a failed call put back in line is the newest of its level): as the local backend,
  -- whose queue keeps them aside, a task with attempts left is never shed. Paged by score (each
  -- task's is its own), and at most 1,000 looked at: with a target down under --retry-on most of
  -- a big queue may wait for retries, and this script holds Redis for every instance meanwhile.
  local below, from, looked = tostring((level + 1) * LEVEL), '+inf', 0
  while shed == '' do
    if looked >= 1000 then return {'full', tostring(queued)} end
    local page = redis.call('ZREVRANGEBYSCORE', index('pending'), from, below, 'WITHSCORES', 'LIMIT', 0, 100)
    if #page == 0 then return {'full', tostring(queued)} end
    for i = 1, #page, 2 do
      if (redis.call('HGET', taskKey(page[i]), 'na') or '') == '' then
        shed = page[i]
        break
      end
    end
    looked = looked + #page / 2
    from = '(' .. page[#page]
  end
end
if ARGV[22] ~= '' then
  local over = redis.call('ZCARD', index('all')) - tonumber(ARGV[22]) + 1
  if over > 0 then
    local oldest = redis.call('ZRANGE', index('finished'), 0, over - 1)
    if #oldest < over then return {'tasks_full', tostring(queued)} end
    for _, old in ipairs(oldest) do removeTask(old) end
    emitRemoved(#oldest)
  end
end
if shed ~= '' then
  finishTask(shed, 'pending', 'failed', ARGV[5], '0', ARGV[23], '', '', '')
  emit('finished', shed, '')
end
local seq = redis.call('HINCRBY', P .. ':meta', 'seq', 1)
local score, jobPriority = level * LEVEL + seq, turnPriority(level, 1)
if tenant ~= '' then
  local turn
  turn, score, jobPriority = takeTurn(level, tenant, seq)
  redis.call('HSET', key, 'vt', turn, 'jp', jobPriority)
  tenantCount(tenant, 'pending', 1)
end
redis.call('HSET', key, 'id', id, 'm', ARGV[6], 'p', ARGV[7], 'c', ARGV[5], 's', 'pending',
  'st', '', 'ct', '', 'l', '0', 'a', '0', 'e', '', 'rm', '', 'ro', retryOf, 'ra', '', 'q', score,
  'rh', ARGV[8], 'ih', requestHash, 'at', redis.call('TIME')[1], 'pr', ARGV[14], 'tn', ARGV[15],
  'dl', ARGV[16], 'ma', ARGV[17], 'to', ARGV[18], 'na', '', 'al', '', 'cb', ARGV[19])
if ARGV[16] ~= '' then redis.call('ZADD', index('deadline'), ARGV[16], id) end
if ARGV[10] == '1' then redis.call('HSET', key, 'rq', ARGV[9]) end
if idempotencyKey ~= '' then
  redis.call('SET', P .. ':idem:' .. idempotencyKey, id)
  redis.call('HSET', key, 'ik', idempotencyKey)
end
redis.call('ZADD', index('pending'), score, id)
redis.call('ZADD', index('all'), seq, id)
if retryOf ~= '' and redis.call('EXISTS', taskKey(retryOf)) == 1 then
  redis.call('HSET', taskKey(retryOf), 'ra', id)
end
local position = rankOf(id)
local eventId = emit('created', id, position)
return withReleased({'ok', eventId, position, shed, tostring(jobPriority)})
`;

/** Takes back an admission whose BullMQ job could not be added. ARGV[4..]: id, job key. */
const DISCARD = `${COMMON}
local f = redis.call('HMGET', taskKey(ARGV[4]), 's', 'a')
if f[1] ~= 'pending' or f[2] ~= '0' or redis.call('EXISTS', ARGV[5]) == 1 then return '' end
return discardTask(ARGV[4])
`;

/**
 * pending → processing, run by the worker that BullMQ gave the task's job to, before the call.
 * Only the holder of the job's lock may (one whose lock expired and whose job went to another
 * worker must not). A task found processing under another lock token was left by a worker that
 * died mid-call, and BullMQ handed its job out again: it runs again (a `requeued` event, then
 * `started`) while cut off fewer than maxRequeues times before, else fails `interrupted` (with
 * the past-max-requeues error when maxRequeues is above 0). Found processing under this worker's
 * own token, it is this start again, whose answer was lost (Redis went away): answered the same,
 * with no new event.
 *
 * A task still pending past its deadline, never started, ends `expired` here rather than start.
 * One whose tenant has tenantMaxInFlight calls in flight does not start ('capped'): the caller
 * sets its job aside (the park script).
 *
 * ARGV[4..]: id, startedAt, lock key, lock token, maxRequeues, interrupted error (JSON),
 * expired error (JSON), past-max-requeues error (JSON), tenantMaxInFlight ('' for none).
 * Reply: {'started', event id or '', '', summary..., headers, body|nil, timeoutMs, and for a
 * dead worker's call run again its requeue: 'requeued', event id, '', summary...} |
 * {'interrupted' | 'expired', event..., released ids...} | {'gone'} | {'lost'} | {'finished'} |
 * {'capped'} (set aside).
 */
const START = `${COMMON}
local id, key, token = ARGV[4], taskKey(ARGV[4]), ARGV[7]
local f = redis.call('HMGET', key, 's', 'tk', 'dl', 'a', 'na', 'tn', 'vt', 'pr', 'q')
-- A deadline bounds the wait for the first start: one pending again (a retry, a requeued call)
-- started in time.
local status, ownStart = f[1], f[2] == token
local deadline = (tonumber(f[4]) or 0) == 0 and (f[3] or '') or ''
if not status then return {'gone'} end
if redis.call('GET', ARGV[6]) ~= token then return {'lost'} end
if status == 'processing' and not ownStart then
  if cutOffs(key) >= tonumber(ARGV[8]) then
    local err = ARGV[8] == '0' and ARGV[9] or ARGV[11]
    finishTask(id, 'processing', 'failed', ARGV[5], '0', err, '', '', '')
    local interruptedId, summary = emit('finished', id, '')
    return withReleased(reply('interrupted', interruptedId, '', summary))
  end
elseif status ~= 'pending' and status ~= 'processing' then
  return {'finished'}
end
-- Waiting for a retry: a job for an earlier hand-out, added late by an instance that was paused
-- past the hand-out's lease, after another instance had run the attempt. The wake queues the
-- next one when it is due.
if status == 'pending' and (f[5] or '') ~= '' then return {'finished'} end
if status == 'pending' and deadline ~= '' and tonumber(deadline) <= tonumber(ARGV[5]) then
  finishTask(id, 'pending', 'expired', ARGV[5], '0', ARGV[10], '', '', '')
  local expiredId, summary = emit('finished', id, '')
  return withReleased(reply('expired', expiredId, '', summary))
end
if status == 'pending' and ARGV[12] ~= '' and (f[6] or '') ~= '' then
  local own = redis.call('ZSCORE', RELEASED, id) and 1 or 0
  if tenantRoom(f[6], tonumber(ARGV[12]), own) <= 0 then
    -- Set aside now, not when its job is delayed: should that never happen, the sweep finds it.
    -- A release it had went to a task of its tenant that started first.
    unmarkReleased(f[6], id)
    setAside(f[6], id, f[9])
    return {'capped'}
  end
end
local eventId, summary = '', nil
local requeued
if status == 'processing' and not ownStart then
  logCutOff(key, ARGV[5])
  -- Said as the requeue it is, as the start-up recovery says one, before its start: a watcher
  -- saw two starts of one task, and no line, metric or event told that its call was run again.
  -- Answered too, so that this instance tells it before the start rather than when its feed
  -- reads it back. No place in line: the task never waits in it, as a local store's requeue.
  redis.call('HSET', key, 's', 'pending')
  local requeuedId, requeuedSummary = emit('requeued', id, '')
  requeued = reply('requeued', requeuedId, '', requeuedSummary)
end
if status == 'pending' or not ownStart then
  if deadline ~= '' then redis.call('ZREM', index('deadline'), id) end
  if status == 'pending' and (f[6] or '') ~= '' then
    tenantCount(f[6], 'pending', -1)
    tenantCount(f[6], 'processing', 1)
    -- Started by its own job's turn, or released: either way no longer set aside.
    unsetAside(f[6], id)
    unmarkReleased(f[6], id)
    -- The level's turn now is this task's: later arrivals take turns after it.
    local turns = P .. ':turns:' .. (f[8] or '2')
    if tonumber(f[7] or '0') > tonumber(redis.call('HGET', turns, 'now') or '0') then
      redis.call('HSET', turns, 'now', f[7])
    end
  end
  redis.call('HINCRBY', key, 'a', 1)
  redis.call('HSET', key, 's', 'processing', 'st', ARGV[5], 'tk', token, 'na', '')
  redis.call('ZREM', index(status), id)
  redis.call('ZADD', index('processing'), nextOrder(), id)
  redis.call('ZADD', index('started'), ARGV[5], id)
  eventId, summary = emit('started', id, '')
else
  summary = summaryOf(id)
end
local out = reply('started', eventId, '', summary)
local request = redis.call('HMGET', key, 'rh', 'rq', 'to')
out[#out + 1] = request[1]
out[#out + 1] = request[2]
out[#out + 1] = request[3] or ''
for _, value in ipairs(requeued or {}) do out[#out + 1] = value end
return out
`;

/**
 * A call's outcome, or a cancel: pending or processing → the outcome's status, once. A finish
 * and a cancel racing each other both come here, and the first wins for every reader. With an
 * attempt, only that attempt's outcome counts (a worker that lost its job must not overwrite
 * the next attempt); `allowPending` lets a cancel stop a task still in line.
 *
 * ARGV[4..]: id, status, completedAt, isLong, error, result meta, body, body kind, attempt,
 * allowPending, the start before which a cancelled call is long ('' but for a cancel).
 * Reply: {'ok', event..., previous status, released ids...} | {'gone'} | {'finished'} |
 * {'stale'} | {'interrupted'} (an attempt's outcome after another instance ended it so).
 */
const FINISH = `${COMMON}
local id = ARGV[4]
local f = redis.call('HMGET', taskKey(id), 's', 'a')
local status = f[1]
if not status then return {'gone'} end
if ARGV[12] ~= '' and f[2] ~= ARGV[12] then return {'stale'} end
if not (status == 'processing' or (status == 'pending' and ARGV[13] == '1')) then
  if ARGV[12] ~= '' and endedUnderCall(taskKey(id)) then return {'interrupted'} end
  return {'finished'}
end
local isLong = ARGV[7]
-- A cancel: whether the call ran long is known here, where its start is.
if status == 'processing' and ARGV[14] ~= '' then
  local startedAt = tonumber(redis.call('HGET', taskKey(id), 'st') or '')
  if startedAt and startedAt < tonumber(ARGV[14]) then isLong = '1' end
end
finishTask(id, status, ARGV[5], ARGV[6], isLong, ARGV[8], ARGV[9], ARGV[10], ARGV[11])
local eventId, summary = emit('finished', id, '')
local out = reply('ok', eventId, '', summary)
out[#out + 1] = status
return withReleased(out)
`;

/**
 * processing → pending for a call cut off by a shutdown (before it began, or with maxRequeues);
 * the caller then puts the job back at the head of BullMQ's queue. A task cut off maxRequeues
 * times before stays as it is ('spent'): the caller saves its end.
 * ARGV[4..]: id, attempt, endedAt, maxRequeues ('' for no cap). Reply: {'ok', event..., the
 * job's new priority or '', released ids...} | {'stale'} | {'spent'}.
 */
const REQUEUE = `${COMMON}
local id = ARGV[4]
local f = redis.call('HMGET', taskKey(id), 's', 'a')
if f[1] ~= 'processing' or f[2] ~= ARGV[5] then return {'stale'} end
if ARGV[7] ~= '' and cutOffs(taskKey(id)) >= tonumber(ARGV[7]) then return {'spent'} end
local newPriority = requeueTask(id, ARGV[6])
local position = positionOf(id)
local eventId, summary = emit('requeued', id, position)
local out = reply('ok', eventId, position, summary)
out[#out + 1] = newPriority
return withReleased(out)
`;

/**
 * A failed call that is to be tried again: processing → pending, out of line until its next
 * attempt is due (the wake script puts it back), the attempt kept in its history. Only that
 * attempt's outcome counts, as with the finish script. A task no longer there (Redis lost its
 * data), one that runs another attempt (started again elsewhere) and one that ended meanwhile
 * (a cancel) are told apart, as with the finish script: only the last is no news.
 *
 * ARGV[4..]: id, attempt, status, completedAt, isLong, error, result meta, nextAttemptAt,
 * attempt record (JSON). Reply: {'ok', event..., released ids...} | {'gone'} | {'stale'} |
 * {'finished'}.
 */
const RETRY = `${COMMON}
local id, key = ARGV[4], taskKey(ARGV[4])
local f = redis.call('HMGET', key, 's', 'a', 'al', 'tn')
if not f[1] then return {'gone'} end
if f[2] ~= ARGV[5] then return {'stale'} end
if f[1] ~= 'processing' then return endedUnderCall(key) and {'interrupted'} or {'finished'} end
local tenant = f[4] or ''
tenantCount(tenant, 'processing', -1)
local log = ARGV[12]
if f[3] and f[3] ~= '' then log = string.sub(f[3], 1, -2) .. ',' .. log .. ']' else log = '[' .. log .. ']' end
redis.call('HSET', key, 's', 'pending', 'st', '', 'ct', '', 'l', '0', 'e', '', 'rm', '',
  'na', ARGV[11], 'al', log)
redis.call('HDEL', key, 'rb', 'rk')
redis.call('ZREM', index('processing'), id)
redis.call('ZREM', index('started'), id)
local level = tonumber(redis.call('HGET', key, 'pr') or '2')
local seq = redis.call('HINCRBY', P .. ':meta', 'seq', 1)
local score = level * LEVEL + seq
if tenant ~= '' then
  -- Its next attempt takes its tenant's next turn, as a new task would.
  local turn, jobPriority
  turn, score, jobPriority = takeTurn(level, tenant, seq)
  redis.call('HSET', key, 'vt', turn, 'jp', jobPriority)
  tenantCount(tenant, 'pending', 1)
end
redis.call('HSET', key, 'q', score)
redis.call('ZADD', index('pending'), score, id)
redis.call('ZADD', index('retry'), ARGV[11], id)
local eventId, summary = emit('retrying', id, '')
return withReleased(reply('ok', eventId, '', summary))
`;

/**
 * What is due at a time, done by whichever instance's timer comes first (each task once): queued
 * tasks past their deadline end `expired`, and tasks whose next attempt is due go back in line
 * (the caller adds their jobs). A retry whose last job BullMQ has not let go of yet waits a
 * little. A retry handed out (or a task the recover script put back in line) stays on a lease
 * until its job is seen: the instance it went to may die before adding the job, and the task,
 * pending with no job, would wait for the next start of an instance. Once the lease is over, a
 * task still pending, not waiting again and with no job is handed out anew (to one instance: the
 * script runs alone).
 *
 * A tenant with tasks set aside for its cap on calls (the park script) and room under it now
 * gets the first of them released (with no cap, the setting removed, all of them), and every
 * task released but not started yet is answered again: the caller promotes the jobs still
 * delayed, whose promotion was lost (the releasing instance died, or Redis dropped the reply).
 *
 * ARGV[4..]: now, expired error (JSON), job key prefix, lease (ms), tenantMaxInFlight ('' for
 * none). Reply: {expired ids, {id, job priority}... due, next due time or '', released ids}.
 */
const WAKE = `${COMMON}
local now = tonumber(ARGV[4])
local leaseEnd = tostring(now + tonumber(ARGV[7]))
local expired, due = {}, {}
local function handOut(id)
  redis.call('ZADD', index('handed'), leaseEnd, id)
  due[#due + 1] = id
  due[#due + 1] = jobPriorityOf(taskKey(id))
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', index('deadline'), '-inf', now, 'LIMIT', 0, 1000)) do
  if redis.call('HGET', taskKey(id), 's') == 'pending' then
    finishTask(id, 'pending', 'expired', ARGV[4], '0', ARGV[5], '', '', '')
    emit('finished', id, '')
    expired[#expired + 1] = id
  else
    redis.call('ZREM', index('deadline'), id)
  end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', index('handed'), '-inf', now, 'LIMIT', 0, 1000)) do
  local f = redis.call('HMGET', taskKey(id), 's', 'na')
  if f[1] == 'pending' and (f[2] or '') == '' and redis.call('EXISTS', ARGV[6] .. id) == 0 then
    handOut(id)
  else
    redis.call('ZREM', index('handed'), id)
  end
end
local later = ''
for _, id in ipairs(redis.call('ZRANGEBYSCORE', index('retry'), '-inf', now, 'LIMIT', 0, 1000)) do
  if redis.call('EXISTS', ARGV[6] .. id) == 1 then
    later = tostring(now + 50)
  else
    redis.call('ZREM', index('retry'), id)
    redis.call('HSET', taskKey(id), 'na', '')
    handOut(id)
  end
end
-- Not the hand-outs' lease ends: the sweep finds those, without a wake per retry.
local nextDue = later
for _, name in ipairs({'deadline', 'retry'}) do
  local first = redis.call('ZRANGEBYSCORE', index(name), '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if first[2] and (nextDue == '' or tonumber(first[2]) < tonumber(nextDue)) then nextDue = first[2] end
end
for _, tenant in ipairs(redis.call('SRANDMEMBER', PARKED_TENANTS, 100)) do
  local room = 1000
  if ARGV[8] ~= '' then room = tenantRoom(tenant, tonumber(ARGV[8]), 0) end
  for _ = 1, room do
    if redis.call('EXISTS', parkedKey(tenant)) == 0 then break end
    release(tenant)
  end
  if redis.call('EXISTS', parkedKey(tenant)) == 0 then redis.call('SREM', PARKED_TENANTS, tenant) end
end
return {expired, due, nextDue, redis.call('ZRANGE', RELEASED, 0, 999)}
`;

/**
 * Looks again at a task the start script set aside, once its job is delayed: released meanwhile
 * (its job was still held, so the promotion missed it), or with room under its tenant's cap now,
 * it is released ('free': the caller promotes the job at once). ARGV[4..]: id,
 * tenantMaxInFlight. Reply: 'parked' | 'free' | 'started' (released and started by another
 * worker meanwhile) | 'gone' (ended meanwhile: cancelled, expired or shed).
 */
const PARK = `${COMMON}
local id = ARGV[4]
local f = redis.call('HMGET', taskKey(id), 's', 'tn', 'q')
if f[1] == 'processing' then return 'started' end
if f[1] ~= 'pending' or (f[2] or '') == '' then return 'gone' end
if redis.call('ZSCORE', RELEASED, id) then return 'free' end
if redis.call('ZSCORE', parkedKey(f[2]), id) and tenantRoom(f[2], tonumber(ARGV[5]), 0) > 0 then
  unsetAside(f[2], id)
  markReleased(f[2], id, f[3])
  return 'free'
end
return 'parked'
`;

/**
 * How a task's callback stands; the finished tasks whose callback is pending are kept in a set
 * for `pendingCallbacks`. ARGV[4..]: id, callback (JSON), pending ('1'). Reply: 1 | 0 (no task).
 */
const SET_CALLBACK = `${COMMON}
local key = taskKey(ARGV[4])
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('HSET', key, 'cb', ARGV[5])
if ARGV[6] == '1' then
  redis.call('SADD', P .. ':callbacks', ARGV[4])
else
  redis.call('SREM', P .. ':callbacks', ARGV[4])
end
return 1
`;

/** The tasks whose callback is pending, with it. Reply: {id, callback (JSON)}... */
const PENDING_CALLBACKS = `${COMMON}
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. ':callbacks')) do
  local callback = redis.call('HGET', taskKey(id), 'cb')
  if callback then
    out[#out + 1] = id
    out[#out + 1] = callback
  end
end
return out
`;

/** One task with its place in line, read in one step. ARGV[4]: id. Reply: {} | {position, fields}. */
const GET = `${COMMON}
local fields = redis.call('HGETALL', taskKey(ARGV[4]))
if #fields == 0 then return {} end
return {positionOf(ARGV[4]), fields}
`;

/** A task's request alone (not its result). ARGV[4]: id. Reply: {} | {method, path, headers, body|nil}. */
const GET_REQUEST = `${COMMON}
local key = taskKey(ARGV[4])
if redis.call('EXISTS', key) == 0 then return {} end
return redis.call('HMGET', key, 'm', 'p', 'rh', 'rq')
`;

/**
 * One page, newest first, with the total; a pending task with its place in line.
 * ARGV[4..]: status ('' for all), offset, limit. Reply: {total, (position, summary...)...}.
 */
const LIST = `${COMMON}
local name = ARGV[4]
if name == '' then name = 'all' end
local out = {redis.call('ZCARD', index(name))}
local offset, limit = tonumber(ARGV[5]), tonumber(ARGV[6])
if limit < 1 then return out end
for _, id in ipairs(redis.call('ZREVRANGE', index(name), offset, offset + limit - 1)) do
  out[#out + 1] = positionOf(id)
  local summary = summaryOf(id)
  for i = 1, #SUMMARY do out[#out + 1] = summary[i] end
end
return out
`;

/**
 * Per-status counts (cancelled and expired too, which BullMQ's job counts cannot tell apart),
 * the long tasks, all O(1) or O(log n), and the start of every call in flight (as many as the
 * cap on calls allows), and the busiest tenants' tasks queued and calls in flight (fair
 * sharing). ARGV[4]: the start time before which a call in flight is long. Reply: {pending,
 * processing, completed, failed, cancelled, expired, total, retrying, long finished, long
 * running, callbacks pending (the set pendingCallbacks reads, O(1)), the tenants ({'=name',
 * queued, calls}... flat), then id and start of each call in flight, the earliest first}.
 */
const COUNTS = `${COMMON}
local out = {}
for _, name in ipairs({'pending', 'processing', 'completed', 'failed', 'cancelled', 'expired', 'all', 'retry'}) do
  out[#out + 1] = redis.call('ZCARD', index(name))
end
out[#out + 1] = tonumber(redis.call('HGET', P .. ':meta', 'long') or '0')
out[#out + 1] = redis.call('ZCOUNT', index('started'), '-inf', '(' .. ARGV[4])
out[#out + 1] = redis.call('SCARD', P .. ':callbacks')
-- The busiest tenants by tasks queued and by calls in flight, each with both counts.
local tenants, seen = {}, {}
for _, status in ipairs({'pending', 'processing'}) do
  local top = redis.call('ZREVRANGE', loadKey(status), 0, 19)
  for _, tenant in ipairs(top) do
    if not seen[tenant] then
      seen[tenant] = true
      tenants[#tenants + 1] = tenant
      tenants[#tenants + 1] = tenantLoad(tenant, 'pending')
      tenants[#tenants + 1] = tenantLoad(tenant, 'processing')
    end
  end
end
out[#out + 1] = tenants
for _, value in ipairs(redis.call('ZRANGE', index('started'), 0, -1, 'WITHSCORES')) do
  out[#out + 1] = value
end
return out
`;

/**
 * The calls of the last `limit` finished tasks (by when they finished), as the mean of finished
 * calls counts them: any outcome but a call cut off by a stop (\`interrupted\`), none for a task
 * that never started. Reply: the sum of their durations, which a wall clock set back during a
 * call makes no less than 0, and how many. ARGV[4]: limit. Reply: {total ms, calls}.
 */
const FINISHED_CALLS = `${COMMON}
local total, calls = 0, 0
for _, id in ipairs(redis.call('ZREVRANGE', index('finished'), 0, tonumber(ARGV[4]) - 1)) do
  local f = redis.call('HMGET', taskKey(id), 'st', 'ct', 'e')
  local started, completed = tonumber(f[1] or ''), tonumber(f[2] or '')
  local interrupted = string.find(f[3] or '', '"code":"interrupted"', 1, true)
  if started and completed and not interrupted then
    total = total + math.max(0, completed - started)
    calls = calls + 1
  end
end
return {tostring(total), calls}
`;

/**
 * Retention: removes up to `limit` tasks finished at or before a time, with their idempotency
 * keys. ARGV[4..]: completedBefore, limit. Reply: {removed, event id | ''}.
 */
const REMOVE_FINISHED = `${COMMON}
local ids = redis.call('ZRANGEBYSCORE', index('finished'), '-inf', ARGV[4], 'LIMIT', 0, ARGV[5])
for _, id in ipairs(ids) do removeTask(id) end
if #ids == 0 then return {0, ''} end
return {#ids, emitRemoved(#ids)}
`;

/**
 * What opening finds: calls whose worker no longer holds BullMQ's lock (it died, and the lock
 * ran out) fail `interrupted` or go back in line; tasks that lost their job after being put back
 * in line are named for the caller to add again; admissions a dead instance left without a job
 * (no caller was told of them) and older than `orphanAge` are taken back. BullMQ would hand the
 * dead worker's jobs out again only after its stalled-job check, and has no notion of the rest.
 *
 * A call is put back in line while its task was cut off fewer than maxRequeues times before.
 *
 * ARGV[4..]: maxRequeues, completedAt, interrupted error (JSON), orphanAge (s), past-max-requeues
 * error (JSON), lease (ms). Reply: {pending before, total, requeued ids (in line order), interrupted ids,
 * ids to add, ids of those interrupted past maxRequeues, ids released (their jobs to promote)}.
 */
const RECOVER = `${COMMON}
local bull = P .. ':tasks:'
local requeued, interrupted, readd, spent = {}, {}, {}, {}
local maxRequeues = tonumber(ARGV[4])
local pendingBefore = redis.call('ZCARD', index('pending'))
for _, id in ipairs(redis.call('ZRANGE', index('processing'), 0, -1)) do
  if redis.call('EXISTS', bull .. id .. ':lock') == 0 then
    if cutOffs(taskKey(id)) < maxRequeues then
      requeueTask(id, ARGV[5])
      emit('requeued', id, positionOf(id))
      requeued[#requeued + 1] = id
    else
      local err = ARGV[6]
      if maxRequeues > 0 then
        err = ARGV[8]
        spent[#spent + 1] = id
      end
      finishTask(id, 'processing', 'failed', ARGV[5], '0', err, '', '', '')
      emit('finished', id, '')
      interrupted[#interrupted + 1] = id
    end
  end
end
local seqOf = {}
for _, id in ipairs(requeued) do seqOf[id] = tonumber(redis.call('HGET', taskKey(id), 'q')) end
table.sort(requeued, function(a, b) return seqOf[a] < seqOf[b] end)
local now = tonumber(redis.call('TIME')[1])
for _, id in ipairs(redis.call('ZRANGE', index('pending'), 0, -1)) do
  if redis.call('EXISTS', bull .. id) == 0 then
    local f = redis.call('HMGET', taskKey(id), 'a', 'at', 'na')
    if f[3] and f[3] ~= '' then
      -- Waiting for its next attempt: the wake script adds its job when it is due.
    elseif f[1] ~= '0' then
      readd[#readd + 1] = id
    elseif now - tonumber(f[2] or '0') > tonumber(ARGV[7]) then
      discardTask(id)
      pendingBefore = pendingBefore - 1
    end
  end
end
-- On a lease until their jobs are seen, as retries handed out are: this instance may die before
-- adding them, and the wake script then hands them out again.
local leaseEnd = tonumber(ARGV[5]) + tonumber(ARGV[9])
for _, ids in ipairs({requeued, readd}) do
  for _, id in ipairs(ids) do redis.call('ZADD', index('handed'), leaseEnd, id) end
end
return {pendingBefore, redis.call('ZCARD', index('all')), requeued, interrupted, readd, spent, released}
`;

export const TASK_SCRIPTS = {
  admit: ADMIT,
  discard: DISCARD,
  start: START,
  finish: FINISH,
  requeue: REQUEUE,
  retry: RETRY,
  wake: WAKE,
  park: PARK,
  setCallback: SET_CALLBACK,
  pendingCallbacks: PENDING_CALLBACKS,
  get: GET,
  getRequest: GET_REQUEST,
  list: LIST,
  counts: COUNTS,
  finishedCalls: FINISHED_CALLS,
  removeFinished: REMOVE_FINISHED,
  recover: RECOVER,
} as const;

export type TaskScriptName = keyof typeof TASK_SCRIPTS;
