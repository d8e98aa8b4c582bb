package storage

import (
	"errors"
	"testing"
	"time"
)

func TestNormalizeMacauMobile(t *testing.T) {
	for in, want := range map[string]string{
		"66123456": "+85366123456", "+853 6612 3456": "+85366123456", "853-66123456": "+85366123456",
		"0085366123456": "+85366123456", "６６１２３４５６": "+85366123456", "(853) 6612-3456": "+85366123456",
		"56123456": "", "6612345": "", "661234567": "", "+852 66123456": "", "6612\x003456": "", "": "",
	} {
		got, ok := NormalizeMacauMobile(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeMacauMobile(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestParseBirthDate: the spellings of a date people type, in any
// browser's locale, read as one date; month-first and impossible dates do not.
func TestParseBirthDate(t *testing.T) {
	want := time.Date(1980, 1, 31, 0, 0, 0, 0, time.UTC)
	for _, in := range []string{
		"1980-01-31", "1980-1-31", "1980/01/31", "1980.01.31", " 1980 01 31 ", "19800131",
		"31/01/1980", "31-1-1980", "31.01.1980", "１９８０－０１－３１", "1980年1月31日", "1980年01月31日",
	} {
		if got, ok := ParseBirthDate(in); !ok || !got.Equal(want) {
			t.Errorf("ParseBirthDate(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"01/31/1980", "1980-02-30", "1980-13-01", "80-01-31", "1880-01-31", "", "yesterday", "1980-01-31\x00"} {
		if got, ok := ParseBirthDate(in); ok {
			t.Errorf("ParseBirthDate(%q) = %v, want no date", in, got)
		}
	}
}

// TestReadDateNoSuchDay: a date written in a form that is read, but whose
// day the calendar lacks, is told apart from one written in no form read:
// the person is to check the day, not to write the date differently.
func TestReadDateNoSuchDay(t *testing.T) {
	for _, in := range []string{"1990/2/30", "1990-02-30", "1990年2月30日", "30/02/1990", "19900230", "2023-02-29", "1990-04-31", "31.04.1990", "１９９０／２／３０"} {
		if _, err := ReadDate(in); !errors.Is(err, ErrNoSuchDate) {
			t.Errorf("ReadDate(%q) = %v, want ErrNoSuchDate", in, err)
		}
	}
	for _, in := range []string{"01/31/1980", "1980-13-01", "1980-01-32", "1980-00-10", "80-01-31", "1880-01-31", "", "yesterday"} {
		if _, err := ReadDate(in); !errors.Is(err, ErrDateUnreadable) {
			t.Errorf("ReadDate(%q) = %v, want ErrDateUnreadable", in, err)
		}
	}
	if d, err := ReadDate("2024-02-29"); err != nil || d.Day() != 29 {
		t.Errorf("ReadDate(2024-02-29), a leap day = %v, %v", d, err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	reg := StaffRegistration{NameZH: "陳大文", IDDocType: IDMacauPermanent, IDDocNumber: "1234567(8)", BirthDate: "1990/2/30", Language: "zh-Hant"}
	_, err := reg.Validate(now)
	fe := FieldErrors(err)
	if len(fe) != 1 || fe[0].Field != "birth_date" || fe[0].Key != "reg_error_birth_date_nonexistent" {
		t.Errorf("Validate with 1990/2/30: %v", err)
	}
	reg.BirthDate = "1990/13/1"
	if fe := FieldErrors(func() error { _, err := reg.Validate(now); return err }()); len(fe) != 1 || fe[0].Key != "reg_error_birth_date" {
		t.Errorf("Validate with 1990/13/1: %v", fe)
	}
}

func TestStaffRegistration(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	good := StaffRegistration{NameZH: " 陳大文 ", IDDocType: IDMacauPermanent, IDDocNumber: "1234567 (8)", IDDocIssuePlace: "澳門",
		BirthDate: "1990/1/2", Mobile: "6612 3456", Email: "chan@example.mo", Language: "pt"}
	sl, err := good.Validate(now)
	if err != nil {
		t.Fatal(err)
	}
	if sl.NameZH != "陳大文" || sl.IDDocNumber != "1234567(8)" || sl.Mobile != "+85366123456" ||
		!sl.BirthDate.Equal(time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC)) || sl.Language != "pt" {
		t.Errorf("normalised = %+v", sl)
	}
	for name, tc := range map[string]struct {
		change func(*StaffRegistration)
		field  string
	}{
		"no name":            {func(r *StaffRegistration) { r.NameZH = "" }, "name_zh"},
		"no type":            {func(r *StaffRegistration) { r.IDDocType = "" }, "id_doc_type"},
		"no number":          {func(r *StaffRegistration) { r.IDDocNumber = " " }, "id_doc_number"},
		"macau id too short": {func(r *StaffRegistration) { r.IDDocNumber = "123456(7)" }, "id_doc_number"},
		"passport of 3":      {func(r *StaffRegistration) { r.IDDocType, r.IDDocNumber = IDPassport, "K12" }, "id_doc_number"},
		"no birth date":      {func(r *StaffRegistration) { r.BirthDate = "" }, "birth_date"},
		"born tomorrow":      {func(r *StaffRegistration) { r.BirthDate = "2026-11-26" }, "birth_date"},
		"born in 1850":       {func(r *StaffRegistration) { r.BirthDate = "1850-01-01" }, "birth_date"},
		"a child":            {func(r *StaffRegistration) { r.BirthDate = "2020-01-01" }, "birth_date"},
		"mobile of HK":       {func(r *StaffRegistration) { r.Mobile = "+852 91234567" }, "mobile"},
		"bad e-mail":         {func(r *StaffRegistration) { r.Email = "Chan <chan@example.mo>" }, "email"},
		"no language":        {func(r *StaffRegistration) { r.Language = "" }, "language"},
		"NUL in a name":      {func(r *StaffRegistration) { r.NameForeign = "a\x00b" }, "name_zh"},
	} {
		r := good
		tc.change(&r)
		_, err := r.Validate(now)
		fields := FieldErrors(err)
		if len(fields) != 1 || fields[0].Field != tc.field || CodeOf(err) != EInvalid {
			t.Errorf("%s: %v (fields %v), want one error on %s", name, err, fields, tc.field)
		}
	}
	// Every wrong field is reported at once.
	_, err = StaffRegistration{}.Validate(now)
	if n := len(FieldErrors(err)); n != 4 { // names, document type, birth date, language
		t.Errorf("an empty form reports %d field errors: %v", n, err)
	}
}
