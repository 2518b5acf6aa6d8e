package sqlstore_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/notify/webhook"
	"github.com/tickflow/tickflow/sqlstore"
)

func listAlerts(t *testing.T, st *sqlstore.Store) []core.OutboxAlert {
	t.Helper()
	rows, err := st.ListAlerts(context.Background(), core.ListAlertsParams{})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestFinishRunsWritesAlertInItsTransaction: with alerts on, a failed
// outcome and its run_failed row commit together, or neither does; a
// fenced-off outcome writes no alert; the body keeps hostile error text.
func TestFinishRunsWritesAlertInItsTransaction(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		const boom = "boom, {\"quoted\"} \\ NULL é\nsecond line"
		r := mustInsert(t, st, core.InsertRunParams{Now: t0, Task: "t"})
		claimRuns(t, st, t0, "tick_1", 10, "t")
		fail := core.Outcome{RunID: r.ID, ClaimedAttempt: 1, Attempt: 1, Status: core.StatusFailed, Error: boom,
			StartedAt: t0, FinishedAt: t0.Add(time.Second)}
		finish := func(tick string) (int, error) {
			return st.FinishRuns(ctx, core.FinishRunsParams{TickID: tick, Outcomes: []core.Outcome{fail}, Alerts: true})
		}
		if n, err := finish("tick_other"); err != nil || n != 0 {
			t.Fatalf("fenced-off outcome: %d, %v", n, err)
		}
		if rows := listAlerts(t, st); len(rows) != 0 {
			t.Fatalf("a fenced-off outcome wrote alerts: %+v", rows)
		}

		// The outbox insert fails: the outcome is not recorded either.
		if _, err := st.DB().ExecContext(ctx, "ALTER TABLE tickflow_outbox RENAME TO tickflow_outbox_away"); err != nil {
			t.Fatal(err)
		}
		if _, err := finish("tick_1"); err == nil {
			t.Fatal("FinishRuns succeeded without its outbox table")
		}
		if got := mustGet(t, st, r.ID); got.Status != core.StatusRunning {
			t.Fatalf("the failure was recorded without its alert: %+v", got)
		}
		if _, err := st.DB().ExecContext(ctx, "ALTER TABLE tickflow_outbox_away RENAME TO tickflow_outbox"); err != nil {
			t.Fatal(err)
		}

		if n, err := finish("tick_1"); err != nil || n != 1 {
			t.Fatalf("FinishRuns: %d, %v", n, err)
		}
		rows := listAlerts(t, st)
		if len(rows) != 1 || rows[0].Kind != core.AlertRunFailed || rows[0].Key != "run-failed:"+strconv.FormatInt(r.ID, 10)+":1" ||
			rows[0].NextAttempt == nil || !rows[0].NextAttempt.Equal(t0.Add(time.Second)) || !rows[0].CreatedAt.Equal(t0.Add(time.Second)) {
			t.Fatalf("outbox = %+v", rows)
		}
		var body core.AlertBody
		if err := json.Unmarshal(rows[0].Body, &body); err != nil {
			t.Fatalf("body %s: %v", rows[0].Body, err)
		}
		if len(body.Runs) != 1 || body.Runs[0].Error != boom || body.Runs[0].Task != "t" || body.Runs[0].Schedule != "" || body.Runs[0].Slot != nil {
			t.Fatalf("body = %+v", body)
		}
	})
}

// TestWebhookDelivery delivers alerts through the webhook notifier to a
// test server that checks the signature: a 500 is retried, then accepted.
func TestWebhookDelivery(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		const secret = "0123456789abcdef-secret"
		var mu sync.Mutex
		var bodies [][]byte
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if !webhook.Verify([]byte(secret), b, r.Header.Get(webhook.SignatureHeader)) {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			bodies = append(bodies, b)
			if len(bodies) == 1 {
				http.Error(w, "try later", http.StatusInternalServerError)
			}
		}))
		defer srv.Close()
		n, err := webhook.New(webhook.Config{URL: srv.URL + "/hooks/T000/secret-token", Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		clock := core.NewStubClock(t0)
		reg := core.NewRegistry()
		if err := reg.Schedule("nightly", func(context.Context, core.RunInfo) error { return io.ErrUnexpectedEOF }, core.Every(time.Hour)); err != nil {
			t.Fatal(err)
		}
		e, err := core.NewEngine(core.Config{Store: st, Registry: reg, Clock: clock,
			Alerts: core.Alerts{Notifier: n, RetryDelay: time.Minute, TicksStoppedAfter: 24 * time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		tick := func(d time.Duration) core.Report {
			t.Helper()
			clock.Set(t0.Add(d))
			rep, err := e.Tick(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		tick(0)
		if rep := tick(time.Hour); rep.Failed != 1 || rep.AlertsFailed != 1 {
			t.Fatalf("tick at +1h: %+v, want a failed run and a failed delivery", rep)
		}
		row := listAlerts(t, st)[0]
		if !strings.Contains(row.LastError, "status 500") || strings.Contains(row.LastError, "secret-token") {
			t.Fatalf("last error %q: want the status, without the URL's token", row.LastError)
		}
		if rep := tick(time.Hour + 2*time.Minute); rep.AlertsDelivered != 1 {
			t.Fatalf("retry tick: %+v, want 1 delivered", rep)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(bodies) != 2 {
			t.Fatalf("server got %d signed posts, want 2", len(bodies))
		}
		var got struct {
			core.Alert
			SentAt int64 `json:"sent_at"`
		}
		if err := json.Unmarshal(bodies[1], &got); err != nil {
			t.Fatal(err)
		}
		if got.Kind != core.AlertRunFailed || got.Attempt != 2 || !strings.Contains(got.Text, "nightly") ||
			len(got.Runs) != 1 || got.Runs[0].Schedule != "nightly" || got.SentAt == 0 {
			t.Fatalf("posted alert = %s", bodies[1])
		}
	})
}
