package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/storage"
)

// The operator's entity administration commands: what only 行政公職局 may
// do (grant admin rights, close an entity) and what it may do for an
// entity (delete or restore a staff login, remove admin rights, look). Each
// calls the same use case as the portal (login/manage).

// commandError is how a command reports a use case's refusal: the domain
// message, never a driver's text.
func commandError(cmd string, err error) error {
	if err == nil {
		return nil
	}
	if storage.CodeOf(err) == storage.EInternal {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return fmt.Errorf("%s: %s", cmd, storage.MessageOf(err))
}

// staffTarget is the flags naming one staff login.
func staffTarget(fs *flag.FlagSet) (entity, euid *string, asJSON *bool) {
	return fs.String("entity", "", "entity number, e.g. 02-000021"),
		fs.String("euid", "", "EUID of the staff login, e.g. CU000000126"),
		fs.Bool("json", false, "print JSON")
}

// staffChange runs one use case on the staff login the flags name.
func staffChange(name string, args []string, change func(u *useCases, ctx context.Context, entityID int64, euid string) (storage.StaffLogin, error), done string) error {
	fs := newFlags(name)
	entity, euid, asJSON := staffTarget(fs)
	if err := parseFlags(fs, args, "entity", "euid"); err != nil {
		return err
	}
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		if err := u.tellingChanges(); err != nil {
			return err
		}
		e, err := u.manage.Entity(ctx, u.actor, *entity)
		if err != nil {
			return commandError(name, err)
		}
		sl, err := change(u, ctx, e.ID, *euid)
		if err != nil {
			return commandError(name, err)
		}
		if *asJSON {
			return printJSON(staffJSON(e, sl))
		}
		fmt.Printf("%s %s of entity %s %s\n", done, sl.EUID, e.Number, staffSummary(sl))
		return nil
	})
}

func staffDelete(args []string) error {
	return staffChange("staff delete", args, func(u *useCases, ctx context.Context, id int64, euid string) (storage.StaffLogin, error) {
		return u.manage.DeleteStaff(ctx, u.actor, id, euid)
	}, "deleted staff login (its sessions and tokens ended, its open activation code void):")
}

func staffRestore(args []string) error {
	return staffChange("staff restore", args, func(u *useCases, ctx context.Context, id int64, euid string) (storage.StaffLogin, error) {
		return u.manage.RestoreStaff(ctx, u.actor, id, euid)
	}, "restored staff login")
}

func adminGrant(args []string) error {
	return staffChange("admin grant", args, func(u *useCases, ctx context.Context, id int64, euid string) (storage.StaffLogin, error) {
		return u.manage.GrantAdmin(ctx, u.actor, id, euid)
	}, "granted admin rights to")
}

func adminRemove(args []string) error {
	return staffChange("admin remove", args, func(u *useCases, ctx context.Context, id int64, euid string) (storage.StaffLogin, error) {
		return u.manage.RemoveAdmin(ctx, u.actor, id, euid)
	}, "removed admin rights from")
}

func entityClose(args []string) error {
	fs := newFlags("entity close")
	entity := fs.String("entity", "", "entity number, e.g. 02-000021")
	reason := fs.String("reason", "", "why the entity is closed (kept in the audit trail)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "entity"); err != nil {
		return err
	}
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		e, err := u.manage.CloseEntityFor(ctx, u.actor, *entity, strings.TrimSpace(*reason))
		if err != nil {
			return commandError("entity close", err)
		}
		if *asJSON {
			return printJSON(map[string]any{"entity_number": e.Number, "status": e.Status})
		}
		fmt.Printf("closed entity %s: none of its accounts can sign in; every session and token of them ended\n", e.Number)
		return nil
	})
}

func entityShow(args []string, out io.Writer) error {
	fs := newFlags("entity show")
	entity := fs.String("entity", "", "entity number, e.g. 02-000021")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "entity"); err != nil {
		return err
	}
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		e, acct, staff, err := u.manage.EntityStaff(ctx, u.actor, *entity)
		if err != nil {
			return commandError("entity show", err)
		}
		if *asJSON {
			list := make([]staffRow, len(staff))
			for i, sl := range staff {
				list[i] = staffJSON(e, sl)
			}
			return writeJSONTo(out, map[string]any{
				"entity_number": e.Number, "name_zh": e.NameZH, "name_pt": e.NamePT, "kind": e.Kind, "status": e.Status,
				"created_at":     e.CreatedAt,
				"entity_account": map[string]any{"subject": acct.Subject, "username": acct.Username, "activated": acct.ActivatedAt != nil},
				"staff":          list,
			})
		}
		fmt.Fprintf(out, "entity %s %s / %s (%s, %s)\nentity account %s username %q activated %v\n",
			e.Number, e.NameZH, e.NamePT, e.Kind, e.Status, acct.Subject, acct.Username, acct.ActivatedAt != nil)
		tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "EUID\tUSERNAME\tNAME\tADMIN\tSERVICE ADMIN\tSTATUS\tACTIVATED")
		for _, sl := range staff {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\t%s\t%v\n", sl.EUID, sl.Username, orDash(sl.NameZH, sl.NameForeign),
				sl.Admin, sl.ServiceAdmin, sl.Status, sl.ActivatedAt != nil)
		}
		return tw.Flush()
	})
}

// staffRow is a staff login as the commands print it.
type staffRow struct {
	EntityNumber string     `json:"entity_number"`
	EUID         string     `json:"euid"`
	Username     string     `json:"username"`
	NameZH       string     `json:"name_zh"`
	NameForeign  string     `json:"name_foreign"`
	Admin        bool       `json:"admin"`
	ServiceAdmin bool       `json:"service_admin"`
	Status       string     `json:"status"`
	Activated    bool       `json:"activated"`
	ActivatedAt  *time.Time `json:"activated_at,omitempty"`
}

func staffJSON(e storage.Entity, sl storage.StaffLogin) staffRow {
	return staffRow{EntityNumber: e.Number, EUID: sl.EUID, Username: sl.Username, NameZH: sl.NameZH, NameForeign: sl.NameForeign,
		Admin: sl.Admin, ServiceAdmin: sl.ServiceAdmin, Status: string(sl.Status), Activated: sl.ActivatedAt != nil, ActivatedAt: sl.ActivatedAt}
}

func staffSummary(sl storage.StaffLogin) string {
	return fmt.Sprintf("(%s, admin %v, status %s)", orDash(sl.NameZH, sl.NameForeign), sl.Admin, sl.Status)
}

func orDash(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return "-"
}

func staffCreate(args []string) error {
	fs := newFlags("staff create")
	var n manage.NewStaff
	fs.StringVar(&n.EntityNumber, "entity", "", "entity number, e.g. 02-000021")
	fs.StringVar(&n.Form.NameZH, "name-zh", "", "中文姓名")
	fs.StringVar(&n.Form.NameForeign, "name-foreign", "", "葡文/外文姓名 (at least one of the two names)")
	fs.StringVar(&n.Form.IDDocType, "id-type", storage.IDMacauPermanent, "身份證明文件類別: "+strings.Join(storage.IDDocTypes, ", "))
	fs.StringVar(&n.Form.IDDocNumber, "id-number", "", "身份證明文件編號; the holder types it at activation")
	fs.StringVar(&n.Form.IDDocIssuePlace, "id-place", "", "身份證明文件發出地")
	fs.StringVar(&n.Form.BirthDate, "birth-date", "", "出生日期, YYYY-MM-DD")
	fs.StringVar(&n.Form.Mobile, "mobile", "", "澳門流動電話號碼: 8 digits starting with 6, with or without +853")
	fs.StringVar(&n.Form.Email, "email", "", "電子信箱")
	fs.StringVar(&n.Form.Language, "language", "zh-Hant", "使用語言: zh-Hant, pt or en")
	fs.BoolVar(&n.Admin, "admin", false, "an admin staff login (工作人員登入號（管理員）)")
	channel := fs.String("channel", "sms", "how the activation code is sent: sms (registered mobile) or email")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "entity", "id-number", "birth-date"); err != nil {
		return err
	}
	n.Channel = storage.Channel(*channel)
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		acts, err := u.activation()
		if err != nil {
			return err
		}
		sl, err := u.manage.CreateStaff(ctx, u.actor, acts, n, time.Now())
		if fields := storage.FieldErrors(err); len(fields) > 0 {
			msgs := make([]string, len(fields))
			for i, f := range fields {
				msgs[i] = "--" + strings.ReplaceAll(flagOf(f.Field), "_", "-") + ": " + f.Message
			}
			return fmt.Errorf("staff create:\n  %s", strings.Join(msgs, "\n  "))
		}
		if err != nil {
			return commandError("staff create", err)
		}
		e, _ := u.manage.Entity(ctx, u.actor, n.EntityNumber)
		if *asJSON {
			return printJSON(map[string]any{"euid": sl.EUID, "entity_number": e.Number, "admin": sl.Admin,
				"code_sent_to": recipientFor(n.Channel, sl.Mobile, sl.Email), "channel": string(n.Channel)})
		}
		fmt.Printf("staff login %s created in entity %s %s; activation code queued for %s (a running `idp serve` sends it; activate at %s)\n",
			sl.EUID, e.Number, staffSummary(sl), recipientFor(n.Channel, sl.Mobile, sl.Email), acts.URL(storage.KindStaff))
		return nil
	})
}

// flagOf is the command-line flag of a registration form field.
func flagOf(field string) string {
	switch field {
	case "id_doc_type":
		return "id_type"
	case "id_doc_number":
		return "id_number"
	case "id_doc_issue_place":
		return "id_place"
	}
	return field
}
