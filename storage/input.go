package storage

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Input rules for what people and clients type. Every value is checked and
// normalised at the edge, before it becomes a lookup, a rate-limit key or an
// audit field: two spellings of one fact must count as one, and bytes no
// store accepts (NUL, invalid UTF-8) are a wrong value, never a store error.

// CleanText reports whether s is valid UTF-8 without control characters
// (C0, DEL, C1) and at most max characters (runes) long: a limit a person
// reads ("200 characters") is counted as they count, so that 67 Chinese
// characters, 201 bytes, are not refused under a limit of 200. Such a value
// can be stored, logged and compared; anything else is refused as a bad
// request. A character takes at most 4 bytes in UTF-8, so a value over
// 4*max bytes is refused before it is read at all: the work stays bounded
// by max whatever length is sent.
func CleanText(s string, max int) bool {
	if len(s) > utf8.UTFMax*max || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// NormalizeEntityNumber returns the canonical form of an entity number
// ("02-000021"): full-width digits and punctuation become ASCII, spaces and
// separators ('-', ' ', '/', '.') are dropped, and the eight digits are
// written as two, a hyphen and six. ok is false when s cannot be an entity
// number at all (more than MaxEntityNumberInput characters, other
// characters, not eight digits). It is the one reader of entity numbers:
// every form, command and API takes them through it, and the department
// API's document states its rule as a pattern (tested to agree).
func NormalizeEntityNumber(s string) (canonical string, ok bool) {
	if !CleanText(s, MaxEntityNumberInput) {
		return "", false
	}
	var digits []byte
	for _, r := range width.Narrow.String(s) {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '-' || r == ' ' || r == '/' || r == '.':
		default:
			return "", false
		}
	}
	if len(digits) != 8 {
		return "", false
	}
	return string(digits[:2]) + "-" + string(digits[2:]), true
}

// MaxEntityNumberInput is the longest entity number read, in characters.
const MaxEntityNumberInput = 64

// NormalizeUsername returns the lookup form of a typed username (trimmed,
// lower case), and whether it obeys the username rule at all; one that
// does not cannot name an account.
func NormalizeUsername(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !ValidUsername(s) {
		return "", false
	}
	return strings.ToLower(s), true
}

// NormalizeIDDocNumber reduces an identity document number to its upper-case
// ASCII letters and digits, so that "1234567(8)", "12345678" and
// "1234567 (8)" compare equal (full-width forms too). It is the twin of the
// SQL in storage/postgres.
func NormalizeIDDocNumber(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToUpper(width.Narrow.String(s)) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// ParseBirthDate reads a date as people write it: year first, with '-', '/'
// or '.' between the parts, months and days with or without a leading zero
// ("1990-01-02", "1990/1/2", "1990.1.2"), in Chinese ("1990年1月2日"), or
// the eight digits alone ("19900102"); or day first with '-', '/' or '.'
// ("02/01/1990"), as Macau documents print it. Full-width digits count.
// Month first (the United States' "01/31/1990") is not read: a day over 12
// makes it fail, and one of 12 or under would read as another date.
func ParseBirthDate(s string) (time.Time, bool) {
	d, err := ReadDate(s)
	return d, err == nil
}

// Why ReadDate read no date.
var (
	// ErrDateUnreadable: not a date in a form ParseBirthDate reads.
	ErrDateUnreadable = errors.New("not a date in a form we read")
	// ErrNoSuchDate: a date in such a form whose day the calendar lacks
	// (1990-02-30, 2023-02-29, 31/04/1990).
	ErrNoSuchDate = errors.New("no such day in the calendar")
)

// dateShapes are the forms ParseBirthDate reads, once separators are '-':
// where each holds its year, month and day.
var dateShapes = []struct {
	re      *regexp.Regexp
	y, m, d int
}{
	{regexp.MustCompile(`^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$`), 1, 2, 3},
	{regexp.MustCompile(`^([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})$`), 3, 2, 1},
	{regexp.MustCompile(`^([0-9]{4})([0-9]{2})([0-9]{2})$`), 1, 2, 3},
}

// ReadDate is ParseBirthDate telling why it read no date: a day the
// calendar lacks is ErrNoSuchDate, so that the person is told the date does
// not exist rather than to write it differently; anything else
// ErrDateUnreadable (a month over 12 or a day over 31 among them: the parts
// are then not a month and a day).
func ReadDate(s string) (time.Time, error) {
	s = strings.TrimSpace(width.Narrow.String(s))
	if !CleanText(s, 32) {
		return time.Time{}, ErrDateUnreadable
	}
	s = strings.NewReplacer("/", "-", ".", "-", " ", "", "年", "-", "月", "-", "日", "").Replace(s)
	for _, shape := range dateShapes {
		m := shape.re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		y, _ := strconv.Atoi(m[shape.y])
		mon, _ := strconv.Atoi(m[shape.m])
		day, _ := strconv.Atoi(m[shape.d])
		if y < 1900 || mon < 1 || mon > 12 || day < 1 || day > 31 {
			return time.Time{}, ErrDateUnreadable
		}
		d := time.Date(y, time.Month(mon), day, 0, 0, 0, 0, time.UTC)
		if d.Day() != day {
			return time.Time{}, ErrNoSuchDate
		}
		return d, nil
	}
	return time.Time{}, ErrDateUnreadable
}

// NormalizeCode reduces a one-time code as a person may type it — with
// spaces or a hyphen between groups, in full-width digits — to its digits.
// Anything else is kept, so that a code with a letter stays wrong.
func NormalizeCode(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '０' && r <= '９':
			b.WriteRune('0' + r - '０')
		case r == ' ' || r == '-' || r == '\u3000' || r == '\t':
		default:
			b.WriteRune(r)
		}
		if b.Len() > 64 {
			break
		}
	}
	return b.String()
}

// echoableParameter is what a parameter name may look like to be echoed
// in an answer (an error description, a WWW-Authenticate header).
var echoableParameter = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// RepeatedParameter finds a parameter sent more than once in form (a
// request's query and body together), which a protocol request may not
// hold (RFC 6749 §3.1, §3.2), and names it for the answer: "parameter
// scope", or "a parameter" when its name is nothing a client would send
// (never echoed). "" when none is repeated.
func RepeatedParameter(form map[string][]string) string {
	for name, values := range form {
		if len(values) > 1 {
			if echoableParameter.MatchString(name) {
				return "parameter " + name
			}
			return "a parameter"
		}
	}
	return ""
}

// SignInFailKey is the counter of failed sign-ins of the account named by
// (entity number, username), as typed: both are normalised first, so that
// two spellings of one account share it. The sign-in reserves an attempt
// under it; a full counter is the account's lockout, which the staff pages
// show and an admin or a password reset lifts.
func SignInFailKey(entityNumber, username string) string {
	if n, ok := NormalizeEntityNumber(entityNumber); ok {
		entityNumber = n
	}
	if u, ok := NormalizeUsername(username); ok {
		username = u
	} else {
		username = strings.ToLower(username)
	}
	return "login-fail:acct:" + entityNumber + "\x00" + username
}
