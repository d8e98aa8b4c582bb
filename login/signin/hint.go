package signin

import (
	"strings"

	"github.com/entity-account/idp/storage"
)

// hintedCredentials reads an authorization request's login_hint (OIDC
// Core §3.1.2.1): an entity number alone ("02-000021"), or an entity
// number and a username joined by a colon ("02-000021:staff01"). It only
// fills in the form: the person still types the password, and nothing else
// reads the hint. The parts are read by the one reader of each
// (storage.NormalizeEntityNumber, storage.NormalizeUsername) and shown in
// their canonical form; a hint in any other form, or with a part that
// cannot be what it says, fills in nothing.
func hintedCredentials(hint string) Credentials {
	number, username, withUsername := strings.Cut(hint, ":")
	n, ok := storage.NormalizeEntityNumber(number)
	if !ok {
		return Credentials{}
	}
	if !withUsername {
		return Credentials{EntityNumber: n}
	}
	u, ok := storage.NormalizeUsername(username)
	if !ok {
		return Credentials{}
	}
	return Credentials{EntityNumber: n, Username: u}
}
