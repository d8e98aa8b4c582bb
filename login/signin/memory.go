package signin

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/entity-account/idp/login/seal"
	"github.com/entity-account/idp/storage"
)

// The entity numbers this browser remembers (記住此實體編號): a person who
// works for several entities has one login per entity and types the
// entity number at every sign-in. If they tick the box, the number they
// signed in with, and its entity's name as read at that sign-in, are kept in
// a cookie of ours in this browser alone, and the sign-in page offers them
// to pick. Nothing else is kept: never a username, never a password.
//
// The names travel in the cookie rather than being looked up when the page
// is drawn: the sign-in page is anonymous, and showing it must cost the
// directory nothing; the name shown is the one the person saw the entity
// by when they last signed in with it, renewed at every such sign-in.
//
// The cookie is sealed (AES-GCM under a key derived from the master key for
// this purpose alone): the browser can neither read nor alter it, so a
// number on the list is one this provider wrote after a sign-in. One that
// does not open (another key, altered bytes, an old format) is dropped
// without a word: it only spares typing.

// rememberedEntity is one remembered entity number with its entity's names.
type rememberedEntity struct {
	Number string `json:"n"`
	NameZH string `json:"z,omitempty"`
	NamePT string `json:"p,omitempty"`
}

// Name is the entity's name in lang (storage.Names.In).
func (e rememberedEntity) Name(lang string) string {
	return storage.Names{ZH: e.NameZH, PT: e.NamePT}.In(lang)
}

// Bounds of the cookie: at most maxRemembered numbers, the oldest dropped
// first; names cut at maxRememberedName characters; and the cookie's value
// at most maxMemoryCookie bytes (browsers keep a cookie of up to 4096
// bytes, its name included), again by dropping the oldest.
const (
	maxRemembered     = 10
	maxRememberedName = 80
	maxMemoryCookie   = 3800
	memoryCookie      = "idp_entities"
	memoryMaxAge      = 400 * 24 * 60 * 60 // the longest browsers keep a cookie
)

// entityMemory reads and writes the cookie of the remembered numbers.
type entityMemory struct {
	sealer *seal.Sealer // nil: the sign-in remembers nothing
	path   string       // the sign-in's path: the cookie goes nowhere else
	secure bool
}

// on reports whether the sign-in remembers entity numbers at all.
func (m *entityMemory) on() bool { return m != nil && m.sealer != nil }

// read returns the numbers this browser remembers, newest first. A cookie
// that does not open, or holds what we never write, is cleared on w and
// counts as none.
func (m *entityMemory) read(w http.ResponseWriter, r *http.Request) []rememberedEntity {
	if !m.on() {
		return nil
	}
	c, err := r.Cookie(memoryCookie)
	if err != nil {
		return nil
	}
	list, ok := m.open(c.Value)
	if !ok {
		m.write(w, nil)
		return nil
	}
	return list
}

// open returns the list sealed in value; ok is false when value is not one.
func (m *entityMemory) open(value string) ([]rememberedEntity, bool) {
	if len(value) > maxMemoryCookie {
		return nil, false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return nil, false
	}
	plain, err := m.sealer.Open(sealed, []byte(memoryCookie))
	if err != nil {
		return nil, false
	}
	var list []rememberedEntity
	if err := json.Unmarshal(plain, &list); err != nil || len(list) > maxRemembered {
		return nil, false
	}
	for _, e := range list {
		if n, ok := storage.NormalizeEntityNumber(e.Number); !ok || n != e.Number {
			return nil, false
		}
	}
	return list, true
}

// write sets the cookie to list; an empty list deletes it.
func (m *entityMemory) write(w http.ResponseWriter, list []rememberedEntity) {
	value, maxAge := "", -1
	for len(list) > 0 {
		v, err := m.seal(list)
		if err != nil {
			return // no randomness: the cookie stays as it was
		}
		if len(v) <= maxMemoryCookie {
			value, maxAge = v, memoryMaxAge
			break
		}
		list = list[:len(list)-1]
	}
	http.SetCookie(w, &http.Cookie{Name: memoryCookie, Value: value, Path: m.path, MaxAge: maxAge,
		HttpOnly: true, Secure: m.secure, SameSite: http.SameSiteLaxMode})
}

func (m *entityMemory) seal(list []rememberedEntity) (string, error) {
	plain, err := json.Marshal(list)
	if err != nil {
		return "", err
	}
	sealed, err := m.sealer.Seal(plain, []byte(memoryCookie))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// afterSignIn updates the cookie after a sign-in of p: its entity number
// goes first on the list when the box was ticked, and off the list when it
// was not. The cookie is written only when the list changes or is renewed.
func (m *entityMemory) afterSignIn(w http.ResponseWriter, r *http.Request, p storage.Principal, ticked bool) {
	if !m.on() {
		return
	}
	list := m.read(w, r)
	switch {
	case ticked:
		m.write(w, remember(list, rememberedEntity{
			Number: p.EntityNumber, NameZH: cut(p.EntityNameZH, maxRememberedName), NamePT: cut(p.EntityNamePT, maxRememberedName),
		}))
	case remembered(list, p.EntityNumber):
		m.write(w, forget(list, p.EntityNumber))
	}
}

// remember puts e first on list, once, keeping at most maxRemembered.
func remember(list []rememberedEntity, e rememberedEntity) []rememberedEntity {
	out := append([]rememberedEntity{e}, forget(list, e.Number)...)
	if len(out) > maxRemembered {
		out = out[:maxRemembered]
	}
	return out
}

// forget is list without number.
func forget(list []rememberedEntity, number string) []rememberedEntity {
	return slices.DeleteFunc(slices.Clone(list), func(e rememberedEntity) bool { return e.Number == number })
}

// remembered reports whether number is on list.
func remembered(list []rememberedEntity, number string) bool {
	return slices.ContainsFunc(list, func(e rememberedEntity) bool { return e.Number == number })
}

// cut is s cut to at most n characters.
func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
