package dashboard_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/sqlstore"
)

// mins is t0 plus n minutes.
func mins(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// stripCellRE matches a history strip's cell.
var stripCellRE = regexp.MustCompile(`<a role="listitem" class="cell o-[a-z_]+" data-outcome="([a-z_]+)" href="([^"]+)" title="([^"]+)"`)

// stripCell is a parsed history strip cell.
type stripCell struct{ outcome, href, title string }

// strip returns the cells of the history strip of a schedule row.
func (p page) strip(t *testing.T, schedule string) []stripCell {
	t.Helper()
	start := strings.Index(p.body, `<tr id="schedule-`+schedule+`"`)
	if start < 0 {
		t.Fatalf("no row for %s:\n%s", schedule, p.body)
	}
	row := p.body[start:]
	row = row[:strings.Index(row, "</tr>")]
	var out []stripCell
	for _, m := range stripCellRE.FindAllStringSubmatch(row, -1) {
		out = append(out, stripCell{m[1], htmlUnescape(m[2]), htmlUnescape(m[3])})
	}
	return out
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'").Replace(s)
}

func outcomes(cells []stripCell) string {
	var o []string
	for _, c := range cells {
		o = append(o, c.outcome)
	}
	return strings.Join(o, " ")
}

// svgMarks checks that the page's chart is well-formed XML and counts its
// run marks (and their run ids) and missed-slot crosses.
func (p page) svgMarks(t *testing.T) (runs []string, misses int) {
	t.Helper()
	start, end := strings.Index(p.body, `<svg id="chart"`), strings.Index(p.body, "</svg>")
	if start < 0 || end < start {
		t.Fatalf("no chart:\n%s", p.body)
	}
	dec := xml.NewDecoder(strings.NewReader(p.body[start : end+len("</svg>")]))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed XML: %v\n%s", err, p.body[start:end+6])
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := map[string]string{}
		for _, a := range el.Attr {
			attr[a.Name.Local] = a.Value
		}
		switch class := " " + attr["class"] + " "; {
		case strings.Contains(class, " mark "):
			runs = append(runs, attr["data-run"])
		case strings.Contains(class, " miss "):
			misses++
		}
	}
	return runs, misses
}

// outage runs cleanup's first slot (+5m), then no tick until +30m, whose
// tick records one run for +30m standing for +10m … +30m (misfire
// coalesce). It returns the two runs' ids.
func (e *env) outage() (first, coalesced int64) {
	e.t.Helper()
	e.tick()
	e.clock.Set(mins(5))
	e.tick()
	e.clock.Set(mins(30))
	e.tick()
	first, coalesced = e.slotRun("cleanup", mins(5)), e.slotRun("cleanup", mins(30))
	if first == 0 || coalesced == 0 {
		e.t.Fatalf("runs after the outage: %+v", e.runs())
	}
	return first, coalesced
}

// slotRun is the id of the schedule's run for slot (0: none).
func (e *env) slotRun(schedule string, slot time.Time) int64 {
	for _, r := range e.runs() {
		if r.Schedule == schedule && r.Slot != nil && r.Slot.Equal(slot) {
			return r.ID
		}
	}
	return 0
}

// loseRun deletes a run row, as if its record were lost (or pruned): its
// slots become missed, the schedule being past them.
func (e *env) loseRun(id int64) {
	e.t.Helper()
	if _, err := e.store.Store.(*sqlstore.Store).DB().Exec(`DELETE FROM tickflow_runs WHERE id = $1`, id); err != nil {
		e.t.Fatal(err)
	}
}

func forDialects(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) { f(t, d) })
	}
}

// TestDashboardHistoryStrip: after an outage the strip of the schedule's
// row shows its slots, oldest first, each linking to its run (the
// coalesced ones to the run standing for them); once that run's record is
// gone they are missed, linking to the schedule's audit around them; the
// future slot is left out; every cell says its slot and outcome in words.
func TestDashboardHistoryStrip(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, withDialect(dialect))
		c := newDashClient(e)
		first, coalesced := e.outage()

		cells := c.get("/ui/schedules").want(t, http.StatusOK).strip(t, "cleanup")
		if got := outcomes(cells); got != "success coalesced coalesced coalesced coalesced success" {
			t.Fatalf("strip = %s", got)
		}
		if cells[0].href != fmt.Sprintf("/ui/runs/%d", first) || cells[2].href != fmt.Sprintf("/ui/runs/%d", coalesced) ||
			cells[5].href != fmt.Sprintf("/ui/runs/%d", coalesced) {
			t.Errorf("strip links: %+v", cells)
		}
		if want := "2026-03-09 12:15:00 UTC: coalesced into a later run (in run #" + itoa(coalesced) + ")"; cells[2].title != want {
			t.Errorf("cell title %q, want %q", cells[2].title, want)
		}
		for _, cell := range cells {
			c.get(cell.href).want(t, http.StatusOK)
		}

		e.loseRun(coalesced)
		p := c.get("/ui/schedules").want(t, http.StatusOK)
		cells = p.strip(t, "cleanup")
		if got := outcomes(cells); got != "success missed missed missed missed missed" {
			t.Fatalf("strip after the lost run = %s", got)
		}
		miss := cells[1]
		if !strings.Contains(miss.title, "12:10:00 UTC: missed (no run)") || !strings.Contains(p.body, `aria-label="2026-03-09 12:10:00 UTC: missed (no run)"`) {
			t.Errorf("missed cell: %+v", miss)
		}
		want := "/ui/schedules/cleanup?from=2026-03-09T06%3A10%3A00Z&to=2026-03-09T18%3A10%3A00Z#slot-" + fmt.Sprint(mins(10).Unix())
		if miss.href != want {
			t.Errorf("missed cell links to %q, want %q", miss.href, want)
		}
		c.get(miss.href).want(t, http.StatusOK).has(t, fmt.Sprintf(`<tr id="slot-%d" data-outcome="missed">`, mins(10).Unix()))
		// The cron schedule has had no slot yet.
		if cells := p.strip(t, "report"); len(cells) != 0 {
			t.Errorf("report's strip: %+v", cells)
		}
	})
}

// TestDashboardSchedulePage: the schedule's page charts one mark per run
// (well-formed SVG, marks linking to their runs) and a cross per missed
// slot, lists every slot of the window with counts, and defaults to the
// last 24 hours; no script is needed and the page's CSP is unchanged.
func TestDashboardSchedulePage(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, withDialect(dialect))
		c := newDashClient(e)
		first, coalesced := e.outage()
		window := "?from=" + url.QueryEscape(t0.Format(time.RFC3339)) + "&to=" + url.QueryEscape(mins(40).Format(time.RFC3339))

		p := c.get("/ui/schedules/cleanup"+window).want(t, http.StatusOK)
		runs, misses := p.svgMarks(t)
		if strings.Join(runs, " ") != itoa(first)+" "+itoa(coalesced) || misses != 0 {
			t.Fatalf("chart marks %v, %d misses; want runs %d %d", runs, misses, first, coalesced)
		}
		if n := strings.Count(p.body, `<path class="fold"`); n != 4 {
			t.Errorf("chart has %d coalesced ticks, want 4", n)
		}
		p.has(t, "7 slots", ">2 success<", ">4 coalesced<", ">1 not_yet_due<", `href="/ui/runs/`+itoa(coalesced)+`"><circle`,
			`<tr id="slot-`+fmt.Sprint(mins(35).Unix())+`" data-outcome="not_yet_due">`, "Clean up sessions")
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("CSP %q", csp)
		}
		p.lacks(t, "<script>", "style=", "https://")

		e.loseRun(coalesced)
		runs, misses = c.get("/ui/schedules/cleanup"+window).want(t, http.StatusOK).svgMarks(t)
		if len(runs) != 1 || misses != 5 {
			t.Fatalf("after the lost run: marks %v, %d misses; want 1 run, 5 missed", runs, misses)
		}

		def := c.get("/ui/schedules/cleanup").want(t, http.StatusOK)
		def.has(t, `value="2026-03-08T12:31:00Z"`, `value="2026-03-09T12:31:00Z"`)
		if r, m := def.svgMarks(t); len(r) != 1 || m != 5 {
			t.Errorf("default window: marks %v, %d misses", r, m)
		}
		c.get("/ui/schedules/report").want(t, http.StatusOK).has(t, "The schedule has no slot in this window.")
		c.get("/ui/schedules/nope").want(t, http.StatusNotFound)
	})
}

// TestDashboardBackfill: the preview is a dry run (nothing written); the
// confirm button creates the runs once (a second press creates none);
// hostile windows are 400 on the page and on the button, writing nothing;
// another site's form is refused.
func TestDashboardBackfill(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, withDialect(dialect))
		c := newDashClient(e)
		_, coalesced := e.outage()
		e.loseRun(coalesced)
		before := len(e.runs())
		from, to := t0.Format(time.RFC3339), mins(40).Format(time.RFC3339)
		window := "?from=" + url.QueryEscape(from) + "&to=" + url.QueryEscape(to)

		c.get("/ui/schedules/cleanup"+window).want(t, http.StatusOK).has(t, `id="backfill-dry-run"`)
		preview := c.get("/ui/schedules/cleanup"+window+"&backfill=preview").want(t, http.StatusOK)
		preview.has(t, "This would create <b>5</b> runs", "2026-03-09 12:10:00 UTC", `id="backfill-confirm"`,
			`<input type="hidden" name="from" value="`+from+`">`)
		if n := len(e.runs()); n != before {
			t.Fatalf("the preview wrote: %d runs, want %d", n, before)
		}

		form := url.Values{"from": {from}, "to": {to}, "next": {"/ui/schedules/cleanup" + window}}
		c.post("/ui/schedules/cleanup/backfill", form).redirect(t, "/ui/schedules/cleanup"+window)
		c.get("/ui/schedules/cleanup"+window).has(t, "Backfilled cleanup: 5 runs created")
		if n := len(e.runs()); n != before+5 {
			t.Fatalf("after the backfill: %d runs, want %d", n, before+5)
		}
		c.post("/ui/schedules/cleanup/backfill", form).redirect(t, "/ui/schedules/cleanup"+window)
		c.get("/ui/schedules/cleanup"+window).has(t, "Nothing to backfill")
		if n := len(e.runs()); n != before+5 {
			t.Fatalf("a second backfill wrote: %d runs, want %d", n, before+5)
		}
		p := c.get("/ui/schedules/cleanup"+window+"&backfill=preview").want(t, http.StatusOK)
		p.has(t, "Nothing to backfill")
		if _, misses := p.svgMarks(t); misses != 0 {
			t.Errorf("%d missed slots after the backfill", misses)
		}

		// Hostile windows: 400, nothing written.
		n := len(e.runs())
		for _, q := range []url.Values{
			{"from": {to}, "to": {from}},                                       // reversed
			{"from": {"2026-03-09T12:00:00Z\x00"}, "to": {to}},                 // NUL
			{"from": {"9999-01-01T00:00:00Z"}, "to": {"9999-01-02T00:00:00Z"}}, // far future
			{"from": {"2024-01-01T00:00:00Z"}, "to": {"2026-03-09T00:00:00Z"}}, // over a year
			{"from": {"yesterday"}, "to": {to}},
			{"from": {from}, "to": {"2026-03-09T12:00:00Z"}}, // empty window
		} {
			c.get("/ui/schedules/cleanup?"+q.Encode()).want(t, http.StatusBadRequest)
			c.get("/ui/schedules/cleanup?"+q.Encode()+"&backfill=preview").want(t, http.StatusBadRequest)
			q.Set("next", "/ui/schedules/cleanup")
			c.post("/ui/schedules/cleanup/backfill", q).want(t, http.StatusBadRequest)
		}
		c.post("/ui/schedules/cleanup/backfill", url.Values{"from": {from}}).want(t, http.StatusBadRequest)
		c.post("/ui/schedules/nope/backfill", url.Values{"from": {from}, "to": {to}}).want(t, http.StatusNotFound)
		if _, err := e.engine.SetSchedulePaused(context.Background(), "cleanup", true); err != nil {
			t.Fatal(err)
		}
		c.get("/ui/schedules/cleanup"+window).has(t, "cannot be backfilled").lacks(t, `id="backfill-dry-run"`)
		c.get("/ui/schedules/cleanup"+window+"&backfill=preview").want(t, http.StatusOK).has(t, `id="backfill-error"`, "paused")
		c.post("/ui/schedules/cleanup/backfill", url.Values{"from": {from}, "to": {to}}).want(t, http.StatusConflict)
		if got := len(e.runs()); got != n {
			t.Fatalf("hostile input wrote: %d runs, want %d", got, n)
		}
	})

	// With a token the button needs a session, and another site's form is
	// refused.
	e := newEnv(t, withToken("s3cret"))
	c := newDashClient(e)
	_, coalesced := e.outage()
	e.loseRun(coalesced)
	n := len(e.runs())
	form := url.Values{"from": {t0.Format(time.RFC3339)}, "to": {mins(40).Format(time.RFC3339)}}
	c.post("/ui/schedules/cleanup/backfill", form).want(t, http.StatusUnauthorized)
	c.signIn("s3cret")
	c.header.Set("Origin", "http://evil.example")
	c.header.Set("Sec-Fetch-Site", "cross-site")
	c.post("/ui/schedules/cleanup/backfill", form).want(t, http.StatusForbidden)
	if got := len(e.runs()); got != n {
		t.Fatalf("refused forms wrote: %d runs, want %d", got, n)
	}
	c.header = http.Header{}
	c.post("/ui/schedules/cleanup/backfill", form).redirect(t, "/ui/schedules/cleanup")
	if got := len(e.runs()); got != n+5 {
		t.Fatalf("signed-in backfill: %d runs, want %d", got, n+5)
	}
}

// TestDashboardSchedulesPageCost: a page of 50 schedules with 20 slots of
// history each reads the runs of all its strips in one store call; the
// median time to render it is logged (go test -v), and bounded loosely.
func TestDashboardSchedulesPageCost(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := newEnv(t, withDialect(dialect))
		c := newDashClient(e)
		var ps []core.ScheduleParams
		for i := range 48 {
			ps = append(ps, core.ScheduleParams{Key: fmt.Sprintf("m%02d", i), Task: "send_email", Every: time.Minute})
		}
		if _, err := e.engine.UpsertSchedules(context.Background(), ps); err != nil {
			t.Fatal(err)
		}
		for i := range 21 {
			e.clock.Set(mins(i))
			e.tick()
		}
		const renders = 15
		var took []time.Duration
		for range renders {
			reads := e.store.slotReads.Load()
			start := time.Now()
			p := c.get("/ui/schedules").want(t, http.StatusOK)
			took = append(took, time.Since(start))
			if n := e.store.slotReads.Load() - reads; n != 1 {
				t.Fatalf("one page read the runs %d times, want once", n)
			}
			if keys := p.scheduleKeys(); len(keys) != 50 {
				t.Fatalf("%d rows", len(keys))
			}
			if cells := p.strip(t, "m47"); len(cells) != 20 || outcomes(cells) != strings.TrimSpace(strings.Repeat("success ", 20)) {
				t.Fatalf("m47's strip: %s", outcomes(cells))
			}
		}
		slices.Sort(took)
		median := took[renders/2]
		t.Logf("%s: GET /ui/schedules with 50 schedules × 20 slots: median %v (min %v, max %v) over %d renders",
			dialect, median.Round(100*time.Microsecond), took[0].Round(100*time.Microsecond), took[renders-1].Round(100*time.Microsecond), renders)
		if median > 2*time.Second {
			t.Errorf("median render %v, over 2 s", median)
		}
	})
}
