package dashboard

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/tickflow/tickflow/core"
)

// The history strip: each schedule row of the schedules view shows its
// last dashStripSlots slots that are not in the future (core.Engine.
// RecentSlots: one store read for the whole page), oldest first, as
// coloured cells. Colour is never the only signal: each cell has a title
// and an aria-label naming its slot and outcome, and missed, failed and
// skipped cells also differ in shape (style.css). A cell with a run of its
// own links to it; a slot folded into a later run (coalesced, skipped)
// links to that run; a missed or due slot links to the schedule's audit of
// the hours around it.

// dashStripSlots is how many slots a history strip shows.
const dashStripSlots = 20

// stripCell is one cell of a history strip.
type stripCell struct {
	// Outcome is the slot's core.SlotOutcome (the cell's class).
	Outcome string
	// Label is the title and aria-label: the slot, its outcome, its run.
	Label string
	Href  string
}

// historyStrips builds the strips of a page of schedules.
func historyStrips(recs []core.ScheduleRecord, recent map[string][]core.SlotAudit) map[string][]stripCell {
	out := make(map[string][]stripCell, len(recent))
	for i := range recs {
		rec := &recs[i]
		slots := recent[rec.Name]
		if len(slots) == 0 {
			continue
		}
		cells := make([]stripCell, len(slots))
		for j, s := range slots {
			cells[j] = stripCell{Outcome: string(s.Outcome), Label: slotLabel(s, rec.Timezone), Href: slotHref(rec.Name, s)}
		}
		out[rec.Name] = cells
	}
	return out
}

// slotLabel says what became of a slot, in words: "2026-03-09 12:05:00
// UTC: failed (run #12): boom".
func slotLabel(s core.SlotAudit, tz string) string {
	label := fmtInZone(s.Slot, tz) + ": " + outcomeWords(s.Outcome)
	switch {
	case s.RunID != 0 && s.Covered:
		label += fmt.Sprintf(" (in run #%d)", s.RunID)
	case s.RunID != 0:
		label += fmt.Sprintf(" (run #%d", s.RunID)
		if d, ok := s.Duration(); ok {
			label += ", " + fmtDuration(d)
		}
		label += ")"
	}
	if s.Reason != "" {
		label += ": " + truncate(s.Reason, 120)
	}
	return label
}

// outcomeWords is an outcome for people.
func outcomeWords(o core.SlotOutcome) string {
	switch o {
	case core.SlotMissed:
		return "missed (no run)"
	case core.SlotCoalesced:
		return "coalesced into a later run"
	case core.SlotDue:
		return "due, waiting for a tick"
	case core.SlotNotYetDue:
		return "not yet due"
	}
	return string(o)
}

// slotHref is where a cell leads: its run, or the schedule's audit around
// the slot.
func slotHref(name string, s core.SlotAudit) string {
	if s.RunID != 0 {
		return "/ui/runs/" + strconv.FormatInt(s.RunID, 10)
	}
	return schedulePath(name, s.Slot.Add(-6*time.Hour), s.Slot.Add(6*time.Hour)) + "#slot-" + strconv.FormatInt(s.Slot.Unix(), 10)
}

// schedulePath is the schedule view of name for the window [from, to)
// (zero times: the default window).
func schedulePath(name string, from, to time.Time) string {
	p := "/ui/schedules/" + url.PathEscape(name)
	if from.IsZero() {
		return p
	}
	return p + "?" + url.Values{"from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}}.Encode()
}
