// Package register holds the use cases of the register of relying parties:
// registering a department, an e-service of a department (with its groups)
// and a client of an e-service or of a department. Only the operator keeps
// the register (storage.CanRegisterDepartment, CanRegisterService,
// CanRegisterClient). Each use case asks the rule book, then writes with its
// audit event in one transaction; the operator's commands call them, and so
// will any page of the operator's.
package register

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/entity-account/idp/storage"
)

// Directory is what the register needs of the durable store (storage/postgres).
type Directory interface {
	DepartmentByCode(ctx context.Context, code string) (storage.Department, error)
	ServiceByCode(ctx context.Context, code string) (storage.Service, error)
	CreateDepartment(ctx context.Context, actor storage.Actor, d *storage.Department) error
	CreateService(ctx context.Context, actor storage.Actor, sv *storage.Service, groups ...*storage.Group) error
	CreateClient(ctx context.Context, actor storage.Actor, c *storage.Client) error
	RenameDepartment(ctx context.Context, actor storage.Actor, code string, names storage.DepartmentNames) (storage.Department, bool, error)
	SetServiceAccessPolicy(ctx context.Context, actor storage.Actor, sv storage.Service, p storage.AccessPolicy) (storage.AccessPolicy, error)
	SetServiceSettings(ctx context.Context, actor storage.Actor, sv storage.Service, level storage.Level, p storage.AccessPolicy) (storage.Level, storage.AccessPolicy, error)
}

// ServicesNotifier tells every node that the settings of e-services
// changed (storage.ChangeNotices.PublishServicesChanged), so that each
// drops what it caches of them at once rather than at its cache's TTL.
type ServicesNotifier interface {
	PublishServicesChanged(ctx context.Context, serviceIDs ...int64) error
}

// Register runs the use cases over a Directory.
type Register struct {
	dir      Directory
	services ServicesNotifier // nil: the caches' TTL applies
}

// New returns the register's use cases over dir, publishing the changes of
// e-services' settings through services (nil: a command without Redis).
func New(dir Directory, services ServicesNotifier) *Register {
	return &Register{dir: dir, services: services}
}

// ErrNoDepartment is the refusal of a registration that names a department
// that is not registered.
var ErrNoDepartment = &storage.Error{Code: storage.ENotFound, Message: "There is no such department.", Err: storage.ErrNotFound}

func forbidden(what string) error {
	return &storage.Error{Code: storage.EForbidden, Message: "You may not register " + what + ".", Err: storage.ErrForbidden}
}

// Department registers d (its code and names) and fills d.ID. A taken code
// gives storage.ErrAlreadyExists.
func (r *Register) Department(ctx context.Context, actor storage.Actor, d *storage.Department) error {
	if !storage.CanRegisterDepartment(actor) {
		return forbidden("a department")
	}
	if err := storage.ActorMay(actor, storage.ActRegisterDepartment); err != nil {
		return err
	}
	return r.dir.CreateDepartment(ctx, actor, d)
}

// EnsureDepartment returns the department code, registering it with the
// Chinese name nameZH if it is not registered yet.
func (r *Register) EnsureDepartment(ctx context.Context, actor storage.Actor, code, nameZH string) (storage.Department, error) {
	d, err := r.dir.DepartmentByCode(ctx, code)
	if errors.Is(err, storage.ErrNotFound) {
		d = storage.Department{Code: code, NameZH: nameZH}
		err = r.Department(ctx, actor, &d)
	}
	return d, err
}

// Service is an e-service to register: of the department DepartmentCode,
// with its groups.
type Service struct {
	storage.Service
	DepartmentCode string
	Groups         []storage.Group
}

// Service registers in.Service of the department in.DepartmentCode with its
// groups, all or nothing, and returns it with its ID. An unregistered
// department gives ErrNoDepartment; the store's refusals (a taken code:
// storage.ErrAlreadyExists) are wrapped with what was being created.
func (r *Register) Service(ctx context.Context, actor storage.Actor, in Service) (storage.Service, error) {
	if !storage.CanRegisterService(actor) {
		return storage.Service{}, forbidden("an e-service")
	}
	if err := storage.ActorMay(actor, storage.ActRegisterService); err != nil {
		return storage.Service{}, err
	}
	d, err := r.dir.DepartmentByCode(ctx, in.DepartmentCode)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Service{}, fmt.Errorf("department %s: %w", in.DepartmentCode, ErrNoDepartment)
	}
	if err != nil {
		return storage.Service{}, err
	}
	sv := in.Service
	sv.DepartmentID = d.ID
	groups := make([]*storage.Group, len(in.Groups))
	for i := range in.Groups {
		groups[i] = &in.Groups[i]
	}
	if err := r.dir.CreateService(ctx, actor, &sv, groups...); err != nil {
		return sv, fmt.Errorf("create e-service %s: %w", sv.Code, err)
	}
	return sv, nil
}

// Client is a client to register. An empty ID is generated from its
// e-service's or department's code; an empty Name is its e-service's or
// department's. A confidential client that does not authenticate with
// private_key_jwt gets Secret, or a new one when it is "".
type Client struct {
	storage.Client
	// ServiceCode names the e-service of a web or native client;
	// DepartmentCode the department of a machine client.
	ServiceCode, DepartmentCode string
	Secret                      string
}

// Registered is a registered client and its secret in clear, shown once
// ("" for a public or private_key_jwt client): only its hash is stored.
// When the registration is refused, Client is the client as it was
// offered to the store (its id, generated or given).
type Registered struct {
	Client storage.Client
	Secret string
}

// ServiceClient registers a web or native client of the e-service
// in.ServiceCode. An unknown e-service is storage.ErrNotFound, wrapped
// "e-service CODE"; the store's refusals are wrapped "create client ID".
func (r *Register) ServiceClient(ctx context.Context, actor storage.Actor, in Client) (Registered, error) {
	if !storage.CanRegisterClient(actor) {
		return Registered{}, forbidden("a client")
	}
	if err := storage.ActorMay(actor, storage.ActRegisterClient); err != nil {
		return Registered{}, err
	}
	sv, err := r.dir.ServiceByCode(ctx, in.ServiceCode)
	if err != nil {
		return Registered{}, fmt.Errorf("e-service %s: %w", in.ServiceCode, err)
	}
	c := in.Client
	c.ServiceID = sv.ID
	if c.ID == "" {
		c.ID = sv.Code + "-" + randomHex(6)
	}
	if c.Name == "" {
		c.Name = sv.NameZH
	}
	out := Registered{}
	if !c.Public {
		out.Secret = setSecret(&c, in.Secret)
	}
	out.Client = c
	if err := r.dir.CreateClient(ctx, actor, &c); err != nil {
		return out, fmt.Errorf("create client %s: %w", c.ID, err)
	}
	out.Client = c
	return out, nil
}

// MachineClient registers a machine client (client_credentials) of the
// department in.DepartmentCode, with in.Scopes. An unregistered department
// gives ErrNoDepartment; the store's refusals come as they are (a taken id:
// storage.ErrAlreadyExists; an id the schema refuses: storage.ErrInvalid).
func (r *Register) MachineClient(ctx context.Context, actor storage.Actor, in Client) (Registered, error) {
	if !storage.CanRegisterClient(actor) {
		return Registered{}, forbidden("a client")
	}
	if err := storage.ActorMay(actor, storage.ActRegisterClient); err != nil {
		return Registered{}, err
	}
	d, err := r.dir.DepartmentByCode(ctx, in.DepartmentCode)
	if errors.Is(err, storage.ErrNotFound) {
		return Registered{}, fmt.Errorf("department %s: %w", in.DepartmentCode, ErrNoDepartment)
	}
	if err != nil {
		return Registered{}, err
	}
	c := in.Client
	c.Kind, c.DepartmentID = storage.ClientMachine, d.ID
	if c.ID == "" {
		c.ID = strings.ToLower(d.Code) + "-machine-" + randomHex(6)
	}
	if c.Name == "" {
		c.Name = d.NameZH
		if c.Name == "" {
			c.Name = d.Code
		}
	}
	out := Registered{Secret: setSecret(&c, in.Secret)}
	out.Client = c
	if err := r.dir.CreateClient(ctx, actor, &c); err != nil {
		return out, err
	}
	out.Client = c
	return out, nil
}

// setSecret gives the confidential client c the secret (a new one when "")
// and returns it, unless c authenticates with private_key_jwt: then it has
// none, and "" is returned.
func setSecret(c *storage.Client, secret string) string {
	if c.TokenAuth == storage.TokenAuthPrivateKeyJWT {
		return ""
	}
	if secret == "" {
		secret = randomSecret(32)
	}
	sum := sha256.Sum256([]byte(secret)) // as op/client.go checks it
	c.SecretHash = sum[:]
	return secret
}

func randomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
