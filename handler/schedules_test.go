package handler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tickflow/tickflow/core"
)

// schedulePage is GET /api/schedules's answer.
type schedulePage struct {
	Schedules []core.ScheduleRecord `json:"schedules"`
	Next      string                `json:"next"`
}

func (e *env) listSchedules(query string) schedulePage {
	e.t.Helper()
	var p schedulePage
	expect(e.t, e.do("GET", "/api/schedules"+query, ""), http.StatusOK).json(e.t, &p)
	return p
}

func names(recs []core.ScheduleRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Name)
	}
	return out
}

// scheduleState is every stored schedule, field by field (as JSON), and
// the runs and ticks: what a refused request must not change.
func (e *env) scheduleState() string {
	e.t.Helper()
	page, err := e.engine.ListSchedules(context.Background(), core.ScheduleFilter{Limit: core.MaxListLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := json.Marshal(page.Schedules)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.state() + " " + string(b)
}

// TestRuntimeSchedulesAPI: create (201, 409 on a duplicate key), upsert
// (201 created, 200 changed or unchanged), partial update (404 unknown,
// 409 for a code schedule's spec, its pause allowed), delete (204, 404,
// 409 for a code schedule), and the filtered, paginated list.
func TestRuntimeSchedulesAPI(t *testing.T) {
	e := newEnv(t)
	var rec core.ScheduleRecord
	expect(t, e.do("POST", "/api/schedules", `{"key":"acme/daily","task":"send_email","every":60,
		"payload":{"to":"ops@acme.example"},"labels":{"tenant":"acme","tier":"gold"},"retries":2,"name":"Acme mail"}`),
		http.StatusCreated).json(t, &rec)
	if rec.Name != "acme/daily" || rec.Origin != core.OriginAPI || rec.Task != "send_email" || rec.EverySeconds != 60 ||
		rec.Labels["tenant"] != "acme" || rec.Retries != 2 || rec.DisplayName != "Acme mail" || !strings.Contains(string(rec.Payload), "ops@acme") {
		t.Fatalf("created %+v", rec)
	}
	r := expect(t, e.do("POST", "/api/schedules", `{"key":"acme/daily","task":"send_email","every":30}`), http.StatusConflict)
	if msg := r.errorMessage(t); !strings.Contains(msg, "acme/daily") {
		t.Errorf("409 message %q does not name the key", msg)
	}
	expect(t, e.do("POST", "/api/schedules", `{"key":"cleanup","task":"send_email","every":30}`), http.StatusConflict)

	// The key is the path's, escaped.
	path := "/api/schedules/" + url.PathEscape("acme/daily")
	expect(t, e.do("GET", path, ""), http.StatusOK).json(t, &rec)
	if rec.Name != "acme/daily" {
		t.Fatalf("GET %s = %+v", path, rec)
	}

	// Upsert: created, unchanged, changed.
	body := `{"task":"send_email","cron":"0 8 * * 1","timezone":"Europe/Paris","labels":{"tenant":"globex"}}`
	expect(t, e.do("PUT", "/api/schedules/globex-weekly", body), http.StatusCreated).json(t, &rec)
	created := rec
	expect(t, e.do("PUT", "/api/schedules/globex-weekly", body), http.StatusOK).json(t, &rec)
	if !rec.UpdatedAt.Equal(created.UpdatedAt) || !rec.NextRun.Equal(created.NextRun) {
		t.Errorf("unchanged upsert moved the record: %+v -> %+v", created, rec)
	}
	rec = core.ScheduleRecord{}
	expect(t, e.do("PUT", "/api/schedules/globex-weekly", `{"key":"globex-weekly","task":"send_email","cron":"0 9 * * 1","timezone":"Europe/Paris"}`),
		http.StatusOK).json(t, &rec)
	if rec.Cron != "0 9 * * 1" || len(rec.Labels) != 0 {
		t.Errorf("changed upsert = %+v", rec)
	}
	expect(t, e.do("PUT", "/api/schedules/globex-weekly", `{"key":"other","task":"send_email","every":60}`), http.StatusBadRequest)
	expect(t, e.do("PUT", "/api/schedules/report", `{"task":"send_email","every":60}`), http.StatusConflict)

	// Partial update.
	rec = core.ScheduleRecord{}
	expect(t, e.do("PATCH", "/api/schedules/globex-weekly", `{"paused":true,"labels":{"tenant":"globex","env":"prod"},"end_at":"2027-01-01T00:00:00Z"}`),
		http.StatusOK).json(t, &rec)
	if !rec.Paused || rec.Labels["env"] != "prod" || rec.Cron != "0 9 * * 1" || rec.EndAt == nil {
		t.Errorf("patched = %+v", rec)
	}
	rec = core.ScheduleRecord{}
	expect(t, e.do("PATCH", "/api/schedules/globex-weekly", `{"end_at":""}`), http.StatusOK).json(t, &rec)
	if rec.EndAt != nil {
		t.Errorf(`"end_at":"" kept %v`, rec.EndAt)
	}
	expect(t, e.do("PATCH", "/api/schedules/nope", `{"paused":true}`), http.StatusNotFound).errorMessage(t)
	r = expect(t, e.do("PATCH", "/api/schedules/cleanup", `{"every":60}`), http.StatusConflict)
	if msg := r.errorMessage(t); !strings.Contains(msg, "declared in code") {
		t.Errorf("409 message %q", msg)
	}
	expect(t, e.do("PATCH", "/api/schedules/cleanup", `{"paused":true}`), http.StatusOK).json(t, &rec)
	if !rec.Paused || rec.Origin != core.OriginCode {
		t.Errorf("code schedule after pause = %+v", rec)
	}
	expect(t, e.do("PATCH", "/api/schedules/cleanup", `{"paused":false}`), http.StatusOK)

	// List: filters and pages.
	if got := names(e.listSchedules("").Schedules); !slices.Equal(got, []string{"acme/daily", "cleanup", "globex-weekly", "report"}) {
		t.Errorf("all schedules = %v", got)
	}
	for q, want := range map[string][]string{
		"?origin=api":                         {"acme/daily", "globex-weekly"},
		"?origin=code":                        {"cleanup", "report"},
		"?task=send_email&label=tenant=acme":  {"acme/daily"},
		"?label=tenant=globex&label=env=prod": {"globex-weekly"},
		"?label=tenant=initech":               nil,
		"?prefix=acme/":                       {"acme/daily"},
		"?paused=true":                        {"globex-weekly"},
		"?paused=false&origin=api":            {"acme/daily"},
		"?completed=false&prefix=c":           {"cleanup"},
		"?after=cleanup":                      {"globex-weekly", "report"},
	} {
		if got := names(e.listSchedules(q).Schedules); !slices.Equal(got, want) {
			t.Errorf("GET /api/schedules%s = %v, want %v", q, got, want)
		}
	}
	var pages [][]string
	for q := "?limit=3"; ; {
		p := e.listSchedules(q)
		pages = append(pages, names(p.Schedules))
		if p.Next == "" {
			break
		}
		q = "?limit=3&after=" + url.QueryEscape(p.Next)
	}
	if fmt.Sprint(pages) != "[[acme/daily cleanup globex-weekly] [report]]" {
		t.Errorf("pages of 3 = %v", pages)
	}

	// Delete: 204, then 404; a code schedule 409; the runs stay.
	res := expect(t, e.do("DELETE", path, ""), http.StatusNoContent)
	if len(res.body) != 0 {
		t.Errorf("204 with a body %q", res.body)
	}
	expect(t, e.do("DELETE", path, ""), http.StatusNotFound).errorMessage(t)
	expect(t, e.do("GET", path, ""), http.StatusNotFound)
	expect(t, e.do("DELETE", "/api/schedules/cleanup", ""), http.StatusConflict).errorMessage(t)
}

// TestRuntimeSchedulesBadInput: NUL bytes, invalid UTF-8, huge numbers,
// far-future times, an oversize payload, unknown fields and bad label
// selectors in every runtime schedule route answer 400 (413 above the
// body limit) naming the field, and write nothing, on both dialects.
func TestRuntimeSchedulesBadInput(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		expect(t, e.do("PUT", "/api/schedules/t1", `{"task":"send_email","every":60,"labels":{"tenant":"acme"}}`), http.StatusCreated)
		before := e.scheduleState()
		big := `{"key":"big","task":"send_email","every":60,"payload":"` + strings.Repeat("x", core.MaxPayloadBytes) + `"}`
		for _, c := range []struct{ method, path, body, field string }{
			{"POST", "/api/schedules", `{"key":"a\u0000b","task":"send_email","every":60}`, "key"},
			{"POST", "/api/schedules", "{\"key\":\"a\xffb\",\"task\":\"send_email\",\"every\":60}", "UTF-8"},
			{"POST", "/api/schedules", `{"key":"k","task":"send\u0000email","every":60}`, "task"},
			{"POST", "/api/schedules", `{"key":"k","task":"nope","every":60}`, "task"},
			{"POST", "/api/schedules", `{"key":"k","every":60}`, "task"},
			{"POST", "/api/schedules", `{"task":"send_email","every":60}`, "key"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email"}`, "every"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"cron":"* * * * *"}`, "cron"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":1e300}`, "every"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":-1}`, "every"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":0}`, "every"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"retries":99999999999999999999}`, "retries"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"max_runs":-1}`, "max_runs"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"max_runs":1e20}`, "max_runs"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"timeout_seconds":1e30}`, "timeout_seconds"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"backoff":0.5}`, "backoff"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","once_at":"9999-12-31T23:59:59Z"}`, "once_at"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","once_at":"tomorrow"}`, "once_at"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"end_at":"9999-01-01T00:00:00Z"}`, "end_at"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"start_at":"2027-01-01T00:00:00Z","end_at":"2026-01-01T00:00:00Z"}`, "end_at"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","cron":"0 0 31 2 *"}`, "cron"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","cron":"0 9 * * *","timezone":"Mars/Olympus"}`, "timezone"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"misfire":"later"}`, "misfire"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"payload":{"a":"\u0000"}}`, "payload"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"payload":["\ud800"]}`, "payload"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"labels":{"":"x"}}`, "labels"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"labels":{"t\u0000":"x"}}`, "labels"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"labels":{"t":"` + strings.Repeat("v", 256) + `"}}`, "labels"},
			{"POST", "/api/schedules", `{"key":"` + strings.Repeat("k", 201) + `","task":"send_email","every":60}`, "key"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60,"extra":1}`, "extra"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":"60"}`, "every"},
			{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60} {}`, "body"},
			{"POST", "/api/schedules", big, "payload"},
			{"PUT", "/api/schedules/t1", `{"key":"t2","task":"send_email","every":60}`, "key"},
			{"PUT", "/api/schedules/t1", `{"task":"send_email","every":60,"labels":{"tenant":"a\u0000"}}`, "labels"},
			{"PUT", "/api/schedules/a%00b", `{"task":"send_email","every":60}`, "key"},
			{"PUT", "/api/schedules/%ff", `{"task":"send_email","every":60}`, "key"},
			{"PUT", "/api/schedules/t1", `{"task":"send_email","every":60,"start_at":"0001-01-01T00:00:00Z"}`, "start_at"},
			{"PUT", "/api/schedules/t1", ``, "body"},
			{"PATCH", "/api/schedules/t1", `{"every":1e300}`, "every"},
			{"PATCH", "/api/schedules/t1", `{"task":"nope"}`, "task"},
			{"PATCH", "/api/schedules/t1", `{"end_at":"9999-12-31T23:59:59Z"}`, "end_at"},
			{"PATCH", "/api/schedules/t1", `{"overlap":"never"}`, "overlap"},
			{"PATCH", "/api/schedules/t1", `{"cron":"61 * * * *"}`, "cron"},
			{"PATCH", "/api/schedules/t1", `{"payload":"\ud800"}`, "payload"},
			{"PATCH", "/api/schedules/t1", `{"unknown":true}`, "unknown"},
			{"PATCH", "/api/schedules/%ff", `{"paused":true}`, "key"},
			{"DELETE", "/api/schedules/a%00b", ``, "key"},
			{"DELETE", "/api/schedules/t1", `{"force":true}`, "force"},
			{"GET", "/api/schedules?label=tenant", "", "label"},
			{"GET", "/api/schedules?label==acme", "", "label"},
			{"GET", "/api/schedules?label=tenant=a&label=tenant=b", "", "label"},
			{"GET", "/api/schedules?label=t%00=a", "", "label"},
			{"GET", "/api/schedules?label=%ff=a", "", "label"},
			{"GET", "/api/schedules?task=a%00b", "", "task"},
			{"GET", "/api/schedules?prefix=%ff", "", "prefix"},
			{"GET", "/api/schedules?after=a%00", "", "after"},
			{"GET", "/api/schedules?origin=cloud", "", "origin"},
			{"GET", "/api/schedules?paused=yes", "", "paused"},
			{"GET", "/api/schedules?completed=1", "", "completed"},
			{"GET", "/api/schedules?limit=0", "", "limit"},
			{"GET", "/api/schedules?limit=1001", "", "limit"},
			{"GET", "/api/schedules?limit=99999999999999999999", "", "limit"},
			{"GET", "/api/schedules?task=a&task=b", "", "task"},
		} {
			r := e.do(c.method, c.path, c.body)
			if r.status != http.StatusBadRequest {
				t.Errorf("%s %s %.80q: %d %s, want 400", c.method, c.path, c.body, r.status, r.body)
				continue
			}
			if msg := r.errorMessage(t); !strings.Contains(msg, c.field) {
				t.Errorf("%s %s %.80q: message %q does not name %s", c.method, c.path, c.body, msg, c.field)
			}
		}
		// Above the body limit: 413.
		huge := `{"key":"k","task":"send_email","every":60,"payload":"` + strings.Repeat("x", 2<<20) + `"}`
		expect(t, e.do("POST", "/api/schedules", huge), http.StatusRequestEntityTooLarge)
		if after := e.scheduleState(); after != before {
			t.Fatalf("bad input changed the store:\nbefore %s\nafter  %s", before, after)
		}
		// The limits themselves are served.
		expect(t, e.do("GET", fmt.Sprintf("/api/schedules?limit=%d", core.MaxListLimit), ""), http.StatusOK)
		expect(t, e.do("POST", "/api/schedules", `{"key":"edge","task":"send_email","once_at":"2199-12-31T23:59:59Z","payload":"`+
			strings.Repeat("x", core.MaxPayloadBytes-2)+`"}`), http.StatusCreated)
	})
}

// TestRuntimeSchedulesGuards: the new routes answer 401 without the token,
// 403 to a cross-origin page, 415 to a body not sent as JSON, 421 to a
// foreign Host, and write nothing.
func TestRuntimeSchedulesGuards(t *testing.T) {
	e := newEnv(t, withToken("tok"))
	expect(t, e.do("PUT", "/api/schedules/t1", `{"task":"send_email","every":60}`), http.StatusCreated)
	before := e.scheduleState()
	for _, rt := range []struct{ method, path, body string }{
		{"POST", "/api/schedules", `{"key":"k","task":"send_email","every":60}`},
		{"PUT", "/api/schedules/k", `{"task":"send_email","every":60}`},
		{"PATCH", "/api/schedules/t1", `{"paused":true}`},
		{"DELETE", "/api/schedules/t1", ``},
	} {
		expect(t, e.call(rt.method, rt.path, rt.body, false), http.StatusUnauthorized)
		req, _ := http.NewRequest(rt.method, e.srv.URL+rt.path, strings.NewReader(rt.body))
		req.Header.Set("Authorization", "Bearer tok")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		expect(t, e.send(req), http.StatusForbidden)
		if rt.body != "" {
			req, _ = http.NewRequest(rt.method, e.srv.URL+rt.path, strings.NewReader(rt.body))
			req.Header.Set("Authorization", "Bearer tok")
			req.Header.Set("Content-Type", "text/plain")
			expect(t, e.send(req), http.StatusUnsupportedMediaType)
		}
	}
	if after := e.scheduleState(); after != before {
		t.Fatalf("refused requests changed the store:\nbefore %s\nafter  %s", before, after)
	}
	open := newEnv(t)
	req, _ := http.NewRequest("POST", "/api/schedules", strings.NewReader(`{"key":"k","task":"send_email","every":60}`))
	req.Host = "evil.example"
	req.Header.Set("Content-Type", "application/json")
	if r := open.serve(req); r.status != http.StatusMisdirectedRequest {
		t.Fatalf("foreign Host: %d, want 421", r.status)
	}
	if got := names(open.listSchedules("?origin=api").Schedules); len(got) != 0 {
		t.Fatalf("refused host wrote %v", got)
	}
}
