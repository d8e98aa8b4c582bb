package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/entity-account/idp/storage"
)

// Approval QR codes (the in-person approval of a pending 安全驗證碼,
// login/tools approval.go). The QR code carries a signed token; the store
// keeps which one is the login's latest (a newer one replaces it), marks
// it used once an officer approved with it, and maps the short code typed
// at a desk without a camera to the token. The typed code is a secret, so
// its key holds only its hash:
//
//	P da:{loginID}:cur        string  id of the login's latest approval QR code, TTL of the code
//	P da:{loginID}:used:<id>  string  "1" once approved with; TTL the rest of the code's life
//	P dac:{hash(code)}        string  the token the typed code stands for, TTL of the code

func (s *Store) kApprovalCur(loginID int64) string {
	return s.prefix + "da:{" + strconv.FormatInt(loginID, 10) + "}:cur"
}

func (s *Store) kApprovalUsed(loginID int64, id string) string {
	return s.prefix + "da:{" + strconv.FormatInt(loginID, 10) + "}:used:" + id
}

func (s *Store) kApprovalCode(code string) string { return s.prefix + "dac:{" + hashSecret(code) + "}" }

// PutApproval makes id the latest approval QR code of staff login
// loginID for ttl (an older one is replaced), and the typed code code
// stand for token as long.
func (s *Store) PutApproval(ctx context.Context, loginID int64, id, code, token string, ttl time.Duration) error {
	if ttl < time.Millisecond {
		return fmt.Errorf("redis: put approval: ttl %v too short", ttl)
	}
	if err := s.rdb.Set(ctx, s.kApprovalCur(loginID), id, ttl).Err(); err != nil {
		return wrap("put approval", err)
	}
	return wrap("put approval code", s.rdb.Set(ctx, s.kApprovalCode(code), token, ttl).Err())
}

// ApprovalToken returns the token a typed code stands for;
// storage.ErrNotFound when it is unknown or expired.
func (s *Store) ApprovalToken(ctx context.Context, code string) (string, error) {
	v, err := s.rdb.Get(ctx, s.kApprovalCode(code)).Result()
	if isNil(err) {
		return "", fmt.Errorf("redis: approval code: %w", storage.ErrNotFound)
	}
	return v, wrap("approval code", err)
}

// approvalState reads KEYS[1] (the login's latest id) and KEYS[2] (the
// used mark of ARGV[1]); with ARGV[2] set (a TTL in ms) it also spends
// a current one: the latest id goes and the used mark is set.
var approvalState = goredis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 'used' end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'replaced' end
if ARGV[2] ~= '' then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
end
return 'current'
`)

// ApprovalState says where approval QR code id of staff login loginID
// stands: current, replaced (by a newer one, or expired) or used.
func (s *Store) ApprovalState(ctx context.Context, loginID int64, id string) (storage.ApprovalState, error) {
	v, err := approvalState.Run(ctx, s.rdb, []string{s.kApprovalCur(loginID), s.kApprovalUsed(loginID, id)}, id, "").Text()
	return storage.ApprovalState(v), wrap("approval state", err)
}

// SpendApproval uses approval QR code id of staff login loginID, in one
// step: it reports current when this call spent it (it is used from now
// on, for ttl), else where it stood (replaced or used). Of calls at once
// with one id, exactly one gets current.
func (s *Store) SpendApproval(ctx context.Context, loginID int64, id string, ttl time.Duration) (storage.ApprovalState, error) {
	if ttl < time.Millisecond {
		return "", fmt.Errorf("redis: spend approval: ttl %v too short", ttl)
	}
	v, err := approvalState.Run(ctx, s.rdb, []string{s.kApprovalCur(loginID), s.kApprovalUsed(loginID, id)},
		id, strconv.FormatInt(ttl.Milliseconds(), 10)).Text()
	return storage.ApprovalState(v), wrap("spend approval", err)
}
