package dashboard

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
)

// The schedule view, GET /ui/schedules/{name}?from=&to=: one schedule's
// facts, a server-rendered SVG chart of its runs' durations over the window
// (no script, nothing fetched: the page's Content-Security-Policy holds),
// with missed slots marked, and the audit of every slot of the window
// (core.Engine.AuditSlots; default the last 24 hours). ?backfill=preview
// adds a dry-run backfill of the window (core.Engine.Backfill, which writes
// nothing) with a button that POSTs the backfill itself through the
// dashboard's action rules (token, session, cross-origin check).

const (
	// dashDefaultWindow is the audited window when none is given.
	dashDefaultWindow = 24 * time.Hour
	// dashAuditRows bounds the slots the view shows (the newest); the
	// counts always cover the whole window.
	dashAuditRows = 1000
	// dashPreviewSlots is how many slots a backfill preview lists.
	dashPreviewSlots = 20
)

// scheduleData is the schedule view's data.
type scheduleData struct {
	Rec core.ScheduleRecord
	// From and To are the window; FromText and ToText the form's values.
	From, To         time.Time
	FromText, ToText string
	Counts           []outcomeCount
	Total            int
	// Rows are the shown slots, newest first; Hidden how many older ones
	// are left out (dashAuditRows).
	Rows    []auditRow
	Hidden  int
	Chart   chart
	Strip   []stripCell
	Preview *backfillPreview
	// PreviewURL is this window with the backfill preview; Self this page.
	PreviewURL, Self string
	CanBackfill      bool
}

// outcomeCount is how many slots of the window had one outcome.
type outcomeCount struct {
	Outcome string
	N       int
}

// auditRow is one slot of the audit table.
type auditRow struct {
	core.SlotAudit
	Anchor, Words, Duration string
}

// backfillPreview is a dry-run backfill of the window.
type backfillPreview struct {
	Count int
	Slots []time.Time
	More  int
	// Error is why the schedule cannot be backfilled (paused, orphaned).
	Error string
}

// parseWindowValues reads from= and to= (RFC 3339, or "2006-01-02T15:04"
// read as UTC). Both empty: the dashDefaultWindow ending now; one empty:
// the other end ± dashDefaultWindow (to: at most now). Bad text is a
// ValidationError (400); the window itself is checked by the engine.
func parseWindowValues(v url.Values, now time.Time, required bool) (from, to time.Time, err error) {
	fv, tv := strings.TrimSpace(v.Get("from")), strings.TrimSpace(v.Get("to"))
	if fv != "" {
		if from, err = parseFormInstant("from", fv); err != nil {
			return from, to, err
		}
	}
	if tv != "" {
		if to, err = parseFormInstant("to", tv); err != nil {
			return from, to, err
		}
	}
	switch {
	case required && (fv == "" || tv == ""):
		return from, to, &core.ValidationError{Field: "from", Reason: "from and to are required"}
	case fv == "" && tv == "":
		to = now.Truncate(time.Minute).Add(time.Minute)
		from = to.Add(-dashDefaultWindow)
	case fv == "":
		from = to.Add(-dashDefaultWindow)
	case tv == "":
		to = from.Add(dashDefaultWindow)
	}
	return from, to, nil
}

// formInstants are the layouts a window's ends may be typed in.
var formInstants = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"}

// parseFormInstant reads one end of a window.
func parseFormInstant(field, v string) (time.Time, error) {
	if err := core.CheckText(field, v); err != nil {
		return time.Time{}, err
	}
	for _, layout := range formInstants {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), core.CheckTime(field, t)
		}
	}
	return time.Time{}, &core.ValidationError{Field: field, Value: core.CleanText(v), Reason: "want an instant such as 2026-03-09T12:00:00Z"}
}

func (dash *Dashboard) viewSchedule(r *http.Request) (dashView, error) {
	name := r.PathValue("name")
	rec, err := dash.engine.Schedule(r.Context(), name)
	if err != nil {
		return dashView{}, err
	}
	now, err := dash.engine.Now(r.Context())
	if err != nil {
		return dashView{}, err
	}
	q := r.URL.Query()
	from, to, err := parseWindowValues(q, now, false)
	if err != nil {
		return dashView{}, err
	}
	a, err := dash.engine.AuditSlots(r.Context(), core.AuditParams{Schedule: name, From: from, To: to})
	if err != nil {
		return dashView{}, err
	}
	d := scheduleData{
		Rec: rec, From: a.From, To: a.To,
		FromText: a.From.Format(time.RFC3339), ToText: a.To.Format(time.RFC3339),
		Total: len(a.Slots), Self: r.URL.RequestURI(),
		PreviewURL:  schedulePath(name, a.From, a.To) + "&backfill=preview#backfill",
		CanBackfill: !rec.Paused && !rec.Orphaned,
	}
	for _, o := range outcomeOrder {
		if n := a.Counts[o]; n > 0 {
			d.Counts = append(d.Counts, outcomeCount{Outcome: string(o), N: n})
		}
	}
	shown := a.Slots
	if len(shown) > dashAuditRows {
		d.Hidden = len(shown) - dashAuditRows
		shown = shown[d.Hidden:]
	}
	for i := len(shown) - 1; i >= 0; i-- {
		s := shown[i]
		row := auditRow{SlotAudit: s, Anchor: "slot-" + strconv.FormatInt(s.Slot.Unix(), 10), Words: outcomeWords(s.Outcome), Duration: "—"}
		if dur, ok := s.Duration(); ok && !s.Covered {
			row.Duration = fmtDuration(dur)
		}
		d.Rows = append(d.Rows, row)
	}
	d.Chart = buildChart(shown, a.From, a.To, a.Now, rec)
	if recent, err := dash.engine.RecentSlots(r.Context(), core.RecentSlotsParams{Schedules: []core.ScheduleRecord{rec}, Last: dashStripSlots}); err == nil {
		d.Strip = historyStrips([]core.ScheduleRecord{rec}, recent)[rec.Name]
	} else {
		return dashView{}, err
	}
	if q.Get("backfill") == "preview" {
		d.Preview, err = dash.previewBackfill(r, name, a.From, a.To)
		if err != nil {
			return dashView{}, err
		}
	}
	return dashView{page: "schedule", title: rec.DisplayName, nav: "schedules", data: d}, nil
}

// outcomeOrder is the order counts and the legend list outcomes in.
var outcomeOrder = []core.SlotOutcome{
	core.SlotSuccess, core.SlotFailed, core.SlotRunning, core.SlotPending, core.SlotInterrupted, core.SlotCancelled,
	core.SlotSkipped, core.SlotCoalesced, core.SlotMissed, core.SlotDue, core.SlotPaused, core.SlotNotYetDue,
}

// previewBackfill is a dry-run backfill; a schedule that cannot be
// backfilled (paused, orphaned) says why instead of failing the page.
func (dash *Dashboard) previewBackfill(r *http.Request, name string, from, to time.Time) (*backfillPreview, error) {
	res, err := dash.engine.Backfill(r.Context(), core.BackfillParams{Schedule: name, From: from, To: to, DryRun: true})
	if err != nil {
		if handler.StatusOf(err) < http.StatusInternalServerError {
			return &backfillPreview{Error: err.Error()}, nil
		}
		return nil, err
	}
	p := &backfillPreview{Count: res.Created}
	for i, s := range res.Slots {
		if i == dashPreviewSlots {
			p.More = len(res.Slots) - i
			break
		}
		p.Slots = append(p.Slots, s.Slot)
	}
	return p, nil
}

// backToSchedule is the schedule view (its default window).
func backToSchedule(r *http.Request) string {
	return schedulePath(r.PathValue("name"), time.Time{}, time.Time{})
}

// actBackfill is POST /ui/schedules/{name}/backfill with from and to: runs
// for the window's passed slots that have none (core.Engine.Backfill,
// unique per slot, so a repeat creates nothing).
func (dash *Dashboard) actBackfill(r *http.Request) (dashFlash, error) {
	name := r.PathValue("name")
	from, to, err := parseWindowValues(r.PostForm, time.Time{}, true)
	if err != nil {
		return dashFlash{}, err
	}
	res, err := dash.engine.Backfill(r.Context(), core.BackfillParams{Schedule: name, From: from, To: to})
	if err != nil {
		if errors.Is(err, core.ErrConflict) {
			return dashFlash{}, fmt.Errorf("%w (resume the schedule first)", err)
		}
		return dashFlash{}, err
	}
	if res.Created == 0 {
		return dashFlash{Text: fmt.Sprintf("Nothing to backfill for %s: every passed slot of the window has a run.", name)}, nil
	}
	return dashFlash{Text: fmt.Sprintf("Backfilled %s: %d runs created for slots without one; the next tick runs them.", name, res.Created)}, nil
}

// chart is the SVG chart of run durations over a window: pixel positions
// computed here, drawn by schedule.html.
type chart struct {
	W, H                     int
	Left, Right, Top, Bottom string
	Marks                    []chartMark
	Misses                   []chartMiss
	Folds                    []chartMiss
	YTicks, XTicks           []chartTick
	Desc                     string
	Runs, Missed, Unfinished int
}

// chartMark is one run: a circle, or a square for a failed, interrupted or
// cancelled run; hollow at the baseline while it has not finished.
type chartMark struct {
	X, Y, Label, Href, Outcome string
	Square, Open               bool
	RunID                      int64
	// SX, SY are the square's corner.
	SX, SY string
}

// chartMiss is a slot without a run of its own: a cross on the baseline
// when missed, a short grey tick when folded into a later run.
type chartMiss struct {
	D, Label string
}

// chartTick is an axis label with its position (and, on the time axis,
// its text-anchor, so the end labels stay inside the chart).
type chartTick struct {
	Pos, Text, Anchor string
}

const (
	chartW, chartH                               = 960, 240
	chartLeft, chartRight, chartTop, chartBottom = 64.0, 944.0, 14.0, 206.0
)

// px formats a pixel coordinate.
func px(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// buildChart lays out the slots of [from, to): one mark per run of a slot
// of its own, one cross per missed slot. The time axis spans the shown
// slots that are not in the future (the window, when there are none), a
// little wider, so that a young schedule's runs are not squeezed into the
// window's last pixels.
func buildChart(slots []core.SlotAudit, from, to, now time.Time, rec core.ScheduleRecord) chart {
	if len(slots) > 0 {
		first, last := slots[0].Slot, slots[0].Slot
		for _, s := range slots {
			if !s.Slot.After(now) {
				last = s.Slot
			}
		}
		if pad := last.Sub(first) / 30; pad > 0 {
			from, to = first.Add(-pad), last.Add(pad)
		} else {
			from, to = first.Add(-time.Minute), first.Add(time.Minute)
		}
	}
	c := chart{W: chartW, H: chartH, Left: px(chartLeft), Right: px(chartRight), Top: px(chartTop), Bottom: px(chartBottom)}
	var maxDur time.Duration
	for _, s := range slots {
		if d, ok := s.Duration(); ok && s.RunID != 0 && !s.Covered && d > maxDur {
			maxDur = d
		}
	}
	ymax := niceCeil(maxDur)
	span := to.Sub(from)
	x := func(t time.Time) float64 {
		return chartLeft + float64(t.Sub(from))/float64(span)*(chartRight-chartLeft)
	}
	y := func(d time.Duration) float64 {
		return chartBottom - float64(d)/float64(ymax)*(chartBottom-chartTop)
	}
	for _, s := range slots {
		switch {
		case s.RunID != 0 && !s.Covered:
			m := chartMark{X: px(x(s.Slot)), Outcome: string(s.Outcome), Label: slotLabel(s, rec.Timezone),
				Href: "/ui/runs/" + strconv.FormatInt(s.RunID, 10), RunID: s.RunID}
			yv := chartBottom
			if d, ok := s.Duration(); ok {
				yv = y(d)
			} else {
				m.Open = true
				c.Unfinished++
			}
			m.Y = px(yv)
			switch s.Outcome {
			case core.SlotFailed, core.SlotInterrupted, core.SlotCancelled:
				m.Square, m.SX, m.SY = true, px(x(s.Slot)-4), px(yv-4)
			}
			c.Marks = append(c.Marks, m)
			c.Runs++
		case s.Outcome == core.SlotMissed:
			xv, yv := x(s.Slot), chartBottom
			c.Misses = append(c.Misses, chartMiss{
				D:     fmt.Sprintf("M%s %sl8 8m0 -8l-8 8", px(xv-4), px(yv-4)),
				Label: slotLabel(s, rec.Timezone),
			})
			c.Missed++
		case s.Covered:
			c.Folds = append(c.Folds, chartMiss{
				D:     fmt.Sprintf("M%s %sv-10", px(x(s.Slot)), px(chartBottom)),
				Label: slotLabel(s, rec.Timezone),
			})
		}
	}
	for i := 0; i <= 2; i++ {
		d := ymax * time.Duration(i) / 2
		label := fmtDuration(d)
		if ymax < time.Second {
			label = strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + " ms" // 0.5 ms, not "<1 ms"
		}
		c.YTicks = append(c.YTicks, chartTick{Pos: px(y(d)), Text: label})
	}
	for i := 0; i <= 4; i++ {
		t := from.Add(span * time.Duration(i) / 4)
		tick := chartTick{Pos: px(x(t)), Text: t.UTC().Format(tickLayout(span)), Anchor: "middle"}
		switch i {
		case 0:
			tick.Anchor = "start"
		case 4:
			tick.Anchor = "end"
		}
		c.XTicks = append(c.XTicks, tick)
	}
	c.Desc = fmt.Sprintf("Run durations from %s to %s: %d runs (%d not finished), %d missed slots; the tallest mark took %s.",
		fmtUTC(from), fmtUTC(to), c.Runs, c.Unfinished, c.Missed, fmtDuration(maxDur))
	return c
}

// niceCeil rounds d up to 1, 2 or 5 times a power of ten milliseconds (at
// least 1 ms), for the chart's y axis.
func niceCeil(d time.Duration) time.Duration {
	step := time.Millisecond
	for {
		for _, f := range []time.Duration{1, 2, 5} {
			if step*f >= d {
				return step * f
			}
		}
		step *= 10
	}
}

// tickLayout formats the time axis's labels: seconds for a span under ten
// minutes, the date from two days.
func tickLayout(span time.Duration) string {
	switch {
	case span < 10*time.Minute:
		return "15:04:05"
	case span < 48*time.Hour:
		return "15:04"
	}
	return "01-02 15:04"
}
