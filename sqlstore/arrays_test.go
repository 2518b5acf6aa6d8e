package sqlstore

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tickflow/tickflow/core"
)

// TestArrayParameters checks the array literals the PostgreSQL batch
// statements read, instants included (unix microseconds, truncated, NULL
// for the zero instant, before 1970 too).
func TestArrayParameters(t *testing.T) {
	zone := time.FixedZone("x", -7*3600-1800)
	instants := []time.Time{
		time.Date(2026, 11, 28, 20, 19, 25, 123456789, time.UTC),
		{},
		time.Date(2024, 2, 29, 23, 30, 0, 0, zone),
		time.Date(1969, 12, 31, 23, 59, 58, 500000000, time.UTC),
	}
	if got, want := microsArray(instants).text(), "{1795897165123456,NULL,1709276400000000,-1500000}"; got != want {
		t.Errorf("microsArray = %s; want %s", got, want)
	}
	if got := intArray([]int64{-1, 0, 42}).text(); got != "{-1,0,42}" {
		t.Errorf("intArray = %s", got)
	}
	text := []string{"", "plain", `say "hi"`, `back\slash`, "NULL", "a,b{c}"}
	want := `{"","plain","say \"hi\"","back\\slash","NULL","a,b{c}"}`
	if got := textArrayOf(len(text), func(i int) string { return text[i] }).text(); got != want {
		t.Errorf("textArrayOf = %s; want %s", got, want)
	}
}

// TestScheduleArrayHelpers checks the boolean[] and nullable integer[]
// literals of insert_schedules.
func TestScheduleArrayHelpers(t *testing.T) {
	bools := []bool{true, false, true}
	if got, want := boolArrayOf(len(bools), func(i int) bool { return bools[i] }).text(), "{t,f,t}"; got != want {
		t.Errorf("boolArrayOf = %s; want %s", got, want)
	}
	seven := 7
	ints := []*int{&seven, nil}
	if got, want := nullIntArrayOf(len(ints), func(i int) *int { return ints[i] }).text(), `{7,NULL}`; got != want {
		t.Errorf("nullIntArrayOf = %s; want %s", got, want)
	}
}

// TestCompactJSON: a payload goes into the arrays exactly as the JSON
// batches wrote it (json.Marshal of a json.RawMessage), so a payload
// stored before compares equal to the same payload sent again.
func TestCompactJSON(t *testing.T) {
	for _, in := range []string{
		`{"a":1}`,
		`{ "a" : [1, 2] }`,
		"{\n\t\"a\":\r\n\"x y\"}",
		`{"html":"<b>&</b>"}`,
		`{"sep":"  "}`,
		`"é"`,
		`[]`,
	} {
		want, err := json.Marshal(json.RawMessage(in))
		if err != nil {
			t.Fatal(err)
		}
		got, err := compactJSON([]byte(in))
		if err != nil || got != string(want) {
			t.Errorf("compactJSON(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := compactJSON([]byte(`{"a": }`)); err == nil {
		t.Error("compactJSON of invalid JSON with spaces: no error")
	}
}

func TestDecodePackedTimes(t *testing.T) {
	pack := func(us ...int64) []byte {
		var b []byte
		for _, u := range us {
			b = binary.BigEndian.AppendUint64(b, uint64(u))
		}
		return b
	}
	// 2026-01-01T00:01:00.000001Z is 820,540,860,000,001 µs after 2000.
	slot, started, finished, err := decodePackedTimes(pack(820_540_860_000_001, math.MinInt64, 820_540_861_000_000))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 1, 1, 0, 1, 0, 1000, time.UTC); !slot.Equal(want) || slot.Location() != time.UTC {
		t.Errorf("slot = %v, want %v", slot, want)
	}
	if !started.IsZero() {
		t.Errorf("started = %v, want zero (NULL)", started)
	}
	if want := time.Date(2026, 1, 1, 0, 1, 1, 0, time.UTC); !finished.Equal(want) {
		t.Errorf("finished = %v, want %v", finished, want)
	}
	for _, b := range [][]byte{nil, pack(1, 2), pack(1, 2, 3, 4), pack(math.MinInt64, 1, 2)} {
		if _, _, _, err := decodePackedTimes(b); err == nil {
			t.Errorf("decodePackedTimes(%x): no error", b)
		}
	}
}

// TestClaimArraysLeaveCommonValuesOut: a batch of code schedules with one
// running run each sends the schedule names, slots and next runs only;
// each field that departs from its common value in one run brings its
// array back, whole.
func TestClaimArraysLeaveCommonValuesOut(t *testing.T) {
	slot := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	uniform := func() ([]plannedRunJSON, []advanceJSON) {
		var planned []plannedRunJSON
		var advance []advanceJSON
		for _, name := range []string{"a", "b", "c"} {
			planned = append(planned, plannedRunJSON{Schedule: name, Task: name, DisplayName: name,
				SlotsCovered: 1, Status: "running", MaxAttempts: 1, slot: slot})
			advance = append(advance, advanceJSON{Name: name, nextRun: slot.Add(time.Minute)})
		}
		return planned, advance
	}
	planned, advance := uniform()
	if got := sentArrays(new(paramBuf).claimArrays(planned, advance)); !slices.Equal(got, []int{0, 3, 10}) {
		t.Errorf("uniform batch sends arrays %v; want [0 3 10] (schedules, slots, next runs)", got)
	}
	three, delay := 3, 2.5
	tests := []struct {
		name   string
		change func(pr *plannedRunJSON, a *advanceJSON)
		arg    int
		want   string
	}{
		{"task", func(pr *plannedRunJSON, _ *advanceJSON) { pr.Task = "t"; pr.DisplayName = "t" }, 1, `{NULL,"t",NULL}`},
		{"display name", func(pr *plannedRunJSON, _ *advanceJSON) { pr.DisplayName = "B" }, 2, `{NULL,"B",NULL}`},
		{"slots covered", func(pr *plannedRunJSON, _ *advanceJSON) { pr.SlotsCovered = 3 }, 4, "{1,3,1}"},
		{"status", func(pr *plannedRunJSON, _ *advanceJSON) { pr.Status = "skipped" }, 5, `{"running","skipped","running"}`},
		{"run at", func(pr *plannedRunJSON, _ *advanceJSON) { pr.Status, pr.runAt = "pending", slot }, 6, "{NULL,1796205600000000,NULL}"},
		{"max attempts", func(pr *plannedRunJSON, _ *advanceJSON) { pr.MaxAttempts = 4 }, 7, "{1,4,1}"},
		{"error", func(pr *plannedRunJSON, _ *advanceJSON) { pr.Error = "overlap" }, 8, `{"","overlap",""}`},
		{"advanced names", func(_ *plannedRunJSON, a *advanceJSON) { a.Name = "z" }, 9, `{"a","z","c"}`},
		{"remaining runs", func(_ *plannedRunJSON, a *advanceJSON) { a.RemainingRuns = &three }, 11, `{NULL,3,NULL}`},
		{"payload", func(pr *plannedRunJSON, _ *advanceJSON) { pr.Payload = json.RawMessage(`{"k":1}`) }, 12, `{NULL,"{\"k\":1}",NULL}`},
		{"retry delay", func(pr *plannedRunJSON, _ *advanceJSON) { pr.RetryDelaySeconds = &delay }, 13, "{NULL,2.5,NULL}"},
	}
	for _, tc := range tests {
		planned, advance := uniform()
		tc.change(&planned[1], &advance[1])
		args := new(paramBuf).claimArrays(planned, advance)
		want := []int{0, 3, 10, tc.arg}
		if tc.arg == 6 {
			want = append(want, 5) // a pending run's status departs too
		}
		slices.Sort(want)
		if got := sentArrays(args); !slices.Equal(got, want) {
			t.Errorf("%s: sends arrays %v; want %v", tc.name, got, want)
			continue
		}
		if got := literal(args[tc.arg]); got != tc.want {
			t.Errorf("%s: array %d = %s; want %s", tc.name, tc.arg, got, tc.want)
		}
	}
	// Two runs for one schedule: the advanced names are not the runs'.
	planned, advance = uniform()
	planned = append(planned, planned[2])
	if got := sentArrays(new(paramBuf).claimArrays(planned, advance)); !slices.Contains(got, 9) {
		t.Errorf("two runs for c: sends arrays %v; want the advanced names (9) among them", got)
	}
}

// TestFinishArraysLeaveCommonValuesOut: a batch of first-attempt successes
// sends the ids and the two instants only; an outcome that departs brings
// back the arrays of the fields it departs in.
func TestFinishArraysLeaveCommonValuesOut(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	batch := func() []core.Outcome {
		out := make([]core.Outcome, 3)
		for i := range out {
			out[i] = core.Outcome{RunID: int64(i + 1), ClaimedAttempt: 1, Attempt: 1, Status: core.StatusSuccess, StartedAt: at, FinishedAt: at}
		}
		return out
	}
	sent := func(o []core.Outcome) []int {
		return sentArrays(new(paramBuf).finishArrays(core.FinishRunsParams{TickID: "t", Outcomes: o}))
	}
	if got := sent(batch()); !slices.Equal(got, []int{0, 1, 7, 8}) {
		t.Errorf("first-attempt successes send %v; want [0 1 7 8] (tick, ids, started, finished)", got)
	}
	tests := []struct {
		name   string
		change func(o *core.Outcome)
		want   []int
	}{
		{"retried run", func(o *core.Outcome) { o.ClaimedAttempt, o.Attempt = 2, 2 }, []int{0, 1, 2, 7, 8}},
		{"inline retry", func(o *core.Outcome) { o.Attempt = 2 }, []int{0, 1, 3, 7, 8}},
		{"failed", func(o *core.Outcome) { o.Status, o.Error, o.Stack = core.StatusFailed, "boom", "stack" }, []int{0, 1, 4, 5, 6, 7, 8}},
		{"released", func(o *core.Outcome) { o.Status, o.Attempt, o.RunAt = core.StatusPending, 0, at }, []int{0, 1, 3, 4, 7, 8, 9}},
	}
	for _, tc := range tests {
		o := batch()
		tc.change(&o[1])
		if got := sent(o); !slices.Equal(got, tc.want) {
			t.Errorf("%s: sends %v; want %v", tc.name, got, tc.want)
		}
	}
}

// TestHeldArraysLeaveCommonValuesOut: a held claim whose runs all succeeded
// on their first attempt adds the ids, starts and finishes to the claim's
// arrays, nothing else; an outcome that departs brings back the arrays it
// departs in, whole, and a run without an outcome stays running.
func TestHeldArraysLeaveCommonValuesOut(t *testing.T) {
	slot := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	start, end := slot.Add(time.Second), slot.Add(2*time.Second)
	planned := make([]plannedRunJSON, 3)
	advance := make([]advanceJSON, 3)
	for i, name := range []string{"a", "b", "c"} {
		planned[i] = plannedRunJSON{Schedule: name, Task: name, DisplayName: name, SlotsCovered: 1, Status: "running", MaxAttempts: 3, slot: slot}
		advance[i] = advanceJSON{Name: name, nextRun: slot.Add(time.Minute)}
	}
	ids := []int64{7, 8, 9}
	success := func(id int64) *core.Outcome {
		return &core.Outcome{RunID: id, ClaimedAttempt: 1, Attempt: 1, Status: core.StatusSuccess, StartedAt: start, FinishedAt: end}
	}
	held := func(applied []*core.Outcome) []any {
		args := new(paramBuf).claimArrays(planned, advance)
		new(paramBuf).heldArrays(args, planned, ids, applied)
		return args
	}
	args := held([]*core.Outcome{success(7), success(8), success(9)})
	if got := sentArrays(args); !slices.Equal(got, []int{0, 3, 7, 10, 16, 18, 19}) {
		t.Errorf("first-attempt successes send arrays %v; want [0 3 7 10 16 18 19] (schedules, slots, max attempts, next runs, ids, starts, finishes)", got)
	}
	if literal(args[16]) != "{7,8,9}" {
		t.Errorf("ids %v", args[16])
	}
	us := func(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }
	tests := []struct {
		name    string
		outcome *core.Outcome
		want    map[int]string
	}{
		{"no outcome: running", nil, map[int]string{
			18: "{" + us(start) + ",NULL," + us(start) + "}", 19: "{" + us(end) + ",NULL," + us(end) + "}"}},
		{"failed after retries", &core.Outcome{RunID: 8, ClaimedAttempt: 1, Attempt: 3, Status: core.StatusFailed, Error: "boom", Stack: "st", StartedAt: start, FinishedAt: end}, map[int]string{
			5: `{"success","failed","success"}`, 8: `{"","boom",""}`, 17: "{1,3,1}", 20: `{"","st",""}`}},
		{"retry later", &core.Outcome{RunID: 8, ClaimedAttempt: 1, Attempt: 1, Status: core.StatusPending, Error: "again", StartedAt: start, FinishedAt: end, RunAt: end}, map[int]string{
			5: `{"success","pending","success"}`, 6: "{NULL," + us(end) + ",NULL}", 8: `{"","again",""}`, 17: "{1,1,1}", 19: "{" + us(end) + ",NULL," + us(end) + "}"}},
		{"released", &core.Outcome{RunID: 8, ClaimedAttempt: 1, Attempt: 0, Status: core.StatusPending, Error: "cut", Stack: "x"}, map[int]string{
			5: `{"success","pending","success"}`, 6: "{NULL,NULL,NULL}", 18: "{" + us(start) + ",NULL," + us(start) + "}"}},
	}
	for _, tc := range tests {
		args := held([]*core.Outcome{success(7), tc.outcome, success(9)})
		want := []int{0, 3, 7, 10, 16, 18, 19}
		for k := range tc.want {
			if !slices.Contains(want, k) {
				want = append(want, k)
			}
		}
		slices.Sort(want)
		if got := sentArrays(args); !slices.Equal(got, want) {
			t.Errorf("%s: sends arrays %v; want %v", tc.name, got, want)
			continue
		}
		for k, w := range tc.want {
			if got := literal(args[k]); got != w {
				t.Errorf("%s: array %d = %s; want %s", tc.name, k, got, w)
			}
		}
	}
}

// literal is an array parameter's text literal ("" for NULL).
func literal(a any) string {
	if a, ok := a.(pgArray); ok {
		return a.text()
	}
	return ""
}

// sentArrays are the positions of the arrays args sends (not NULL).
func sentArrays(args []any) []int {
	var idx []int
	for i, a := range args {
		if a != nil {
			idx = append(idx, i)
		}
	}
	return idx
}
