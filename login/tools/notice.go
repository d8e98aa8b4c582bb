package tools

import (
	"context"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/storage"
)

// Notices tell the holder of a staff login of every enrolment and removal
// of its identity tools (a TOTP confirmed or approved, a passkey added or
// removed, passkeys switched off or on, the operator's reset), as every
// notice of an account is told (see notify.Notices).
type Notices = notify.Notices

// notice composes the notice of ev for sl (name: a passkey's name), or nil
// when sl registered neither a mobile nor an e-mail.
func (s *Service) notice(ctx context.Context, sl storage.StaffLogin, ev notify.ToolEvent, name string) (*storage.OutboxMessage, error) {
	ch, to, ok := storage.ToolNoticeTo(sl)
	if !ok {
		return nil, nil
	}
	e, err := s.dir.Entity(ctx, sl.EntityID)
	if err != nil {
		return nil, err
	}
	return s.compose(sl, e.Number, ch, to, ev, name)
}

// compose seals the notice of ev for sl of entity entityNumber, to to by ch.
func (s *Service) compose(sl storage.StaffLogin, entityNumber string, ch storage.Channel, to string, ev notify.ToolEvent, name string) (*storage.OutboxMessage, error) {
	username := sl.Username
	if username == "" {
		username = sl.EUID
	}
	content := s.notices.Texts.Tool(sl.Language, ev, ch, notify.ToolVars{EntityNumber: entityNumber, Username: username, Name: name, At: s.Now()})
	body, err := s.notices.Sealer.Seal(ch, to, content)
	if err != nil {
		return nil, err
	}
	return &storage.OutboxMessage{Channel: ch, Recipient: to, Language: sl.Language, Body: body}, nil
}

// ToolsVoidedNotice composes the notice that tells the holder of sl, of
// entity entityNumber, that its identity document was changed and its
// identity tools removed (a storage.NoticeOf: the store calls it in the
// transaction of the change, with the login as it was before, so that the
// notice reaches the mobile or e-mail, and the language, the holder knew).
// Nil when sl registered neither a mobile nor an e-mail.
func (s *Service) ToolsVoidedNotice(sl storage.StaffLogin, entityNumber string) (*storage.OutboxMessage, error) {
	ch, to, ok := storage.ToolNoticeTo(sl)
	if !ok {
		return nil, nil
	}
	return s.compose(sl, entityNumber, ch, to, notify.ToolsVoided, "")
}

// WakeOutbox tells the local outbox worker that a notice was written
// (after a change committed elsewhere wrote one of ours).
func (s *Service) WakeOutbox() {
	if s.notices.Wake != nil {
		s.notices.Wake()
	}
}

// wake tells the local outbox worker that a notice was written.
func (s *Service) wake(m *storage.OutboxMessage) {
	if m != nil && s.notices.Wake != nil {
		s.notices.Wake()
	}
}
