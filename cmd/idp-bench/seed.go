package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
)

// The bench world: entity 99-000001 with N activated staff logins sharing one
// password, the e-service "bench" (policy enrolled, so every staff login of
// the entity may use it) and two clients.
const (
	benchEntity     = "99-000001"
	benchService    = "bench"
	benchDepartment = "BENCH"
	publicClientID  = "bench-mobile"
	confClientID    = "bench-web"
	machineClientID = "bench-machine" // the department BENCH's machine client (client_credentials)
	// Any port is accepted on the native loopback redirect (RFC 8252); nothing
	// listens there: the bench reads the code from the Location header.
	publicRedirect = "http://127.0.0.1/callback"
	confRedirect   = "http://127.0.0.1:9/bench/callback"
)

// clientInfo is a client as the bench uses it.
type clientInfo struct {
	ID          string `json:"client_id"`
	Secret      string `json:"-"`
	RedirectURI string `json:"redirect_uri"`
}

// world is what the scenarios need to know about the seeded data.
type world struct {
	EntityNumber string     `json:"entity_number"`
	Usernames    []string   `json:"-"`
	Password     string     `json:"-"`
	Public       clientInfo `json:"public_client"`
	Confidential clientInfo `json:"confidential_client"`
	Machine      clientInfo `json:"machine_client"`
}

func benchWorld(logins int, pw, secret string) world {
	w := world{EntityNumber: benchEntity, Password: pw,
		Public:       clientInfo{ID: publicClientID, RedirectURI: "http://127.0.0.1:9/callback"},
		Confidential: clientInfo{ID: confClientID, Secret: secret, RedirectURI: confRedirect},
		Machine:      clientInfo{ID: machineClientID, Secret: secret}}
	for i := 1; i <= logins; i++ {
		w.Usernames = append(w.Usernames, fmt.Sprintf("bench%04d", i))
	}
	return w
}

var actor = storage.Actor{Kind: "operator", ID: "idp-bench"}

// seed creates whatever of the bench world is missing; running it again
// changes nothing. All logins get one hash of the one password (hashing N
// passwords would only cost time: the server verifies any valid hash).
func seed(ctx context.Context, pg *postgres.Store, hasher *password.Hasher, w world) error {
	dept, err := pg.DepartmentByCode(ctx, benchDepartment)
	if errors.Is(err, storage.ErrNotFound) {
		dept = storage.Department{Code: benchDepartment, NameZH: "效能測試部門"}
		err = pg.CreateDepartment(ctx, actor, &dept)
	}
	if err != nil {
		return fmt.Errorf("bench department: %w", err)
	}
	sv, err := pg.ServiceByCode(ctx, benchService)
	if errors.Is(err, storage.ErrNotFound) {
		sv = storage.Service{Code: benchService, DepartmentID: dept.ID, NameZH: "效能測試服務", NameEN: "Load test e-service",
			AccessPolicy: storage.PolicyEnrolled}
		err = pg.CreateService(ctx, actor, &sv)
	}
	if err != nil {
		return fmt.Errorf("bench e-service: %w", err)
	}
	entity, err := pg.EntityByNumber(ctx, w.EntityNumber)
	if errors.Is(err, storage.ErrNotFound) {
		entity = storage.Entity{Number: w.EntityNumber, NameZH: "效能測試實體", Kind: "company", Status: "active"}
		err = pg.CreateEntity(ctx, actor, &entity, &storage.EntityAccount{ApplicationNumber: "BENCH-000001", Language: "zh-Hant"})
	}
	if err != nil {
		return fmt.Errorf("bench entity: %w", err)
	}
	if _, err := pg.EnrollEntity(ctx, actor, sv.ID, entity.ID); err != nil {
		return err
	}
	if err := seedLogins(ctx, pg, hasher, entity.ID, w); err != nil {
		return err
	}
	if err := ensureClient(ctx, pg, sv, w.Public, publicRedirect); err != nil {
		return err
	}
	if err := ensureClient(ctx, pg, sv, w.Confidential, confRedirect); err != nil {
		return err
	}
	return ensureMachineClient(ctx, pg, dept, w.Machine)
}

func seedLogins(ctx context.Context, pg *postgres.Store, hasher *password.Hasher, entityID int64, w world) error {
	existing, err := pg.StaffLogins(ctx, entityID)
	if err != nil {
		return err
	}
	byName := map[string]storage.StaffLogin{}
	for _, sl := range existing {
		byName[sl.Username] = sl
	}
	hash, err := hasher.Hash(ctx, w.Password)
	if err != nil {
		return err
	}
	// Existing logins keep their hash if it is of this password (checked once:
	// they were all seeded with one hash); otherwise they all get the new one.
	stale := true
	for _, sl := range existing {
		if sl.PasswordHash != "" {
			ok, _, err := hasher.Verify(ctx, sl.PasswordHash, w.Password)
			stale = err != nil || !ok
			break
		}
	}
	for i, name := range w.Usernames {
		sl, ok := byName[name]
		switch {
		case !ok:
			if err := createLogin(ctx, pg, entityID, i+1, name, hash); err != nil {
				return fmt.Errorf("staff login %s: %w", name, err)
			}
		case stale && sl.PasswordHash != hash:
			if err := pg.UpdatePasswordHash(ctx, storage.KindStaff, sl.ID, sl.PasswordHash, hash); err != nil {
				return fmt.Errorf("staff login %s: %w", name, err)
			}
		}
	}
	return nil
}

func createLogin(ctx context.Context, pg *postgres.Store, entityID int64, i int, name, hash string) error {
	sl := storage.StaffLogin{EntityID: entityID, NameZH: "效能測試", NameForeign: fmt.Sprintf("BENCH %d", i),
		IDDocType: "macau_permanent_id", IDDocNumber: fmt.Sprintf("9%06d(0)", i), IDDocIssuePlace: "澳門",
		BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), Language: "zh-Hant"}
	if err := pg.CreateStaffLogin(ctx, actor, &sl); err != nil {
		return err
	}
	return pg.ActivateStaffLogin(ctx, actor, sl.ID, name, hash)
}

// ensureClient registers c, or checks that the registered one is usable.
func ensureClient(ctx context.Context, pg *postgres.Store, sv storage.Service, c clientInfo, redirect string) error {
	var sum []byte
	if c.Secret != "" {
		s := sha256.Sum256([]byte(c.Secret)) // as op/client.go checks it
		sum = s[:]
	}
	got, err := pg.Client(ctx, c.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return pg.CreateClient(ctx, actor, &storage.Client{ID: c.ID, ServiceID: sv.ID, Name: "效能測試 " + c.ID,
			SecretHash: sum, Public: c.Secret == "", RedirectURIs: []string{redirect}})
	}
	if err != nil {
		return err
	}
	if got.ServiceID != sv.ID || (sum != nil && subtle.ConstantTimeCompare(got.SecretHash, sum) != 1) {
		return fmt.Errorf("client %s exists with another e-service or secret: use the secret it was seeded with (-client-secret)", c.ID)
	}
	return nil
}

// ensureMachineClient registers the department's machine client c, or
// checks that the registered one is usable.
func ensureMachineClient(ctx context.Context, pg *postgres.Store, dept storage.Department, c clientInfo) error {
	sum := sha256.Sum256([]byte(c.Secret)) // as op/client.go checks it
	got, err := pg.Client(ctx, c.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return pg.CreateClient(ctx, actor, &storage.Client{ID: c.ID, Kind: storage.ClientMachine, DepartmentID: dept.ID,
			Name: "效能測試 " + c.ID, SecretHash: sum[:], Scopes: []string{storage.ScopeDepartmentRead}})
	}
	if err != nil {
		return err
	}
	if got.Kind != storage.ClientMachine || got.DepartmentID != dept.ID || subtle.ConstantTimeCompare(got.SecretHash, sum[:]) != 1 {
		return fmt.Errorf("client %s exists with another kind, department or secret: use the secret it was seeded with (-client-secret)", c.ID)
	}
	return nil
}
