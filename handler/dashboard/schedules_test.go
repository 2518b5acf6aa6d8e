package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tickflow/tickflow/core"
)

var scheduleRowRE = regexp.MustCompile(`<tr id="schedule-([^"]+)"`)

// scheduleKeys lists the schedule rows of a schedules page, in page order.
func (p page) scheduleKeys() []string {
	var out []string
	for _, m := range scheduleRowRE.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

func (e *env) apiSchedules() []string {
	e.t.Helper()
	page, err := e.engine.ListSchedules(context.Background(), core.ScheduleFilter{Origin: core.OriginAPI, Limit: core.MaxListLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, r := range page.Schedules {
		out = append(out, r.Name)
	}
	return out
}

// TestDashboardSchedulesSearchAndPages: the schedules page lists 50 by key
// with a Next page link that keeps the search; the search by key prefix,
// task, label and origin selects through GET parameters; an origin column
// and a delete button on runtime schedules only.
func TestDashboardSchedulesSearchAndPages(t *testing.T) {
	e := newEnv(t)
	c := newDashClient(e)
	var ps []core.ScheduleParams
	for i := range 60 {
		tenant := "acme"
		if i%2 == 1 {
			tenant = "globex"
		}
		ps = append(ps, core.ScheduleParams{Key: fmt.Sprintf("t%02d", i), Task: "send_email", Every: 3600e9, Labels: map[string]string{"tenant": tenant}})
	}
	if _, err := e.engine.UpsertSchedules(context.Background(), ps); err != nil {
		t.Fatal(err)
	}

	first := c.get("/ui/schedules").want(t, http.StatusOK)
	keys := first.scheduleKeys()
	if len(keys) != 50 || keys[0] != "cleanup" || keys[2] != "t00" || keys[49] != "t47" {
		t.Fatalf("first page = %v", keys)
	}
	first.has(t, `<td data-label="Origin" class="origin">code</td>`, `<td data-label="Origin" class="origin">api</td>`,
		`action="/ui/schedules/t00/delete"`, `href="/ui/schedules?after=t47" id="next-page"`, `id="create-form"`, `<option value="send_email">`)
	first.lacks(t, `action="/ui/schedules/cleanup/delete"`)
	second := c.get("/ui/schedules?after=t47").want(t, http.StatusOK)
	if got := strings.Join(second.scheduleKeys(), " "); got != "t48 t49 t50 t51 t52 t53 t54 t55 t56 t57 t58 t59" {
		t.Fatalf("second page = %s", got)
	}
	second.lacks(t, `id="next-page"`).has(t, `id="first-page"`)

	for q, want := range map[string]string{
		"?prefix=t5":                       "t50 t51 t52 t53 t54 t55 t56 t57 t58 t59",
		"?prefix=t1&label=tenant%3Dglobex": "t11 t13 t15 t17 t19",
		"?task=report":                     "report",
		"?origin=code":                     "cleanup report",
		"?label=tenant%3Dinitech":          "",
	} {
		p := c.get("/ui/schedules"+q).want(t, http.StatusOK)
		if got := strings.Join(p.scheduleKeys(), " "); got != want {
			t.Errorf("search %s = %q, want %q", q, got, want)
		}
	}
	c.get("/ui/schedules?label=tenant%3Dinitech").has(t, "No schedule matches this search")
	// The search keeps its filters on the next page.
	acme := c.get("/ui/schedules?label=tenant%3Dacme&task=send_email").want(t, http.StatusOK)
	if n := len(acme.scheduleKeys()); n != 30 {
		t.Errorf("acme schedules = %d, want 30", n)
	}
	for _, bad := range []string{"?label=tenant", "?prefix=%00", "?origin=cloud", "?label=%ff%3Da"} {
		c.get("/ui/schedules"+bad).want(t, http.StatusBadRequest)
	}
}

// TestDashboardCreateAndDeleteSchedule: the create form stores a runtime
// schedule and redirects to it with a message; bad input renders the form
// again as typed with the message (400; 409 for a key taken) and writes
// nothing; delete removes a runtime schedule and refuses a code one (409);
// with a token both need a session, and a cross-origin form is refused.
func TestDashboardCreateAndDeleteSchedule(t *testing.T) {
	e := newEnv(t)
	c := newDashClient(e)
	form := url.Values{"key": {"acme/report"}, "task": {"send_email"}, "cron": {"0 9 * * 1"}, "timezone": {"Europe/Paris"},
		"payload": {`{"to":"ops@acme.example"}`}, "labels": {"tenant=acme\ntier=gold"}, "name": {"Acme report"}}
	c.post("/ui/schedules", form).redirect(t, "/ui/schedules?prefix=acme%2Freport")
	c.get("/ui/schedules?prefix=acme%2Freport").want(t, http.StatusOK).has(t, "Created schedule acme/report: at 09:00 every Monday, Europe/Paris.", "Acme report")
	rec := e.schedule("acme/report")
	if rec.Origin != core.OriginAPI || rec.Labels["tier"] != "gold" || !strings.Contains(string(rec.Payload), "ops@acme") {
		t.Fatalf("created %+v", rec)
	}

	for _, c2 := range []struct {
		form   url.Values
		status int
		msg    string
	}{
		{url.Values{"key": {"acme/report"}, "task": {"send_email"}, "every": {"5m"}}, http.StatusConflict, "acme/report"},
		{url.Values{"key": {""}, "task": {"send_email"}, "every": {"5m"}}, http.StatusBadRequest, "key"},
		{url.Values{"key": {"k"}, "task": {"nope"}, "every": {"5m"}}, http.StatusBadRequest, "task"},
		{url.Values{"key": {"k"}, "task": {"send_email"}, "every": {"often"}}, http.StatusBadRequest, "every"},
		{url.Values{"key": {"k"}, "task": {"send_email"}, "every": {"-5m"}}, http.StatusBadRequest, "every"},
		{url.Values{"key": {"k"}, "task": {"send_email"}, "cron": {"0 0 31 2 *"}}, http.StatusBadRequest, "cron"},
		{url.Values{"key": {"k"}, "task": {"send_email"}, "cron": {"0 9 * * *"}, "timezone": {"Mars/Olympus"}}, http.StatusBadRequest, "timezone"},
		{url.Values{"key": {"k"}, "task": {"send_email"}, "once_at": {"9999-12-31T23:59:59Z"}}, http.StatusBadRequest, "once_at"},
		{url.Values{"key": {"k"}, "task": {"send_email"}, "every": {"5m"}, "payload": {"{"}}, http.StatusBadRequest, "payload"},
		{url.Values{"key": {"k"}, "task": {"send_email"}, "every": {"5m"}, "payload": {`{"a":"\u0000"}`}}, http.StatusBadRequest, "payload"},
		{url.Values{"key": {"k"}, "task": {"send_email"}, "every": {"5m"}, "labels": {"tenant"}}, http.StatusBadRequest, "labels"},
		{url.Values{"key": {"k\x00"}, "task": {"send_email"}, "every": {"5m"}}, http.StatusBadRequest, "key"},
		{url.Values{"key": {"k\xff"}, "task": {"send_email"}, "every": {"5m"}}, http.StatusBadRequest, "key"},
	} {
		p := c.post("/ui/schedules", c2.form)
		if p.status != c2.status {
			t.Errorf("create %v: %d, want %d", c2.form, p.status, c2.status)
			continue
		}
		p.want(t, c2.status).has(t, `id="form-error"`, `id="create-form"`)
		if msg := regexp.MustCompile(`id="form-error">([^<]*)<`).FindStringSubmatch(p.body); msg == nil || !strings.Contains(msg[1], c2.msg) {
			t.Errorf("create %v: error %q does not name %s", c2.form, msg, c2.msg)
		}
		if v := c2.form.Get("every"); v != "" && !strings.Contains(p.body, `value="`+v+`"`) {
			t.Errorf("create %v: the form lost what was typed", c2.form)
		}
	}
	if got := e.apiSchedules(); strings.Join(got, " ") != "acme/report" {
		t.Fatalf("runtime schedules after refused forms: %v", got)
	}

	c.post("/ui/schedules/report/delete", url.Values{"next": {"/ui/schedules"}}).want(t, http.StatusConflict).has(t, "declared in code")
	c.post("/ui/schedules/"+url.PathEscape("acme/report")+"/delete", url.Values{"next": {"/ui/schedules?origin=api"}}).redirect(t, "/ui/schedules?origin=api")
	c.get("/ui/schedules?origin=api").has(t, "Deleted schedule acme/report")
	c.post("/ui/schedules/"+url.PathEscape("acme/report")+"/delete", nil).want(t, http.StatusNotFound)
	if got := e.apiSchedules(); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}

	// A token: the forms need a session; another site's form is refused.
	tok := newEnv(t, withToken("s3cret"))
	tc := newDashClient(tok)
	create := url.Values{"key": {"k"}, "task": {"send_email"}, "every": {"5m"}}
	tc.post("/ui/schedules", create).want(t, http.StatusUnauthorized)
	tc.header.Set("Origin", "http://evil.example")
	tc.header.Set("Sec-Fetch-Site", "cross-site")
	tc.post("/ui/schedules", create).want(t, http.StatusForbidden)
	tc.header = http.Header{}
	tc.signIn("s3cret")
	tc.post("/ui/schedules", create).redirect(t, "/ui/schedules?prefix=k")
	tc.header.Set("Origin", "http://evil.example")
	tc.header.Set("Sec-Fetch-Site", "cross-site")
	tc.post("/ui/schedules/k/delete", nil).want(t, http.StatusForbidden)
	if got := tok.apiSchedules(); strings.Join(got, " ") != "k" {
		t.Fatalf("runtime schedules with a token: %v", got)
	}
}
