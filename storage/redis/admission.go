package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/entity-account/idp/storage"
)

// Admission of authorization requests (storage.AuthRequestLimits says
// why). Its state is a handful of keys that all share the hash tag
// {budget}, so that one script decides every admission atomically, on a
// single Redis and in a Cluster alike, for every node at once:
//
//	P arq:{budget}            zset    open (not yet signed-in) requests: id → admitted at (Unix ms)
//	P arq:{budget}:owner      hash    id → browser id, for requests that came with our browser cookie
//	P arq:{budget}:b:<browser> zset   a browser's open requests: id → admitted at
//	P arq:{budget}:a:<address> string the address's token bucket: its theoretical arrival time (GCRA, ms)
//
// The records themselves (ar:{id}) stay spread over the cluster by their
// own ids; only this bookkeeping, a few dozen bytes per open request and
// bounded by the budget, lives in one slot. Its keys expire with the
// newest request they hold, so an idle provider keeps none; members past
// the request TTL are pruned on every admission.
//
// Time is the caller's clock (Store.Now), as for every other expiry here:
// nodes keep their clocks in step (NTP), and a skew of a few milliseconds
// shifts a bucket by as much.

func (s *Store) kBudget() string                { return s.prefix + "arq:{budget}" }
func (s *Store) kBudgetOwner() string           { return s.prefix + "arq:{budget}:owner" }
func (s *Store) kBudgetAddress(a string) string { return s.prefix + "arq:{budget}:a:" + a }
func (s *Store) kBudgetBrowser(b string) string { return s.prefix + "arq:{budget}:b:" + b }

// admitScript decides one admission. KEYS: the budget, its owners, the
// address's bucket, the browser's set (the budget again when there is no
// browser). ARGV: now (ms), the bucket's interval (ms per request), burst,
// per browser, budget, grace (ms), TTL (ms), the new id, the browser ("" for
// none), BrowserRoom (ms).
//
// It returns {0, reason, wait ms} when refused (nothing changed), or
// {1, dropped by the browser, dropped by the budget, dropped ids...} once
// the request is counted and the dropped requests have left the budget;
// the caller deletes the dropped records (other slots).
//
// The keys of a browser's set of a dropped request are derived here from
// the budget key; they share its hash tag, hence its slot.
var admitScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local perBrowser = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local grace = tonumber(ARGV[6])
local ttl = tonumber(ARGV[7])
local id, browser = ARGV[8], ARGV[9]
local room = tonumber(ARGV[10])

-- The address's token bucket (GCRA): a request is due interval after the
-- previous one, and may come up to burst intervals early.
local tat = tonumber(redis.call('GET', KEYS[3]) or 0) or 0
if tat < now then tat = now end
local newtat = tat + interval
if newtat - burst * interval > now then
  return {0, 'address', math.ceil(newtat - burst * interval - now)}
end

local function forget(m)
  redis.call('ZREM', KEYS[1], m)
  local b = redis.call('HGET', KEYS[2], m)
  if b then
    redis.call('HDEL', KEYS[2], m)
    redis.call('ZREM', KEYS[1] .. ':b:' .. b, m)
  end
end
-- Requests past their life have expired by themselves: out of the count.
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl, 'LIMIT', 0, 64)) do forget(m) end

-- The browser's oldest open requests make room for its newest, if they
-- are older than BrowserRoom.
local mine = {}
if browser ~= '' then
  local over = redis.call('ZCARD', KEYS[4]) - perBrowser + 1
  if over > 0 then
    local o = redis.call('ZRANGE', KEYS[4], 0, over - 1, 'WITHSCORES')
    local youngest = tonumber(o[#o])
    if youngest > now - room then
      return {0, 'browser', math.ceil(youngest + room - now)}
    end
    for i = 1, #o, 2 do mine[#mine + 1] = o[i] end
  end
end

-- The budget: its oldest requests make room, if they have lived grace.
local skip, freed = {}, 0
for _, m in ipairs(mine) do
  skip[m] = true
  if redis.call('ZSCORE', KEYS[1], m) then freed = freed + 1 end
end
local need = redis.call('ZCARD', KEYS[1]) - freed - budget + 1
local theirs = {}
if need > 0 then
  local o = redis.call('ZRANGE', KEYS[1], 0, need + #mine - 1, 'WITHSCORES')
  for i = 1, #o, 2 do
    if #theirs == need then break end
    if not skip[o[i]] then
      local at = tonumber(o[i + 1])
      if at > now - grace then
        return {0, 'budget', math.ceil(at + grace - now)}
      end
      theirs[#theirs + 1] = o[i]
    end
  end
end

redis.call('SET', KEYS[3], string.format('%.3f', newtat), 'PX', math.ceil(newtat - now) + 1)
for _, m in ipairs(mine) do forget(m) end
for _, m in ipairs(theirs) do forget(m) end
redis.call('ZADD', KEYS[1], now, id)
redis.call('PEXPIRE', KEYS[1], ttl)
if browser ~= '' then
  redis.call('ZADD', KEYS[4], now, id)
  redis.call('PEXPIRE', KEYS[4], ttl)
  redis.call('HSET', KEYS[2], id, browser)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
local out = {1, #mine, #theirs}
for _, m in ipairs(mine) do out[#out + 1] = m end
for _, m in ipairs(theirs) do out[#out + 1] = m end
return out
`)

// settleScript takes request ARGV[1] out of the budget (KEYS[1]), its
// owners (KEYS[2]) and its browser's set: it was signed in, or never stored.
var settleScript = goredis.NewScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
local b = redis.call('HGET', KEYS[2], ARGV[1])
if b then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1] .. ':b:' .. b, ARGV[1])
end
return 1
`)

// AdmitAuthRequest admits one authorization request (storage.Admissions).
func (s *Store) AdmitAuthRequest(ctx context.Context, a storage.Admission, l storage.AuthRequestLimits) (storage.Admitted, error) {
	if l.PerAddressMinute < 1 || l.PerAddressBurst < 1 || l.PerBrowser < 1 || l.Budget < 1 ||
		l.Grace < time.Millisecond || l.TTL < time.Millisecond {
		return storage.Admitted{}, fmt.Errorf("redis: admit auth request: bad limits %+v", l)
	}
	id, err := newID()
	if err != nil {
		return storage.Admitted{}, err
	}
	address := limitKeyPart(a.Address)
	browser := a.Browser
	if !storage.ValidBrowserID(browser) {
		browser = ""
	}
	browserKey := s.kBudget()
	if browser != "" {
		browserKey = s.kBudgetBrowser(browser)
	}
	interval := 60000 / float64(l.PerAddressMinute)
	res, err := admitScript.Run(ctx, s.rdb,
		[]string{s.kBudget(), s.kBudgetOwner(), s.kBudgetAddress(address), browserKey},
		s.now().UnixMilli(), strconv.FormatFloat(interval, 'f', 6, 64), l.PerAddressBurst, l.PerBrowser,
		l.Budget, l.Grace.Milliseconds(), l.TTL.Milliseconds(), id, browser, storage.BrowserRoom.Milliseconds(),
	).Slice()
	if err != nil {
		return storage.Admitted{}, wrap("admit auth request", err)
	}
	if len(res) < 3 {
		return storage.Admitted{}, fmt.Errorf("redis: admit auth request: unexpected reply %v", res)
	}
	if ok, _ := res[0].(int64); ok == 0 {
		reason, _ := res[1].(string)
		ms, _ := res[2].(int64)
		return storage.Admitted{Refused: reason, Wait: max(time.Duration(ms)*time.Millisecond, time.Millisecond)}, nil
	}
	byBrowser, _ := res[1].(int64)
	byBudget, _ := res[2].(int64)
	out := storage.Admitted{ID: id, DroppedByBrowser: int(byBrowser), DroppedByBudget: int(byBudget)}
	if dropped := res[3:]; len(dropped) > 0 {
		// The dropped records, each a DEL of its own hash tag.
		_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, d := range dropped {
				if did, ok := d.(string); ok {
					p.Del(ctx, s.kAuthRequest(did), s.kCodeMarker(did), s.kAuthOf(did))
				}
			}
			return nil
		})
		if err != nil {
			// The request is admitted; a record left behind still expires.
			return out, wrap("admit auth request: drop", err)
		}
	}
	return out, nil
}

// ReleaseAuthRequest gives back the place of an admitted id under which no
// request was stored (storage.Admissions).
func (s *Store) ReleaseAuthRequest(ctx context.Context, id string) error {
	return wrap("release auth request", settleScript.Run(ctx, s.rdb, []string{s.kBudget(), s.kBudgetOwner()}, id).Err())
}

// limitKeyPart keeps an address key to what cannot break a key: a
// normalised address passes as it is, anything else goes by its hash.
func limitKeyPart(a string) string {
	if a == "invalid" {
		return a
	}
	if a != "" && len(a) <= 64 && !strings.ContainsFunc(a, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' || r == '.' || r == ':' || r == '/')
	}) {
		return a
	}
	return "h:" + hashSecret(a)
}
