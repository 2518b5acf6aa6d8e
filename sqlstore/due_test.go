package sqlstore

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestScanDueAPI checks the api column's scanner against encoding/json on
// the shapes both dialects write and on ones it must hand to
// encoding/json (it reports false, never a wrong value).
func TestScanDueAPI(t *testing.T) {
	scanned := []string{
		// PostgreSQL's json_build_object.
		`{"task" : "noop", "display_name" : "", "kind" : "every", "every_seconds" : 60, "cron" : "", "timezone" : "", "once_at" : null, "anchor" : 1795897165123456, "start_at" : null, "end_at" : -1500000, "remaining_runs" : 3, "payload" : null, "misfire" : "coalesce", "overlap" : "skip", "max_catchup" : 10, "jitter_seconds" : 0.5, "retries" : 2, "delay_seconds" : 1e+06, "backoff" : 2, "timeout_seconds" : 0}`,
		// SQLite's json_object, a nested payload.
		`{"task":"t","display_name":"Nightly","kind":"cron","every_seconds":0.0,"cron":"0 9 * * *","timezone":"Europe/Paris","once_at":null,"anchor":null,"start_at":null,"end_at":null,"remaining_runs":null,"payload":{"a":[1,{"b":"}]\"x"}],"c":null},"misfire":"catchup","overlap":"allow","max_catchup":3,"jitter_seconds":0,"retries":0,"delay_seconds":0,"backoff":1,"timeout_seconds":30}`,
		`{"payload" : "a string, with \"quotes\"", "task" : "x"}`,
		`{"payload" : [1, 2] , "task" : "x"}`,
		`{"payload" : 42}`,
		`{}`,
	}
	fallback := []string{
		`{"task" : "esc\"aped"}`,
		`{"unknown" : 1}`,
		`{"max_catchup" : 1.5}`,
		`{"task" : "x",}`,
		`{"task" : "x"} trailing`,
		`[1]`,
		``,
	}
	for _, in := range scanned {
		var got, want dueAPIJSON
		if !scanDueAPI([]byte(in), &got, interner{}) {
			t.Errorf("scanDueAPI(%s) = false; want true", in)
			continue
		}
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", in, err)
		}
		if string(want.Payload) == "null" {
			want.Payload = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("scanDueAPI(%s) =\n%+v; want\n%+v", in, got, want)
		}
	}
	for _, in := range fallback {
		var got dueAPIJSON
		if scanDueAPI([]byte(in), &got, interner{}) {
			t.Errorf("scanDueAPI(%s) = true; want false (encoding/json decides)", in)
		}
	}
}
