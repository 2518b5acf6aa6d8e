package sqlstore_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tickflow/tickflow/sqlstore"
)

// TestFinishRunsPlanProbesByID pins the plan of FinishRuns' batch UPDATE to
// "read the batch once": it drives probes of the runs by id, or it is hashed;
// it is never the inner side of a loop over runs, which re-reads the whole
// batch per run and took minutes for 10,000 outcomes. SQLite chose that plan
// on a fresh file (no statistics); PostgreSQL chose it in the tick benchmark
// when the statistics said no run was running. The PostgreSQL half is a guard:
// its planner's choice also depends on sizes this test does not reproduce.
// runsScanRE finds the scan of tickflow_runs in a PostgreSQL plan.
var runsScanRE = regexp.MustCompile(`Scan (?:using \w+ )?on tickflow_runs r\b`)

func TestFinishRunsPlanProbesByID(t *testing.T) {
	each(t, func(t *testing.T, st *sqlstore.Store) {
		db := st.DB()
		// A history of 10,000 finished runs, analyzed while nothing was
		// running (as after a quiet hour, before a big claim).
		var at any = t0.UnixMicro()
		if st.Dialect() == "postgres" {
			at = t0
		}
		db.MustExec(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10000)
			INSERT INTO tickflow_runs (task, source, status, attempt, run_at, created_at, finished_at, tick_id)
			SELECT 't', 'manual', 'success', 1, $1, $1, $1, 'tick' FROM c`, at)
		if st.Dialect() == "postgres" {
			db.MustExec("ANALYZE tickflow_runs")
		}
		batch := `[{"id":1,"claimed_attempt":1,"attempt":1,"status":"success"}]`
		var plan []string
		var err error
		if st.Dialect() == "postgres" {
			// One outcome, one array per field (see finish_runs.sql).
			err = db.Select(&plan, "EXPLAIN "+st.Statement("finish_runs"), "tick",
				"{1}", "{1}", "{1}", "{success}", "{\"\"}", "{\"\"}", "{NULL}", "{NULL}", "{NULL}")
		} else {
			var rows []struct {
				ID, Parent, NotUsed int
				Detail              string
			}
			err = db.Select(&rows, "EXPLAIN QUERY PLAN "+st.Statement("finish_runs"), "tick", batch)
			for _, r := range rows {
				plan = append(plan, r.Detail)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		// The batch must be read once: either it drives a loop of probes by
		// id, or it is hashed; never the inner side of a loop over runs.
		batchAt := strings.Index(text, "Function Scan")
		runsAt := -1 // the scan of the runs, not the Update node above it
		if m := runsScanRE.FindStringIndex(text); m != nil {
			runsAt = m[0]
		}
		if st.Dialect() == "sqlite" {
			batchAt = strings.Index(text, "SCAN j")
			runsAt = strings.Index(text, "tickflow_runs USING")
			if !strings.Contains(text, "SEARCH tickflow_runs USING INTEGER PRIMARY KEY") {
				t.Errorf("FinishRuns does not probe runs by id")
			}
		} else if strings.Contains(text, "Hash Join") || strings.Contains(text, "Hash Cond") {
			batchAt = -1 // hashed: read once
		}
		if batchAt > runsAt && runsAt >= 0 {
			t.Errorf("FinishRuns loops over runs and re-reads the batch for each")
		}
		if t.Failed() {
			t.Logf("plan:\n%s", text)
		}
	})
}
