package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/url"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/tools"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	rstore "github.com/entity-account/idp/storage/redis"
)

// The operator's identity-tool commands (電子身份識別工具):
// approving a pending 安全驗證碼 after the in-person check of a non-Macau
// identity document, resetting a login's tools (a lost phone), and
// switching passkeys on again after their holder switched them off. Each
// calls the use cases of login/tools, audited, the holder told.

// toolsKey derives the key that seals TOTP secrets from the master key.
func toolsKey(master []byte) []byte { return idpop.DeriveKey(master, "totp-secret") }

// ceremonyKey derives the key that seals passkey ceremony state (between
// the options a page is given and the credential it sends back) from the
// master key.
func ceremonyKey(master []byte) []byte { return idpop.DeriveKey(master, "webauthn-ceremony") }

// newTools builds the identity-tool use cases over both stores, telling
// holders of every change through the outbox, approval QR codes on; wake
// (nil: none) makes the node's outbox worker send at once. Passkey
// ceremonies are not enabled: see enablePasskeys.
func newTools(cfg *config.Config, pg *postgres.Store, rs *rstore.Store, wake func()) (*tools.Service, error) {
	sealer, err := outboxSealer(cfg)
	if err != nil {
		return nil, err
	}
	texts, err := notify.LoadTexts()
	if err != nil {
		return nil, err
	}
	svc, err := tools.New(pg, rs, toolsKey(cfg.MasterKey), tools.Notices{Sealer: sealer, Texts: texts, Wake: wake})
	if err != nil {
		return nil, err
	}
	// The approval QR codes of pending 安全驗證碼, shown on the person's
	// page and scanned at the desk.
	return svc, svc.EnableApprovals(approvalKey(cfg.MasterKey), rs)
}

// approvalKey derives the key that signs approval QR codes from the master
// key.
func approvalKey(master []byte) []byte { return idpop.DeriveKey(master, "desk-approval") }

// passkeyConfig is the WebAuthn relying party of the issuer: its host name
// is the RP ID, its scheme, host and port the one origin. Browsers refuse
// an IP address as RP ID: such an issuer cannot offer passkeys.
func passkeyConfig(cfg *config.Config) (tools.WebAuthnConfig, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Host == "" {
		return tools.WebAuthnConfig{}, fmt.Errorf("IDP_ISSUER %q is not a URL", cfg.Issuer)
	}
	if net.ParseIP(u.Hostname()) != nil {
		return tools.WebAuthnConfig{}, fmt.Errorf("IDP_ISSUER %s: passkeys need a host name, not an IP address (browsers refuse one as the WebAuthn relying party)", cfg.Issuer)
	}
	return tools.WebAuthnConfig{
		RPID:        u.Hostname(),
		Origins:     []string{u.Scheme + "://" + u.Host},
		DisplayName: tools.Issuer,
		CeremonyKey: ceremonyKey(cfg.MasterKey),
	}, nil
}

// enablePasskeys turns svc's passkey ceremonies on for the issuer, their
// challenges marked used in rs.
func enablePasskeys(svc *tools.Service, cfg *config.Config, rs *rstore.Store) error {
	wa, err := passkeyConfig(cfg)
	if err != nil {
		return err
	}
	return svc.EnablePasskeys(wa, rs)
}

// withTools runs fn with the identity-tool use cases over both stores. The
// notices it writes wait for a running `idp serve` to send them.
func withTools(fs *flag.FlagSet, fn func(ctx context.Context, u *useCases, svc *tools.Service) error) error {
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		svc, err := u.tools()
		if err != nil {
			return err
		}
		return fn(ctx, u, svc)
	})
}

type toolRow struct {
	EntityNumber string `json:"entity_number"`
	EUID         string `json:"euid"`
	Kind         string `json:"kind,omitempty"`
	State        string `json:"state,omitempty"`
	Removed      int    `json:"removed,omitempty"`
	Passkeys     string `json:"passkeys,omitempty"` // "on" after tools enable
}

func toolsApprove(args []string) error {
	fs := newFlags("tools approve")
	entity, euid, asJSON := staffTarget(fs)
	code := fs.String("code", "", "the 6-digit code the person's authenticator app shows now")
	if err := parseFlags(fs, args, "entity", "euid", "code"); err != nil {
		return err
	}
	return withTools(fs, func(ctx context.Context, u *useCases, svc *tools.Service) error {
		t, err := svc.ApproveTOTP(ctx, u.actor, *entity, *euid, *code)
		if err != nil {
			return commandError("tools approve", err)
		}
		n, _ := storage.NormalizeEntityNumber(*entity)
		if *asJSON {
			return printJSON(toolRow{EntityNumber: n, EUID: *euid, Kind: string(t.Kind), State: string(t.State)})
		}
		fmt.Printf("approved the security verification code (安全驗證碼) of %s of entity %s: %s\n", *euid, n, t.State)
		return nil
	})
}

func toolsReset(args []string) error {
	fs := newFlags("tools reset")
	entity, euid, asJSON := staffTarget(fs)
	if err := parseFlags(fs, args, "entity", "euid"); err != nil {
		return err
	}
	return withTools(fs, func(ctx context.Context, u *useCases, svc *tools.Service) error {
		removed, err := svc.ResetTools(ctx, u.actor, *entity, *euid)
		if err != nil {
			return commandError("tools reset", err)
		}
		n, _ := storage.NormalizeEntityNumber(*entity)
		if *asJSON {
			return printJSON(toolRow{EntityNumber: n, EUID: *euid, Removed: removed})
		}
		fmt.Printf("removed %d identity tool(s) of %s of entity %s\n", removed, *euid, n)
		return nil
	})
}

func toolsEnable(args []string) error {
	fs := newFlags("tools enable")
	entity, euid, asJSON := staffTarget(fs)
	if err := parseFlags(fs, args, "entity", "euid"); err != nil {
		return err
	}
	return withTools(fs, func(ctx context.Context, u *useCases, svc *tools.Service) error {
		if err := svc.EnablePasskeysFor(ctx, u.actor, *entity, *euid); err != nil {
			return commandError("tools enable", err)
		}
		n, _ := storage.NormalizeEntityNumber(*entity)
		if *asJSON {
			return printJSON(toolRow{EntityNumber: n, EUID: *euid, Kind: string(storage.ToolPasskey), Passkeys: "on"})
		}
		fmt.Printf("switched passkeys on again for %s of entity %s: the login may add passkeys itself\n", *euid, n)
		return nil
	})
}
