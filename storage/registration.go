package storage

import (
	"errors"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"golang.org/x/text/width"
)

// The registration form of a staff login (工作人員登入號及關聯至實體): every
// field's rule, and the normalised form each value is stored in.

// Identity document types (身份證明文件類別).
const (
	IDMacauPermanent    = "macau_permanent_id"     // 澳門永久居民身份證
	IDMacauNonPermanent = "macau_non_permanent_id" // 澳門非永久居民身份證
	IDPassport          = "passport"               // 護照
	IDOther             = "other"                  // 其他
)

// IDDocTypes lists the identity document types, in the form's order.
var IDDocTypes = []string{IDMacauPermanent, IDMacauNonPermanent, IDPassport, IDOther}

// Languages a login may use (使用語言).
var Languages = []string{"zh-Hant", "pt", "en"}

// StaffRegistration is the registration form as typed.
type StaffRegistration struct {
	NameZH, NameForeign string
	IDDocType           string
	IDDocNumber         string
	IDDocIssuePlace     string
	BirthDate           string // as typed; see ParseBirthDate
	Mobile              string // Macau mobile: 8 digits starting with 6, with or without +853
	Email               string
	Language            string
}

var (
	macauIDPattern = regexp.MustCompile(`^[0-9]{8}$`)       // 1234567(8) normalised
	passportID     = regexp.MustCompile(`^[A-Z0-9]{5,20}$`) // letters and digits of a passport number
	otherID        = regexp.MustCompile(`^[A-Z0-9]{1,32}$`)
	macauMobile    = regexp.MustCompile(`^6[0-9]{7}$`)
)

// NormalizeMacauMobile returns a Macau mobile number in its stored form,
// "+853" and eight digits starting with 6, from what people type: spaces,
// hyphens, brackets, full-width digits, and a +853 / 853 / 00853 prefix or
// none. ok is false when it is not such a number.
func NormalizeMacauMobile(s string) (string, bool) {
	if !CleanText(s, 64) {
		return "", false
	}
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' {
			return -1
		}
		return r
	}, width.Narrow.String(strings.TrimSpace(s)))
	for _, prefix := range []string{"+853", "00853", "853"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok && len(rest) == 8 {
			s = rest
			break
		}
	}
	if !macauMobile.MatchString(s) {
		return "", false
	}
	return "+853" + s, true
}

// NormalizeIDDocNumberFor returns the stored form of an identity document
// number of docType: a Macau resident ID as 1234567(8), others in upper-case
// letters and digits. ok is false when the number cannot be one of that type.
func NormalizeIDDocNumberFor(docType, number string) (string, bool) {
	n := NormalizeIDDocNumber(number)
	switch docType {
	case IDMacauPermanent, IDMacauNonPermanent:
		if !macauIDPattern.MatchString(n) {
			return "", false
		}
		return n[:7] + "(" + n[7:] + ")", true
	case IDPassport:
		return n, passportID.MatchString(n)
	case IDOther:
		return n, otherID.MatchString(n)
	}
	return "", false
}

// MaxNameLength is the longest name, and place of issue, of a staff login's
// registration, in characters (the forms' maxlength says the same).
const MaxNameLength = 100

// MaxEmailLength is the longest e-mail address (RFC 5321: 254 octets, all
// ASCII in the addresses accepted, so characters too).
const MaxEmailLength = 254

// fieldError is an invalid form field.
func fieldError(field, key, message string) *Error {
	return &Error{Code: EInvalid, Field: field, Key: key, Message: message, Err: ErrInvalid}
}

// Validate checks every field at now and returns the staff login the form
// registers (its values normalised) or, when any field is wrong, an error
// joining one *Error per wrong field (errors.As finds the first; FieldErrors
// lists them all).
func (r StaffRegistration) Validate(now time.Time) (StaffLogin, error) {
	var errs []error
	bad := func(field, key, message string) { errs = append(errs, fieldError(field, key, message)) }
	sl := StaffLogin{
		NameZH: strings.TrimSpace(r.NameZH), NameForeign: strings.TrimSpace(r.NameForeign),
		IDDocType: r.IDDocType, IDDocIssuePlace: strings.TrimSpace(r.IDDocIssuePlace),
		Email: strings.TrimSpace(r.Email), Language: r.Language, Status: StatusActive,
	}
	switch {
	case sl.NameZH == "" && sl.NameForeign == "":
		bad("name_zh", "reg_error_name", "A Chinese or a Portuguese/foreign name is required.")
	case !CleanText(sl.NameZH, MaxNameLength) || !CleanText(sl.NameForeign, MaxNameLength):
		bad("name_zh", "reg_error_name", "A name is at most 100 characters, without control characters.")
	}
	if !contains(IDDocTypes, sl.IDDocType) {
		bad("id_doc_type", "reg_error_id_type", "Choose the type of identity document.")
	} else if strings.TrimSpace(r.IDDocNumber) == "" {
		bad("id_doc_number", "reg_error_id_number", "The identity document number is required.")
	} else if n, ok := NormalizeIDDocNumberFor(sl.IDDocType, r.IDDocNumber); !ok {
		bad("id_doc_number", "reg_error_id_number", "The identity document number does not have the form of this type of document.")
	} else {
		sl.IDDocNumber = n
	}
	if !CleanText(sl.IDDocIssuePlace, MaxNameLength) {
		bad("id_doc_issue_place", "reg_error_issue_place", "The place of issue is at most 100 characters.")
	}
	if d, err := ReadDate(r.BirthDate); errors.Is(err, ErrNoSuchDate) {
		bad("birth_date", "reg_error_birth_date_nonexistent", "The birth date does not exist in the calendar (e.g. 30 February).")
	} else if err != nil {
		bad("birth_date", "reg_error_birth_date", "The birth date is required, as year-month-day (e.g. 1990-01-31).")
	} else if d.After(now) || d.Before(now.AddDate(-120, 0, 0)) || d.After(now.AddDate(-14, 0, 0)) {
		bad("birth_date", "reg_error_birth_date_range", "The birth date is not plausible for a member of staff.")
	} else {
		sl.BirthDate = d
	}
	if strings.TrimSpace(r.Mobile) != "" {
		if m, ok := NormalizeMacauMobile(r.Mobile); ok {
			sl.Mobile = m
		} else {
			bad("mobile", "reg_error_mobile", "A Macau mobile number has 8 digits and starts with 6.")
		}
	}
	if sl.Email != "" {
		if a, err := mail.ParseAddress(sl.Email); err != nil || a.Address != sl.Email || len(sl.Email) > MaxEmailLength || !CleanText(sl.Email, MaxEmailLength) {
			bad("email", "reg_error_email", "The e-mail address is not valid.")
		}
	}
	if !contains(Languages, sl.Language) {
		bad("language", "reg_error_language", "Choose a language: zh-Hant, pt or en.")
	}
	if len(errs) > 0 {
		return StaffLogin{}, errors.Join(errs...)
	}
	return sl, nil
}

// FieldErrors lists the field errors err carries (Validate joins them).
func FieldErrors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if e, ok := err.(*Error); ok {
			out = append(out, e)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
