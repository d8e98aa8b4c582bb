package manage

import (
	"context"
	"time"

	"github.com/entity-account/idp/storage"
)

// The staff administration of an entity as its admins see it in the portal
// (工作人員登入號列表 and the pages it leads to): every page
// of it is for those who may manage the entity's staff, the list included;
// the entity account and service admins see staff elsewhere, for what they
// may do.

// StaffDetail is a staff login's page (點選指定人員): its registration and
// how its activation stands.
type StaffDetail struct {
	storage.StaffLogin // without its password hash
	// LastCodeSent is when an activation code was last delivered to it
	// (最後發送啟動碼時間), and by which channel; nil when none has been.
	LastCodeSent    *time.Time
	LastCodeChannel storage.Channel
	// CodeOutstanding: an activation code of it is live at the time asked.
	CodeOutstanding bool
}

// MayManageStaff returns nil when actor may manage the staff logins of the
// entity, and the rule book's refusal otherwise: what a page that shows
// only a blank form (新增工作人員登入號) asks before showing it.
func (s *Service) MayManageStaff(actor storage.Actor, entityID int64) error {
	if !storage.CanManageStaff(actor, entityID) {
		return forbidden("manage the staff logins of this entity")
	}
	return nil
}

// ManagedStaffList is one page of the entity's staff list for those who
// manage its staff.
func (s *Service) ManagedStaffList(ctx context.Context, actor storage.Actor, q storage.StaffQuery) ([]storage.StaffListRow, int, error) {
	if err := s.MayManageStaff(actor, q.EntityID); err != nil {
		return nil, 0, err
	}
	return s.dir.StaffList(ctx, q)
}

// StaffDetail returns a staff login of the entity with its activation
// state at now, for those who manage its staff. A login of another entity
// is not found.
func (s *Service) StaffDetail(ctx context.Context, actor storage.Actor, entityID int64, euid string, now time.Time) (StaffDetail, error) {
	if err := s.MayManageStaff(actor, entityID); err != nil {
		return StaffDetail{}, err
	}
	sl, err := s.dir.StaffLoginOf(ctx, entityID, euid)
	if err != nil {
		return StaffDetail{}, notFound(err, "Staff login "+euid)
	}
	sl.PasswordHash = ""
	d := StaffDetail{StaffLogin: sl}
	ref := storage.AccountRef{Kind: storage.KindStaff, ID: sl.ID}
	if d.LastCodeSent, d.LastCodeChannel, err = s.dir.LastCodeSent(ctx, ref); err != nil {
		return d, err
	}
	codes, err := s.dir.ActivationCodes(ctx, ref, 1)
	if err != nil {
		return d, err
	}
	d.CodeOutstanding = len(codes) > 0 && codes[0].Live(now)
	return d, nil
}
