package storage

import "strings"

// Masking of personal numbers on lists and pages: every surface shows an
// identity document number and a phone number the same way, enough for the
// holder and an admin to recognise them and no more.

// MaskDocNumber keeps the first three characters of an identity document
// number and its last one, a check digit in brackets with its brackets, and
// hides the rest: a Macau ID card 1234567(8) shows as 123****(8), passport
// P12345678 as P12*****8. A number of four characters or fewer shows only
// its end (1(8) as *(8)); "" stays "".
func MaskDocNumber(s string) string {
	r := []rune(strings.TrimSpace(s))
	n := len(r)
	if n == 0 {
		return ""
	}
	tail := 1
	if n >= 3 && r[n-1] == ')' && r[n-3] == '(' {
		tail = 3
	}
	head := 3
	if n <= 4 {
		head = 0
	}
	if head+tail >= n {
		head = max(n-tail-1, 0)
	}
	if tail >= n {
		tail = n - 1 // something is always hidden
	}
	for i := head; i < n-tail; i++ {
		r[i] = '*'
	}
	return string(r)
}

// MaskPhone shows only the last four digits of a phone number, the others
// (and any country code) as asterisks: +85366123456 shows as ****3456. A
// number of four digits or fewer shows as **** alone; "" stays "".
func MaskPhone(s string) string {
	var digits []rune
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	switch {
	case strings.TrimSpace(s) == "":
		return ""
	case len(digits) <= 4:
		return "****"
	}
	return "****" + string(digits[len(digits)-4:])
}

// StaffMatches reports whether a staff login matches typed search text the
// way the staff list's search does (storage/postgres StaffList): any part
// of the username, names or EUID, case-insensitively, or of the identity
// document number normalised, from three characters on. Empty text matches
// every login.
func StaffMatches(sl StaffLogin, search string) bool {
	q := strings.ToLower(strings.TrimSpace(search))
	if q == "" {
		return true
	}
	for _, v := range []string{sl.Username, sl.NameZH, sl.NameForeign, sl.EUID} {
		if strings.Contains(strings.ToLower(v), q) {
			return true
		}
	}
	doc := NormalizeIDDocNumber(q)
	return len(doc) >= 3 && strings.Contains(NormalizeIDDocNumber(sl.IDDocNumber), doc)
}
