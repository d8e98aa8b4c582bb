package history_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/login/history"
	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/storagetest"
)

// dropped reads idp_signin_history_dropped_total{reason="queue_full"}.
func dropped(t *testing.T) int {
	t.Helper()
	rec := httptest.NewRecorder()
	telemetry.Handler(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	m := regexp.MustCompile(`idp_signin_history_dropped_total\{reason="queue_full"\} (\d+)`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatal("no dropped counter on /metrics")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func countEvents(t *testing.T, ctx context.Context, pg interface {
	SignInEvents(context.Context, storage.SignInQuery) ([]storage.SignInEvent, error)
}) int {
	t.Helper()
	got, err := pg.SignInEvents(ctx, storage.SignInQuery{Subject: "CU000000001", From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return len(got)
}

// TestRecorderDropsWhenFullAndFlushesAtShutdown: a full queue drops (and
// counts) instead of waiting; the writer stores in batches and, when
// stopped, stores what is left.
func TestRecorderDropsWhenFullAndFlushesAtShutdown(t *testing.T) {
	pg := storagetest.NewPostgres(t)
	ctx := t.Context()
	ev := func() storage.SignInEvent {
		e := storage.NewSignInEvent(time.Now(), "02-000001", "someone", storage.SignInWrongCredentials, storage.MethodPassword, "192.0.2.1", "ua", "")
		e.Subject = "CU000000001"
		return e
	}

	before := dropped(t)
	full := history.NewRecorder(pg, 3)
	for range 5 {
		full.Record(ev()) // never blocks: no writer runs
	}
	if n := dropped(t) - before; n != 2 {
		t.Errorf("dropped %d, want 2", n)
	}
	full.Flush(ctx)
	if n := countEvents(t, ctx, pg); n != 3 {
		t.Fatalf("stored %d, want the 3 queued", n)
	}

	rec := history.NewRecorder(pg, 100)
	rec.Batch, rec.FlushEvery = 4, time.Hour // only a full batch or the shutdown writes
	run, stop := context.WithCancel(context.Background())
	go rec.Run(run)
	for range 10 {
		rec.Record(ev())
	}
	deadline := time.Now().Add(5 * time.Second)
	for countEvents(t, ctx, pg) < 3+8 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := countEvents(t, ctx, pg); n != 3+8 {
		t.Errorf("two full batches: %d stored, want 11", n)
	}
	stop()
	rec.Wait()
	if n := countEvents(t, ctx, pg); n != 3+10 {
		t.Errorf("after shutdown: %d stored, want 13", n)
	}
	var nilRecorder *history.Recorder
	nilRecorder.Record(ev()) // records nothing, and does not panic
}

// TestCSVEscapesFormulas: a cell a spreadsheet would run as a formula gets
// a leading apostrophe, and nothing else changes.
func TestCSVEscapesFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"admin01": "admin01", "": "", "a=b": "a=b", "CU000000101": "CU000000101",
	} {
		if got := history.CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	e := storage.SignInEvent{At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Username: "=cmd|' /c calc'!A0", UserAgent: "-x", Outcome: storage.SignInWrongCredentials, Method: storage.MethodPassword}
	if err := history.WriteCSV(w, []storage.SignInEvent{e}, time.FixedZone("UTC+8", 8*3600)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
	if err != nil || len(rows) != 1 || rows[0][0] != "2026-01-02T11:04:05+08:00" || rows[0][3] != "'=cmd|' /c calc'!A0" || rows[0][7] != "'-x" {
		t.Errorf("row: %q, %v", rows, err)
	}
}

// TestRangeBounds: the dates of a filter are the days given, the last
// whole; reversed or longer than a year is refused.
func TestRangeBounds(t *testing.T) {
	s := history.NewService(nil)
	day := func(d string) time.Time { t, _ := time.Parse(time.DateOnly, d); return t }
	from, to, err := s.Range(day("2026-01-01"), day("2026-01-31"))
	if err != nil || !from.Equal(day("2026-01-01")) || !to.Equal(day("2026-02-01")) {
		t.Errorf("January: %v %v %v", from, to, err)
	}
	if _, _, err := s.Range(day("2026-02-01"), day("2026-01-01")); storage.CodeOf(err) != storage.EInvalid {
		t.Errorf("reversed: %v", err)
	}
	if _, _, err := s.Range(day("2024-01-01"), day("2026-01-01")); storage.CodeOf(err) != storage.EInvalid {
		t.Errorf("two years: %v", err)
	}
	if from, to, err := s.Range(time.Time{}, time.Time{}); err != nil || to.Sub(from) != history.OwnDays*24*time.Hour {
		t.Errorf("default: %v %v %v", from, to, err)
	}
}

// TestParseFilter: the portal's and the command's filter, read alike; what
// cannot be a value is refused with its message key.
func TestParseFilter(t *testing.T) {
	zone := time.FixedZone("UTC+8", 8*3600)
	f, err := history.ParseFilter(url.Values{"login": {" cu000000101 "}, "outcome": {"throttled"}, "from": {"2026-01-01"}}, zone)
	if err != nil || f.Subject != "CU000000101" || f.Outcome != storage.SignInLocked || !f.From.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, zone)) {
		t.Errorf("filter: %+v, %v", f, err)
	}
	for q, key := range map[string]string{
		"login=admin01": "history_error_login", "login=CU1": "history_error_login", "outcome=x": "history_error_outcome",
		"to=31/01/2026": "history_error_range", "after=1_x": "history_error_range", "after=-1_2": "history_error_range",
	} {
		v, _ := url.ParseQuery(q)
		_, err := history.ParseFilter(v, zone)
		var se *storage.Error
		if !errors.As(err, &se) || se.Code != storage.EInvalid || se.Key != key {
			t.Errorf("%s: %v, want %s", q, err, key)
		}
	}
}
