package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/login/notify"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	rstore "github.com/entity-account/idp/storage/redis"
)

// Back-channel logout: the wiring of a node, and the operator command
// `logout deliveries`.

// logoutTokenTTL is how long a logout token is valid after it is signed.
// The worker signs it at each attempt, so a short life costs no retry.
const logoutTokenTTL = 2 * time.Minute

// withBackchannelLogout teaches the outbox worker to deliver logout tokens
// and returns the node's short-lived store with every session end queueing
// them. Every user of the store (protocol storage, pages) must get this one,
// so that no way of ending a session forgets the relying parties.
func withBackchannelLogout(cfg *config.Config, keys *idpop.Keys, pg *postgres.Store, rs *rstore.Store, outbox *notify.Worker) storage.ShortLived {
	outbox.SetSender(storage.ChannelBackchannel, notify.NewBackchannel(idpop.NewLogoutTokens(keys, cfg.Issuer, logoutTokenTTL), nil))
	outbox.GiveUpAfter[storage.ChannelBackchannel] = cfg.BackchannelGiveUp
	return idpop.NotifyLogouts(rs, idpop.LogoutNotice{Parties: rs, Queue: pg, Wake: outbox.Wake})
}

// logoutDelivery is one row of `logout deliveries`.
type logoutDelivery struct {
	ID        int64      `json:"id"`
	ClientID  string     `json:"client_id"`
	SessionID string     `json:"sid"`
	Subject   string     `json:"sub"`
	URI       string     `json:"backchannel_logout_uri"`
	CreatedAt time.Time  `json:"created_at"`
	State     string     `json:"state"` // pending, delivered, given up
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	SettledAt *time.Time `json:"settled_at,omitempty"` // when delivered or given up
}

func logoutDeliveries(args []string, out io.Writer) error {
	fs := newFlags("logout deliveries")
	client := fs.String("client", "", "only the deliveries to this client")
	limit := fs.Int("limit", 50, "how many deliveries to show, newest first (at most 10000)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > 10000 {
		return errors.New("logout deliveries: --limit must be from 1 to 10000")
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		msgs, err := u.dir.LogoutDeliveries(ctx, *client, *limit)
		if err != nil {
			return err
		}
		rows := make([]logoutDelivery, 0, len(msgs))
		for _, m := range msgs {
			if m.Logout == nil {
				continue
			}
			settled := m.DeliveredAt
			if settled == nil {
				settled = m.FailedAt
			}
			rows = append(rows, logoutDelivery{
				ID: m.ID, ClientID: m.Logout.ClientID, SessionID: m.Logout.SessionID, Subject: m.Logout.Subject,
				URI: m.Recipient, CreatedAt: m.CreatedAt, State: m.State(), Attempts: m.Attempts,
				LastError: m.LastError, SettledAt: settled,
			})
		}
		if *asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(rows)
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT\tSID\tSUB\tCREATED\tSTATE\tATTEMPTS\tLAST ERROR")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ClientID, r.SessionID, r.Subject,
				r.CreatedAt.Local().Format(time.DateTime), r.State, strconv.Itoa(r.Attempts), shorten(r.LastError, 80))
		}
		return tw.Flush()
	})
}

// shorten cuts s to at most n characters for a table cell.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
