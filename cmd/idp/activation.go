package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/login"
	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/notify"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	rstore "github.com/entity-account/idp/storage/redis"
)

// Activation codes and their delivery: the wiring of the service
// and the outbox worker, and the operator commands `entity create` and
// `code resend`.

// newActivation builds the activation service and the outbox worker over
// pg. The worker is not started (see startOutbox); the service wakes it
// whenever it writes a code.
func newActivation(cfg *config.Config, pg *postgres.Store) (*activation.Service, *notify.Worker, error) {
	sealer, err := outboxSealer(cfg)
	if err != nil {
		return nil, nil, err
	}
	texts, err := notify.LoadTexts()
	if err != nil {
		return nil, nil, err
	}
	senders, err := buildSenders(cfg.Activation)
	if err != nil {
		return nil, nil, err
	}
	worker := notify.NewWorker(pg, sealer, senders)
	worker.Poll = cfg.Activation.OutboxPoll
	svc, err := activation.New(pg, activation.Config{
		Issuer:      cfg.Issuer,
		CodeKey:     idpop.DeriveKey(cfg.MasterKey, "activation-code"),
		Sealer:      sealer,
		Texts:       texts,
		CodeTTL:     cfg.Activation.CodeTTL,
		MaxAttempts: cfg.Activation.MaxAttempts,
		Wake:        worker.Wake,
	})
	if err != nil {
		return nil, nil, err
	}
	return svc, worker, nil
}

// outboxSealer seals and opens outbox bodies: every notification is sealed
// with it, and the outbox worker opens them.
func outboxSealer(cfg *config.Config) (*notify.Sealer, error) {
	return notify.NewSealer(idpop.DeriveKey(cfg.MasterKey, "outbox-body"))
}

// buildSenders makes the SMS and e-mail senders the configuration names.
func buildSenders(a config.Activation) (map[storage.Channel]notify.Sender, error) {
	senders := map[storage.Channel]notify.Sender{
		storage.ChannelSMS:   notify.Console{},
		storage.ChannelEmail: notify.Console{},
	}
	if a.SMSSender == "http" {
		s, err := notify.NewHTTPSMS(a.SMSURL, a.SMSAuthHeader, a.SMSBodyTemplate, nil)
		if err != nil {
			return nil, fmt.Errorf("IDP_SMS_*: %w", err)
		}
		senders[storage.ChannelSMS] = s
	}
	if a.EmailSender == "smtp" {
		s, err := notify.NewSMTP(notify.SMTPConfig{
			Host: a.SMTPHost, Port: a.SMTPPort, Username: a.SMTPUsername, Password: a.SMTPPassword,
			From: a.SMTPFrom, TLS: a.SMTPTLS,
		})
		if err != nil {
			return nil, fmt.Errorf("IDP_SMTP_*: %w", err)
		}
		senders[storage.ChannelEmail] = s
	}
	return senders, nil
}

// activationPages is the configuration of the activation and resend pages.
func activationPages(cfg *config.Config, svc *activation.Service, rs *rstore.Store) login.ActivationConfig {
	return login.ActivationConfig{
		Service: svc, Tickets: rs,
		FailuresPerIP: cfg.LoginFailuresPerIP, FailuresPerEntity: 4 * cfg.LoginFailuresPerAccount,
		FailureWindow:  cfg.LoginFailureWindow,
		ResendPerFacts: cfg.Activation.ResendLimit, ResendPerIP: cfg.Activation.ResendLimitPerIP,
		ResendWindow: cfg.Activation.ResendWindow,
	}
}

// startOutbox runs the node's outbox worker until the returned stop is
// called; stop waits for the worker to finish its current message.
func (a *app) startOutbox(ctx context.Context) (stop func()) {
	if !a.cfg.IsLocalDevelopment() && (a.cfg.Activation.SMSSender == "console" || a.cfg.Activation.EmailSender == "console") {
		slog.Warn("a console sender is configured: activation codes are written to the log instead of being sent; set IDP_SMS_SENDER=http and IDP_EMAIL_SENDER=smtp")
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { a.outbox.Run(ctx) })
	return func() {
		cancel()
		wg.Wait()
	}
}

func parseChannel(s string) (storage.Channel, error) {
	switch ch := storage.Channel(s); ch {
	case storage.ChannelSMS, storage.ChannelEmail:
		return ch, nil
	}
	return "", fmt.Errorf("--channel must be sms or email, not %q", s)
}

// ---- entity create ----

// adminSpec is one admin staff registration (工作人員登入號（管理員）申請表),
// as given by the --admin-* flags or in the --admins JSON file.
type adminSpec struct {
	NameZH      string `json:"name_zh"`
	NameForeign string `json:"name_foreign"`
	IDType      string `json:"id_type"`
	IDNumber    string `json:"id_number"`
	IDPlace     string `json:"id_place"`
	BirthDate   string `json:"birth_date"` // YYYY-MM-DD
	Mobile      string `json:"mobile"`
	Email       string `json:"email"`
	Language    string `json:"language"`
}

// entitySpec is everything `idp entity create` opens.
type entitySpec struct {
	Number, NameZH, NamePT, Kind string
	ApplicationNumber            string
	AccountMobile, AccountEmail  string
	AccountLanguage              string
	Admins                       []adminSpec
	Channel                      storage.Channel
}

// entityCreated is what `idp entity create` reports.
type entityCreated struct {
	EntityNumber  string         `json:"entity_number"`
	EntityAccount createdAccount `json:"entity_account"`
	Admins        []createdAdmin `json:"admins"`
	Channel       string         `json:"channel"`
}

type createdAccount struct {
	Subject string `json:"subject"`
	SentTo  string `json:"code_sent_to"`
}

type createdAdmin struct {
	EUID   string `json:"euid"`
	Name   string `json:"name"`
	SentTo string `json:"code_sent_to"`
}

// openEntity opens the entity spec describes through the use case the
// desk's intake calls too (activation.Service.Open): the flags' defaults
// filled in, a refused field named by its flag.
// The codes reach their holders through the outbox (a running `idp serve`).
func openEntity(ctx context.Context, actor storage.Actor, svc *activation.Service, spec entitySpec) (entityCreated, error) {
	app := activation.Application{Number: spec.Number, NameZH: spec.NameZH, NamePT: spec.NamePT, Kind: orDefault(spec.Kind, "company"),
		ApplicationNumber: spec.ApplicationNumber, AccountMobile: spec.AccountMobile, AccountEmail: spec.AccountEmail,
		AccountLanguage: orLang(spec.AccountLanguage), Channel: spec.Channel}
	for _, a := range spec.Admins {
		app.Admins = append(app.Admins, storage.StaffRegistration{NameZH: a.NameZH, NameForeign: a.NameForeign,
			IDDocType: orDefault(a.IDType, storage.IDMacauPermanent), IDDocNumber: a.IDNumber, IDDocIssuePlace: a.IDPlace,
			BirthDate: a.BirthDate, Mobile: a.Mobile, Email: a.Email, Language: orLang(a.Language)})
	}
	opened, err := svc.Open(ctx, actor, app)
	if err != nil {
		return entityCreated{EntityNumber: spec.Number, Channel: string(spec.Channel)}, openRefusal(spec, err)
	}
	out := entityCreated{EntityNumber: opened.Entity.Number, Channel: string(opened.Channel),
		EntityAccount: createdAccount{Subject: opened.Account.Subject, SentTo: recipientFor(opened.Channel, opened.Account.Mobile, opened.Account.Email)}}
	for _, sl := range opened.Admins {
		out.Admins = append(out.Admins, createdAdmin{EUID: sl.EUID, Name: strings.TrimSpace(sl.NameZH + " " + sl.NameForeign),
			SentTo: recipientFor(opened.Channel, sl.Mobile, sl.Email)})
	}
	return out, nil
}

// entityFlags are the flags of the application's fields (activation.Field*).
var entityFlags = map[string]string{
	activation.FieldNumber: "--number", activation.FieldNameZH: "--name-zh", activation.FieldNamePT: "--name-pt",
	activation.FieldKind: "--kind", activation.FieldApplicationNumber: "--application-number",
	activation.FieldAccountMobile: "--account-mobile", activation.FieldAccountEmail: "--account-email",
	activation.FieldAccountLanguage: "--account-language", activation.FieldChannel: "--channel",
}

// openRefusal says what Open refused, each wrong field by its flag (an
// admin's by its place among the admins).
func openRefusal(spec entitySpec, err error) error {
	fields := storage.FieldErrors(err)
	if len(fields) == 0 {
		if storage.CodeOf(err) == storage.EConflict {
			return fmt.Errorf("create entity %s: an entity with this number already exists (idp entity show --entity %s)", spec.Number, spec.Number)
		}
		return fmt.Errorf("create entity %s: %w", spec.Number, err)
	}
	var lines []string
	for _, f := range fields {
		switch {
		case f.Code == storage.EConflict && f.Field == activation.FieldNumber:
			lines = append(lines, fmt.Sprintf("an entity with this number already exists (idp entity show --entity %s)", spec.Number))
		case entityFlags[f.Field] != "":
			lines = append(lines, entityFlags[f.Field]+": "+f.Message)
		case f.Field == "" && f.Key == "desk_intake_error_no_admin":
			lines = append(lines, "at least one admin staff login is required (--admin-* flags or --admins FILE)")
		default:
			lines = append(lines, f.Message) // an admin's: "admin 2: ..."
		}
	}
	return fmt.Errorf("create entity %s: %s", spec.Number, strings.Join(lines, "; "))
}

func recipientFor(ch storage.Channel, mobile, email string) string {
	if ch == storage.ChannelEmail {
		return email
	}
	return mobile
}

func channelWord(ch storage.Channel) string {
	if ch == storage.ChannelEmail {
		return "e-mail"
	}
	return "mobile"
}

func orLang(l string) string { return orDefault(l, "zh-Hant") }

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func entityCreate(args []string) error {
	fs := newFlags("entity create")
	var spec entitySpec
	fs.StringVar(&spec.Number, "number", "", "entity number, e.g. 02-000022")
	fs.StringVar(&spec.NameZH, "name-zh", "", "entity name in Chinese")
	fs.StringVar(&spec.NamePT, "name-pt", "", "entity name in Portuguese")
	fs.StringVar(&spec.Kind, "kind", "company", "company, association, sole_trader or building_management")
	fs.StringVar(&spec.ApplicationNumber, "application-number", "", "application number (申請編號) on the receipt; the holder types it at activation")
	fs.StringVar(&spec.AccountMobile, "account-mobile", "", "Macau mobile of the entity account holder (receives the activation SMS)")
	fs.StringVar(&spec.AccountEmail, "account-email", "", "e-mail of the entity account holder")
	fs.StringVar(&spec.AccountLanguage, "account-language", "zh-Hant", "language of the entity account: zh-Hant, pt or en")
	var one adminSpec
	fs.StringVar(&one.NameZH, "admin-name-zh", "", "admin staff login: Chinese name")
	fs.StringVar(&one.NameForeign, "admin-name-foreign", "", "admin: Portuguese/foreign name")
	fs.StringVar(&one.IDType, "admin-id-type", "macau_permanent_id", "admin: ID document type")
	fs.StringVar(&one.IDNumber, "admin-id-number", "", "admin: ID document number (the holder types it at activation)")
	fs.StringVar(&one.IDPlace, "admin-id-place", "", "admin: ID document issuing place")
	fs.StringVar(&one.BirthDate, "admin-birth-date", "", "admin: birth date YYYY-MM-DD")
	fs.StringVar(&one.Mobile, "admin-mobile", "", "admin: Macau mobile (receives the activation SMS)")
	fs.StringVar(&one.Email, "admin-email", "", "admin: e-mail")
	fs.StringVar(&one.Language, "admin-language", "zh-Hant", "admin: zh-Hant, pt or en")
	adminsFile := fs.String("admins", "", "JSON file with an array of admin registrations "+
		`[{"name_zh","name_foreign","id_type","id_number","id_place","birth_date","mobile","email","language"}, …] (in addition to the --admin-* flags)`)
	channel := fs.String("channel", "sms", "how the activation codes are sent: sms or email")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "number", "name-zh", "application-number"); err != nil {
		return err
	}
	ch, err := parseChannel(*channel)
	if err != nil {
		return err
	}
	spec.Channel = ch
	if one.IDNumber != "" || one.NameZH != "" || one.BirthDate != "" {
		spec.Admins = append(spec.Admins, one)
	}
	if *adminsFile != "" {
		raw, err := os.ReadFile(*adminsFile)
		if err != nil {
			return fmt.Errorf("--admins: %w", err)
		}
		var more []adminSpec
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&more); err != nil {
			return fmt.Errorf("--admins %s: %w", *adminsFile, err)
		}
		spec.Admins = append(spec.Admins, more...)
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		svc, err := u.activation()
		if err != nil {
			return err
		}
		out, err := openEntity(ctx, u.actor, svc, spec)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out)
		}
		fmt.Printf("entity %s created; activation codes queued for delivery by %s (a running `idp serve` sends them):\n", out.EntityNumber, out.Channel)
		fmt.Printf("  entity account %s → %s (activate at %s)\n", out.EntityAccount.Subject, out.EntityAccount.SentTo, svc.URL(storage.KindEntityAccount))
		for _, a := range out.Admins {
			fmt.Printf("  admin staff login %s %s → %s (activate at %s, after the entity account)\n", a.EUID, a.Name, a.SentTo, svc.URL(storage.KindStaff))
		}
		return nil
	})
}

// ---- code resend ----

func codeResend(args []string) error {
	fs := newFlags("code resend")
	number := fs.String("entity", "", "entity number")
	euid := fs.String("euid", "", "EUID of the staff login")
	entityAccount := fs.Bool("entity-account", false, "send to the entity account instead of a staff login")
	channel := fs.String("channel", "sms", "sms (registered mobile) or email (registered e-mail)")
	if err := parseFlags(fs, args, "entity"); err != nil {
		return err
	}
	if (*euid == "") == !*entityAccount {
		return errors.New("code resend: give exactly one of --euid EUID and --entity-account")
	}
	ch, err := parseChannel(*channel)
	if err != nil {
		return err
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		svc, err := u.activation()
		if err != nil {
			return err
		}
		ref, err := resendTarget(ctx, u.dir, *number, *euid)
		if err != nil {
			return err
		}
		issue, err := svc.Issue(ctx, u.actor, ref, ch, "operator")
		switch {
		case errors.Is(err, storage.ErrConflict):
			return errors.New("code resend: the account is already activated, deleted, or its entity is closed: no code sent")
		case errors.Is(err, storage.ErrNoRecipient):
			return fmt.Errorf("code resend: the account has no registered %s; try the other --channel", channelWord(ch))
		case err != nil:
			return err
		}
		fmt.Printf("new activation code queued (outbox message %d) by %s to %s; the previous code no longer works\n",
			issue.Message.ID, ch, issue.Message.Recipient)
		return nil
	})
}

// resendTarget finds the account `code resend` names: the entity account of
// the entity, or its staff login with the EUID.
func resendTarget(ctx context.Context, dir directory, number, euid string) (storage.AccountRef, error) {
	e, err := dir.EntityByNumber(ctx, number)
	if err != nil {
		return storage.AccountRef{}, fmt.Errorf("entity %s: %w", number, err)
	}
	if euid == "" {
		acct, err := dir.EntityAccount(ctx, e.ID)
		if err != nil {
			return storage.AccountRef{}, fmt.Errorf("entity account of %s: %w", number, err)
		}
		return storage.AccountRef{Kind: storage.KindEntityAccount, ID: acct.ID}, nil
	}
	sl, err := dir.StaffLoginByEUID(ctx, euid)
	if err == nil && sl.EntityID != e.ID {
		err = storage.ErrNotFound
	}
	if err != nil {
		return storage.AccountRef{}, fmt.Errorf("staff login %s of entity %s: %w", euid, number, err)
	}
	return storage.AccountRef{Kind: storage.KindStaff, ID: sl.ID}, nil
}
