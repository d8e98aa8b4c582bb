package activation

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/entity-account/idp/storage"
)

// The application for an entity account (申請開立實體使用者帳戶) as 行政公職局
// receives it at the counter: the entity, its entity account's mobile (or
// e-mail) and application number (申請編號, on the receipt), and at least
// one admin staff login (工作人員登入號（管理員）申請表). `idp entity create`
// and the desk's intake both open an entity through Open.

// Entity kinds (實體類別).
var EntityKinds = []string{"company", "association", "sole_trader", "building_management"}

// MaxAdmins is the most admin staff logins one application opens.
const MaxAdmins = 10

// Application limits, in characters.
const (
	maxEntityName        = 200
	maxApplicationNumber = 64
)

// Application is an application for an entity account as typed. Its
// fields are checked by Open, which names a wrong one by its form field
// (see the Field* names and AdminField).
type Application struct {
	Number, NameZH, NamePT, Kind string
	ApplicationNumber            string
	AccountMobile, AccountEmail  string
	AccountLanguage              string
	Admins                       []storage.StaffRegistration
	Channel                      storage.Channel
}

// The form fields of an application (storage.Error.Field) besides the
// admins' (AdminField).
const (
	FieldNumber            = "entity_number"
	FieldNameZH            = "entity_name_zh"
	FieldNamePT            = "entity_name_pt"
	FieldKind              = "entity_kind"
	FieldApplicationNumber = "application_number"
	FieldAccountMobile     = "account_mobile"
	FieldAccountEmail      = "account_email"
	FieldAccountLanguage   = "account_language"
	FieldChannel           = "channel"
)

// AdminField is the form field of the i-th admin (from 0) whose
// registration field is field (storage.StaffRegistration's: name_zh,
// id_doc_number, ...): "admin1_name_zh".
func AdminField(i int, field string) string { return fmt.Sprintf("admin%d_%s", i+1, field) }

// SplitAdminField is AdminField undone: the admin's index (from 0) and its
// registration field; ok is false for a field of the entity.
func SplitAdminField(name string) (i int, field string, ok bool) {
	rest, found := strings.CutPrefix(name, "admin")
	if !found {
		return 0, "", false
	}
	n, field, found := strings.Cut(rest, "_")
	if _, err := fmt.Sscanf(n, "%d", &i); err != nil || !found || i < 1 || fmt.Sprint(i) != n {
		return 0, "", false
	}
	return i - 1, field, true
}

// Opened is an entity Open opened: its entity account and admin staff
// logins, each sent an activation code over Channel (never shown: the
// codes go to their holders only).
type Opened struct {
	Entity  storage.Entity
	Account storage.EntityAccount
	Admins  []storage.StaffLogin
	Channel storage.Channel
}

// Open checks the application field by field and opens the entity with its
// entity account and admin staff logins, each sent its activation code over
// the application's channel, in one transaction with the audit events (an
// officer's act names the officer). Only the operator, as an officer whom
// the rule book allows storage.ActOpenEntity, opens an entity. Wrong fields
// come back joined, one *storage.Error per field (storage.FieldErrors); an
// entity number that exists is an EConflict on FieldNumber.
func (s *Service) Open(ctx context.Context, actor storage.Actor, app Application) (Opened, error) {
	if err := storage.ActorMay(actor, storage.ActOpenEntity); err != nil {
		return Opened{}, err
	}
	e, acct, admins, err := app.check(s.now())
	if err != nil {
		return Opened{}, err
	}
	if err := s.OpenEntity(ctx, actor, &e, &acct, admins, app.Channel); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return Opened{}, &storage.Error{Code: storage.EConflict, Field: FieldNumber, Key: "desk_intake_error_number_taken", Err: err,
				Message: "An entity with number " + e.Number + " exists already."}
		}
		return Opened{}, fmt.Errorf("open entity %s: %w", e.Number, err)
	}
	out := Opened{Entity: e, Account: acct, Channel: app.Channel}
	for _, sl := range admins {
		out.Admins = append(out.Admins, *sl)
	}
	return out, nil
}

// bad collects the wrong fields of a form.
type bad []error

func (b *bad) add(field, key, message string) {
	*b = append(*b, &storage.Error{Code: storage.EInvalid, Field: field, Key: key, Message: message, Err: storage.ErrInvalid})
}

// check is the application's entity, entity account and admins, their
// values normalised, or the wrong fields joined.
func (app Application) check(now time.Time) (storage.Entity, storage.EntityAccount, []*storage.StaffLogin, error) {
	var errs bad
	e := app.checkEntity(&errs)
	acct := app.checkAccount(&errs)
	admins := app.checkAdmins(&errs, now)
	if len(errs) > 0 {
		return e, acct, nil, errors.Join(errs...)
	}
	return e, acct, admins, nil
}

func (app Application) checkEntity(errs *bad) storage.Entity {
	e := storage.Entity{NameZH: strings.TrimSpace(app.NameZH), NamePT: strings.TrimSpace(app.NamePT), Kind: app.Kind, Status: "active"}
	if n, ok := storage.NormalizeEntityNumber(app.Number); ok {
		e.Number = n
	} else {
		errs.add(FieldNumber, "desk_intake_error_number", "An entity number has two digits, a hyphen and six digits (e.g. 02-000022).")
	}
	switch {
	case e.NameZH == "" && e.NamePT == "":
		errs.add(FieldNameZH, "desk_intake_error_name", "The entity's Chinese or Portuguese name is required.")
	case !storage.CleanText(e.NameZH, maxEntityName):
		errs.add(FieldNameZH, "desk_intake_error_name_long", "A name is at most 200 characters, without control characters.")
	case !storage.CleanText(e.NamePT, maxEntityName):
		errs.add(FieldNamePT, "desk_intake_error_name_long", "A name is at most 200 characters, without control characters.")
	}
	if !contains(EntityKinds, e.Kind) {
		errs.add(FieldKind, "desk_intake_error_kind", "The kind of entity is company, association, sole_trader or building_management.")
	}
	return e
}

func (app Application) checkAccount(errs *bad) storage.EntityAccount {
	acct := storage.EntityAccount{ApplicationNumber: strings.TrimSpace(app.ApplicationNumber),
		Email: strings.TrimSpace(app.AccountEmail), Language: app.AccountLanguage}
	if acct.ApplicationNumber == "" || !storage.CleanText(acct.ApplicationNumber, maxApplicationNumber) {
		errs.add(FieldApplicationNumber, "desk_intake_error_application_number", "The application number on the receipt is required (at most 64 characters).")
	}
	mobileOK := true
	if strings.TrimSpace(app.AccountMobile) != "" {
		acct.Mobile, mobileOK = storage.NormalizeMacauMobile(app.AccountMobile)
		if !mobileOK {
			errs.add(FieldAccountMobile, "reg_error_mobile", "A Macau mobile number has 8 digits and starts with 6.")
		}
	}
	emailOK := validEmail(acct.Email)
	if !emailOK {
		errs.add(FieldAccountEmail, "reg_error_email", "The e-mail address is not valid.")
	}
	if !contains(storage.Languages, acct.Language) {
		errs.add(FieldAccountLanguage, "reg_error_language", "Choose a language: zh-Hant, pt or en.")
	}
	switch app.Channel {
	case storage.ChannelSMS:
		if mobileOK && acct.Mobile == "" {
			errs.add(FieldAccountMobile, "desk_intake_error_account_mobile", "The entity account's Macau mobile is required: its activation code goes by SMS.")
		}
	case storage.ChannelEmail:
		if emailOK && acct.Email == "" {
			errs.add(FieldAccountEmail, "desk_intake_error_account_email", "The entity account's e-mail is required: its activation code goes by e-mail.")
		}
	default:
		errs.add(FieldChannel, "staff_error_channel", "The activation codes go by sms or email.")
	}
	return acct
}

func (app Application) checkAdmins(errs *bad, now time.Time) []*storage.StaffLogin {
	switch {
	case len(app.Admins) == 0:
		errs.add("", "desk_intake_error_no_admin", "At least one admin staff login is required.")
		return nil
	case len(app.Admins) > MaxAdmins:
		errs.add("", "desk_intake_error_too_many_admins", fmt.Sprintf("At most %d admin staff logins are opened with an entity.", MaxAdmins))
		return nil
	}
	var admins []*storage.StaffLogin
	docs := map[string]bool{}
	for i, reg := range app.Admins {
		sl, err := reg.Validate(now)
		for _, fe := range storage.FieldErrors(err) {
			errs.add(AdminField(i, fe.Field), fe.Key, fmt.Sprintf("admin %d: %s", i+1, fe.Message))
		}
		if err != nil {
			continue
		}
		if doc := sl.IDDocType + " " + sl.IDDocNumber; docs[doc] {
			errs.add(AdminField(i, "id_doc_number"), "desk_intake_error_admin_twice", fmt.Sprintf("admin %d: the same person is an admin above already.", i+1))
		} else {
			docs[doc] = true
		}
		if to := recipient(app.Channel, sl.Mobile, sl.Email); to == "" && (app.Channel == storage.ChannelSMS || app.Channel == storage.ChannelEmail) {
			field := "mobile"
			if app.Channel == storage.ChannelEmail {
				field = "email"
			}
			errs.add(AdminField(i, field), "reg_error_no_recipient", fmt.Sprintf("admin %d: a registered %s is required for its activation code.", i+1, field))
		}
		sl.Admin = true
		admins = append(admins, &sl)
	}
	return admins
}

func recipient(ch storage.Channel, mobile, email string) string {
	if ch == storage.ChannelEmail {
		return email
	}
	return mobile
}

// validEmail: "" or an address as storage.StaffRegistration takes one.
func validEmail(s string) bool {
	if s == "" {
		return true
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= storage.MaxEmailLength && storage.CleanText(s, storage.MaxEmailLength)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
