package history

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/entity-account/idp/storage"
)

// subjectPattern is what a filter's login takes: an EUID or an entity
// account's subject.
var subjectPattern = regexp.MustCompile(`^(CU|EA)[0-9]{9}$`)

var (
	errLogin  = storage.Errorf(storage.EInvalid, "The login must be an EUID, e.g. CU000000126.").WithKey("history_error_login")
	errDate   = storage.Errorf(storage.EInvalid, "A date must be YYYY-MM-DD.").WithKey("history_error_range")
	errCursor = storage.Errorf(storage.EInvalid, "The page address is not one of ours.").WithKey("history_error_range")
)

// ParseFilter reads a filter as the portal's address and the operator's
// command give it: login (an EUID, any case), outcome, from and to (days,
// YYYY-MM-DD, in zone) and after (a page cursor). A value that cannot be
// one is refused (EInvalid with its catalogue key), never guessed.
func ParseFilter(q url.Values, zone *time.Location) (Filter, error) {
	var f Filter
	if s := strings.ToUpper(strings.TrimSpace(q.Get("login"))); s != "" {
		if !subjectPattern.MatchString(s) {
			return f, errLogin
		}
		f.Subject = s
	}
	if o := q.Get("outcome"); o != "" {
		if !storage.ValidSignInOutcome(o) {
			return f, errOutcome
		}
		f.Outcome = storage.SignInOutcome(o)
	}
	for _, d := range []struct {
		name string
		t    *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if s := q.Get(d.name); s != "" {
			t, err := time.ParseInLocation(time.DateOnly, s, zone)
			if err != nil {
				return f, errDate
			}
			*d.t = t
		}
	}
	after, ok := ParseCursor(q.Get("after"))
	if !ok {
		return f, errCursor
	}
	f.After = after
	return f, nil
}
