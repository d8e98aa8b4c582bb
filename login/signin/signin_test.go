package signin

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/storagetest"
)

// oneAccount is a directory holding one account whose hash the test changes.
type oneAccount struct {
	storage.Directory
	p storage.Principal
}

func (d *oneAccount) PrincipalBySubject(context.Context, string) (storage.Principal, error) {
	return d.p, nil
}

// A sign-in whose password was checked just before a password change (or a
// deletion) must not leave a session behind: the change's sweep of the
// account's sessions ran before this session existed.
func TestStartSessionRechecksCredentials(t *testing.T) {
	state := storagetest.NewRedis(t)
	signedIn := storage.Principal{Kind: storage.KindStaff, ID: 1, Subject: "CU000000999", EntityNumber: "02-000021",
		PasswordHash: "hash-checked", Activated: true, Status: storage.StatusActive, EntityActive: true}
	dir := &oneAccount{p: signedIn}
	k := &kit.Kit{Config: kit.Config{SessionIdle: time.Minute}, Dir: dir, State: state, Now: time.Now}
	h := &credentialCheck{k: k, cfg: Config{SessionMax: time.Hour}}

	for name, change := range map[string]func(*storage.Principal){
		"password changed meanwhile": func(p *storage.Principal) { p.PasswordHash = "hash-after-change" },
		"deleted meanwhile":          func(p *storage.Principal) { p.Status = storage.StatusDeleted },
	} {
		dir.p = signedIn
		change(&dir.p)
		w := httptest.NewRecorder()
		if _, err := h.StartSession(w, httptest.NewRequest("POST", "/login", nil), signedIn); !errors.Is(err, errCredentialsChanged) {
			t.Fatalf("%s: err = %v, want errCredentialsChanged", name, err)
		}
		if len(w.Result().Cookies()) != 0 {
			t.Fatalf("%s: a session cookie was set: %v", name, w.Result().Cookies())
		}
	}

	dir.p = signedIn
	w := httptest.NewRecorder()
	sess, err := h.StartSession(w, httptest.NewRequest("POST", "/login", nil), signedIn)
	if err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies = %v, want the session cookie", cookies)
	}
	if got, err := state.Session(context.Background(), cookies[0].Value, time.Minute); err != nil || got.SessionID != sess.SessionID {
		t.Fatalf("the session is not live: %v %v", got, err)
	}
}
