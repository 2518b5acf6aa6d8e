package handler_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// slotsPath is GET /api/schedules/{name}/slots for [from, to).
func slotsPath(name string, from, to time.Time) string {
	return "/api/schedules/" + name + "/slots?from=" + url.QueryEscape(from.Format(time.RFC3339)) +
		"&to=" + url.QueryEscape(to.Format(time.RFC3339))
}

func backfillBody(from, to time.Time, dry bool) string {
	b := `{"from":"` + from.Format(time.RFC3339) + `","to":"` + to.Format(time.RFC3339) + `"`
	if dry {
		b += `,"dry_run":true`
	}
	return b + "}"
}

// TestAuditAndBackfillAPI: after an outage the slots route reports the
// coalesced slots; a dry-run backfill lists them and writes nothing, a
// backfill creates them once, on both dialects.
func TestAuditAndBackfillAPI(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		min := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
		e.tick()
		e.clock.Set(min(5))
		e.tick()
		e.clock.Set(min(30)) // outage: +10m..+25m folded into +30m's run
		e.tick()

		var a core.AuditResult
		expect(t, e.do("GET", slotsPath("cleanup", min(0), min(40)), ""), http.StatusOK).json(t, &a)
		if len(a.Slots) != 7 || a.Counts[core.SlotSuccess] != 2 || a.Counts[core.SlotCoalesced] != 4 ||
			a.Counts[core.SlotNotYetDue] != 1 || a.Missed() != 0 {
			t.Fatalf("audit: %+v", a)
		}
		if s := a.Slots[1]; s.Outcome != core.SlotCoalesced || s.RunID == 0 || !s.Covered {
			t.Errorf("slot +10m: %+v, want coalesced into a run", s)
		}

		before := e.state()
		var dry core.BackfillResult
		expect(t, e.do("POST", "/api/schedules/cleanup/backfill", backfillBody(min(0), min(40), true)), http.StatusOK).json(t, &dry)
		if dry.Created != 4 || len(dry.Slots) != 4 || !dry.DryRun {
			t.Fatalf("dry run: %+v", dry)
		}
		if after := e.state(); after != before {
			t.Fatalf("dry run wrote:\nbefore %s\nafter  %s", before, after)
		}
		var bf core.BackfillResult
		expect(t, e.do("POST", "/api/schedules/cleanup/backfill", backfillBody(min(0), min(40), false)), http.StatusCreated).json(t, &bf)
		if bf.Created != 4 || bf.Slots[0].RunID == 0 {
			t.Fatalf("backfill: %+v", bf)
		}
		expect(t, e.do("POST", "/api/schedules/cleanup/backfill", backfillBody(min(0), min(40), false)), http.StatusCreated).json(t, &bf)
		if bf.Created != 0 || len(bf.Slots) != 0 {
			t.Errorf("second backfill: %+v, want nothing created", bf)
		}
		e.tick()
		expect(t, e.do("GET", slotsPath("cleanup", min(0), min(31)), ""), http.StatusOK).json(t, &a)
		if a.Counts[core.SlotSuccess] != 6 || len(a.Slots) != 6 {
			t.Errorf("audit after the backfill ran: %v", a.Counts)
		}
	})
}

// TestAuditAndBackfillBadInput: bad windows and text are 400, unknown
// schedules 404, a paused schedule's backfill 409; nothing is written.
func TestAuditAndBackfillBadInput(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		e.tick()
		e.clock.Set(t0.Add(time.Hour))
		e.tick()
		before := e.state()
		from, to := t0.Format(time.RFC3339), t0.Add(time.Hour).Format(time.RFC3339)
		q := func(f, t string) string { return "?from=" + f + "&to=" + t }
		body := func(f, t string) string { return `{"from":"` + f + `","to":"` + t + `"}` }
		for _, c := range []struct {
			method, path, body string
			want               int
		}{
			{"GET", "/api/schedules/cleanup/slots", "", 400},
			{"GET", "/api/schedules/cleanup/slots?from=" + from, "", 400},
			{"GET", "/api/schedules/cleanup/slots" + q(to, from), "", 400},
			{"GET", "/api/schedules/cleanup/slots" + q(from, from), "", 400},
			{"GET", "/api/schedules/cleanup/slots" + q(from, "2027-03-12T12:00:00Z"), "", 400},
			{"GET", "/api/schedules/cleanup/slots" + q(from, "2027-02-20T12:00:00Z"), "", 400}, // > 100,000 slots
			{"GET", "/api/schedules/cleanup/slots" + q(from, "9999-12-31T23:59:59Z"), "", 400},
			{"GET", "/api/schedules/cleanup/slots" + q("1970-01-01T00:00:00Z", to), "", 400},
			{"GET", "/api/schedules/cleanup/slots" + q("2026-03-09T12:00:00Z%00", to), "", 400},
			{"GET", "/api/schedules/cleanup/slots" + q("%ff", to), "", 400},
			{"GET", "/api/schedules/cleanup/slots" + q("yesterday", to), "", 400},
			{"GET", "/api/schedules/cleanup/slots" + q(from, to) + "&from=" + from, "", 400},
			{"GET", "/api/schedules/a%00b/slots" + q(from, to), "", 400},
			{"GET", "/api/schedules/%ff/slots" + q(from, to), "", 400},
			{"GET", "/api/schedules/nope/slots" + q(from, to), "", 404},
			{"POST", "/api/schedules/cleanup/backfill", "", 400},
			{"POST", "/api/schedules/cleanup/backfill", body(to, from), 400},
			{"POST", "/api/schedules/cleanup/backfill", body(from, "9999-12-31T23:59:59Z"), 400},
			{"POST", "/api/schedules/cleanup/backfill", body(from, "2027-03-12T12:00:00Z"), 400},
			{"POST", "/api/schedules/cleanup/backfill", body(from+`\u0000`, to), 400},
			{"POST", "/api/schedules/cleanup/backfill", "{\"from\":\"\xff\",\"to\":\"" + to + "\"}", 400},
			{"POST", "/api/schedules/cleanup/backfill", body("", to), 400},
			{"POST", "/api/schedules/cleanup/backfill", `{"from":"` + from + `","to":"` + to + `","force":true}`, 400},
			{"POST", "/api/schedules/cleanup/backfill", `{"from":1,"to":2}`, 400},
			{"POST", "/api/schedules/a%00b/backfill", body(from, to), 400},
			{"POST", "/api/schedules/nope/backfill", body(from, to), 404},
		} {
			r := e.do(c.method, c.path, c.body)
			if r.status != c.want {
				t.Errorf("%s %s %q: %d %s, want %d", c.method, c.path, c.body, r.status, r.body, c.want)
				continue
			}
			r.errorMessage(t)
		}
		if after := e.state(); after != before {
			t.Fatalf("bad input changed the store:\nbefore %s\nafter  %s", before, after)
		}
		n := len(e.runs())
		expect(t, e.do("POST", "/api/schedules/cleanup/pause", ""), http.StatusOK)
		r := expect(t, e.do("POST", "/api/schedules/cleanup/backfill", body(from, to)), http.StatusConflict)
		if msg := r.errorMessage(t); !strings.Contains(msg, "paused") {
			t.Errorf("409 message %q does not say paused", msg)
		}
		if len(e.runs()) != n {
			t.Errorf("a paused schedule's backfill wrote runs")
		}
	})
}
