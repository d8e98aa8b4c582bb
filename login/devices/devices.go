// Package devices is the use case of 已登入的裝置: an account sees the live
// browser sessions it is signed in with (when each started and was last
// seen, from where, with which browser, the e-services it signed in to, the
// level reached) and ends one of them, or all but the one it is using.
// Ending a session goes through the short-lived store the server decorates
// with back-channel logout, so each e-service that got tokens in it is told
// and its tokens from it stop at once.
package devices

import (
	"context"
	"errors"
	"log/slog"

	"github.com/entity-account/idp/storage"
)

// Store is the short-lived store (decorated with back-channel logout).
type Store interface {
	SessionsOf(ctx context.Context, subject string) ([]storage.LiveSession, error)
	EndSessionByID(ctx context.Context, sid string) error
}

// Clients names the clients a session's tokens went to (storage/postgres).
type Clients interface {
	Client(ctx context.Context, id string) (storage.Client, error)
}

// Service runs the use cases.
type Service struct {
	store   Store
	clients Clients
}

// New returns the use cases over store and clients.
func New(store Store, clients Clients) *Service { return &Service{store: store, clients: clients} }

// Device is one live session as its holder sees it.
type Device struct {
	storage.LiveSession
	// Services are the names of the e-services it signed in to (got
	// tokens for), in the order of their client ids; a client since
	// removed is left out.
	Services []storage.Names
	// Current: the session of the request that asked.
	Current bool
}

// ErrNotFound answers a session that is not one of the account's live
// sessions: another account's, ended, or never known, alike.
var ErrNotFound = &storage.Error{Code: storage.ENotFound, Key: "devices_error_not_found",
	Message: "That session is not one of yours, or has ended.", Err: storage.ErrNotFound}

// List returns the live sessions of actor's own account, newest first,
// current marking the one the request came with.
func (s *Service) List(ctx context.Context, actor storage.Actor, current string) ([]Device, error) {
	live, err := s.own(ctx, actor)
	if err != nil {
		return nil, err
	}
	names := map[string]*storage.Names{}
	devices := make([]Device, len(live))
	for i, l := range live {
		devices[i] = Device{LiveSession: l, Current: l.SessionID == current}
		for _, id := range l.ClientIDs {
			n, err := s.serviceName(ctx, names, id)
			if err != nil {
				return nil, err
			}
			if n != nil {
				devices[i].Services = append(devices[i].Services, *n)
			}
		}
	}
	return devices, nil
}

// serviceName is the name of client id's e-service, read once per listing
// (cache); nil for a client that no longer exists or has no e-service.
func (s *Service) serviceName(ctx context.Context, cache map[string]*storage.Names, id string) (*storage.Names, error) {
	if n, ok := cache[id]; ok {
		return n, nil
	}
	c, err := s.clients.Client(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		cache[id] = nil
		return nil, nil
	case err != nil:
		return nil, err
	}
	var n *storage.Names
	if c.ServiceID != 0 {
		n = &c.ServiceName
	}
	cache[id] = n
	return n, nil
}

// own lists the live sessions of actor's account, which the rule book lets
// it see (storage.OwnsSession); another account has none to show it.
func (s *Service) own(ctx context.Context, actor storage.Actor) ([]storage.LiveSession, error) {
	if !storage.OwnsSession(actor, actor.ID) {
		return nil, &storage.Error{Code: storage.EForbidden, Message: "You may not see these sessions.", Err: storage.ErrForbidden}
	}
	return s.store.SessionsOf(ctx, actor.ID)
}

// End ends the session sid of actor's own account (登出此裝置), and with
// it the tokens issued in it, each e-service told. A sid that is not one
// of the account's live sessions is ErrNotFound, and nothing ends.
func (s *Service) End(ctx context.Context, actor storage.Actor, sid string) error {
	live, err := s.own(ctx, actor)
	if err != nil {
		return err
	}
	for _, l := range live {
		if l.SessionID == sid && storage.OwnsSession(actor, l.Subject) {
			return s.store.EndSessionByID(ctx, sid)
		}
	}
	return ErrNotFound
}

// EndOthers ends every live session of actor's account but current (登出
// 所有其他裝置), and returns how many it ended. Each end is tried even if
// one before it failed; the first failure is returned.
func (s *Service) EndOthers(ctx context.Context, actor storage.Actor, current string) (int, error) {
	live, err := s.own(ctx, actor)
	if err != nil {
		return 0, err
	}
	var first error
	n := 0
	for _, l := range live {
		if l.SessionID == current || !storage.OwnsSession(actor, l.Subject) {
			continue
		}
		if err := s.store.EndSessionByID(ctx, l.SessionID); err != nil {
			slog.WarnContext(ctx, "end a session", "err", err)
			if first == nil {
				first = err
			}
			continue
		}
		n++
	}
	return n, first
}
