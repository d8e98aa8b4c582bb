package activation_test

import (
	"context"
	"testing"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/storage"
)

func application(number string) activation.Application {
	return activation.Application{Number: number, NameZH: "申請有限公司", Kind: "company", ApplicationNumber: "APP-" + number,
		AccountMobile: "6600 0090", AccountLanguage: "zh-Hant", Channel: storage.ChannelSMS,
		Admins: []storage.StaffRegistration{{NameZH: "管", IDDocType: storage.IDPassport, IDDocNumber: "k1234567",
			BirthDate: "1970-07-07", Mobile: "66000091", Language: "en"}}}
}

// TestOpen: the application's fields are checked, every wrong one named
// by its form field (an admin's with its place); a counter officer opens
// the entity; a number in use is a conflict on the number; an officer the
// rule book refuses opens nothing.
func TestOpen(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	counter := storage.OfficerActor(storage.Officer{Login: "chan.tm", Role: storage.RoleCounter, Status: storage.OfficerActive})

	bad := application("7-1")
	bad.NameZH, bad.Kind, bad.ApplicationNumber, bad.AccountMobile = "", "bank", " ", ""
	second := bad.Admins[0]
	bad.Admins = append(bad.Admins, second, storage.StaffRegistration{IDDocType: storage.IDMacauPermanent, IDDocNumber: "12", Language: "pt"})
	_, err := w.svc.Open(ctx, counter, bad)
	got := map[string]string{}
	for _, e := range storage.FieldErrors(err) {
		got[e.Field] = e.Key
	}
	for field, key := range map[string]string{
		activation.FieldNumber: "desk_intake_error_number", activation.FieldNameZH: "desk_intake_error_name",
		activation.FieldKind: "desk_intake_error_kind", activation.FieldApplicationNumber: "desk_intake_error_application_number",
		activation.FieldAccountMobile: "desk_intake_error_account_mobile", "admin2_id_doc_number": "desk_intake_error_admin_twice",
		"admin3_name_zh": "reg_error_name", "admin3_id_doc_number": "reg_error_id_number", "admin3_birth_date": "reg_error_birth_date",
	} {
		if got[field] != key {
			t.Errorf("field %s: key %q, want %q (all: %v)", field, got[field], key, got)
		}
	}
	if i, f, ok := activation.SplitAdminField("admin10_birth_date"); !ok || i != 9 || f != "birth_date" {
		t.Errorf("SplitAdminField = %d %q %v", i, f, ok)
	}
	if _, _, ok := activation.SplitAdminField("admin01_x"); ok {
		t.Error("SplitAdminField took admin01")
	}

	opened, err := w.svc.Open(ctx, counter, application("07-000009"))
	if err != nil || opened.Account.Mobile != "+85366000090" || len(opened.Admins) != 1 || !opened.Admins[0].Admin || opened.Admins[0].EUID == "" {
		t.Fatalf("Open = %+v, %v", opened, err)
	}
	_, err = w.svc.Open(ctx, counter, application("07 000009"))
	if fe := storage.FieldErrors(err); storage.CodeOf(err) != storage.EConflict || len(fe) != 1 || fe[0].Field != activation.FieldNumber {
		t.Errorf("a number in use: %v", err)
	}

	for _, actor := range []storage.Actor{
		storage.OfficerActor(storage.Officer{ID: 8, Login: "ho.mk", Role: storage.RoleSupervisor, Status: storage.OfficerDisabled}),
		{Kind: storage.ActorStaff, ID: "CU000000001", EntityID: w.entity.ID, Admin: true, Active: true},
	} {
		if _, err := w.svc.Open(ctx, actor, application("07-000010")); storage.CodeOf(err) != storage.EForbidden {
			t.Errorf("%s %s: %v", actor.Kind, actor.ID, err)
		}
	}
	if _, err := w.pg.EntityByNumber(ctx, "07-000010"); err == nil {
		t.Error("a refused officer opened the entity")
	}
}
