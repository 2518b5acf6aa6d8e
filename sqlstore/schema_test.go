package sqlstore_test

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tickflow/tickflow/sqlstore"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// column is a column as both dialects describe it.
type column struct {
	Type    string // the SQLite declared type it maps to
	NotNull bool
}

// index is an index by its columns; unique indexes include primary keys and
// UNIQUE constraints.
type index struct {
	Columns string
	Unique  bool
	Partial bool
}

// check is a CHECK constraint reduced to what it mentions.
type check struct {
	Columns  []string // columns of its table it references
	Literals []string // quoted strings and numbers
}

// tableDesc describes one table in dialect-neutral terms.
type tableDesc struct {
	Columns map[string]column
	// Keys are the unique keys (primary key, UNIQUE, unique indexes) by
	// columns; Indexes are the named, non-constraint indexes by name.
	Keys    []index
	Indexes map[string]index
	Checks  map[string]check
}

// pgTypes maps PostgreSQL types onto the SQLite declared types the SQLite
// schema uses for them.
var pgTypes = map[string]string{
	"text":                     "TEXT",
	"json":                     "TEXT",
	"jsonb":                    "TEXT",
	"integer":                  "INTEGER",
	"bigint":                   "INTEGER",
	"boolean":                  "BOOLEAN",
	"double precision":         "REAL",
	"timestamp with time zone": "INTEGER", // unix microseconds
}

var (
	quotedRE = regexp.MustCompile(`'([^']*)'`)
	numberRE = regexp.MustCompile(`\b\d+(?:\.\d+)?\b`)
	identRE  = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
)

// reduceCheck extracts the columns and literals a CHECK expression mentions.
func reduceCheck(expr string, columns map[string]column) check {
	var c check
	for _, m := range quotedRE.FindAllStringSubmatch(expr, -1) {
		c.Literals = append(c.Literals, "'"+m[1]+"'")
	}
	rest := quotedRE.ReplaceAllString(expr, "")
	for _, n := range numberRE.FindAllString(rest, -1) {
		c.Literals = append(c.Literals, n)
	}
	for _, id := range identRE.FindAllString(rest, -1) {
		if _, ok := columns[id]; ok {
			c.Columns = append(c.Columns, id)
		}
	}
	c.Columns = dedupeSorted(c.Columns)
	c.Literals = dedupeSorted(c.Literals)
	return c
}

func dedupeSorted(v []string) []string {
	sort.Strings(v)
	return slices.Compact(v)
}

func describePostgres(t *testing.T, st *sqlstore.Store) map[string]*tableDesc {
	t.Helper()
	db := st.DB()
	tables := map[string]*tableDesc{}
	var cols []struct {
		Table    string `db:"table_name"`
		Name     string `db:"column_name"`
		Nullable string `db:"is_nullable"`
		Type     string `db:"data_type"`
	}
	if err := db.Select(&cols, `SELECT table_name, column_name, is_nullable, data_type
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name LIKE 'tickflow\_%'`); err != nil {
		t.Fatal(err)
	}
	for _, c := range cols {
		td := tables[c.Table]
		if td == nil {
			td = &tableDesc{Columns: map[string]column{}, Indexes: map[string]index{}, Checks: map[string]check{}}
			tables[c.Table] = td
		}
		typ, ok := pgTypes[c.Type]
		if !ok {
			t.Errorf("%s.%s: PostgreSQL type %q has no SQLite counterpart in this test", c.Table, c.Name, c.Type)
		}
		td.Columns[c.Name] = column{Type: typ, NotNull: c.Nullable == "NO"}
	}
	var idx []struct {
		Table      string `db:"table_name"`
		Name       string `db:"index_name"`
		Unique     bool   `db:"is_unique"`
		Partial    bool   `db:"is_partial"`
		Constraint bool   `db:"is_constraint"`
		Columns    string `db:"columns"`
	}
	if err := db.Select(&idx, `SELECT c.relname AS table_name, i.relname AS index_name,
			ix.indisunique AS is_unique, ix.indpred IS NOT NULL AS is_partial,
			EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = ix.indexrelid) AS is_constraint,
			array_to_string(ARRAY(
				SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
				JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
				WHERE k.ord <= ix.indnkeyatts -- key columns: INCLUDE ones are payload
				ORDER BY k.ord), ',') AS columns
		FROM pg_index ix
		JOIN pg_class i ON i.oid = ix.indexrelid
		JOIN pg_class c ON c.oid = ix.indrelid
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relname LIKE 'tickflow\_%'`); err != nil {
		t.Fatal(err)
	}
	for _, ix := range idx {
		td := tables[ix.Table]
		in := index{Columns: ix.Columns, Unique: ix.Unique, Partial: ix.Partial}
		if ix.Unique {
			td.Keys = append(td.Keys, in)
		}
		if !ix.Constraint {
			td.Indexes[ix.Name] = in
		}
	}
	var checks []struct {
		Table string `db:"table_name"`
		Name  string `db:"conname"`
		Def   string `db:"def"`
	}
	if err := db.Select(&checks, `SELECT c.relname AS table_name, k.conname, pg_get_constraintdef(k.oid) AS def
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE k.contype = 'c' AND c.relnamespace = current_schema()::regnamespace`); err != nil {
		t.Fatal(err)
	}
	for _, k := range checks {
		td := tables[k.Table]
		// Drop the casts PostgreSQL adds ('x'::text, (0)::double precision).
		def := regexp.MustCompile(`::[a-z ]+`).ReplaceAllString(k.Def, "")
		td.Checks[k.Name] = reduceCheck(strings.TrimPrefix(def, "CHECK "), td.Columns)
	}
	return tables
}

// sqliteCheckRE finds named CHECK constraints in a CREATE TABLE statement.
var sqliteCheckRE = regexp.MustCompile(`CONSTRAINT\s+(\w+)\s+CHECK\s*\(`)

// balanced returns s up to the parenthesis closing the one opened just
// before s.
func balanced(s string) string {
	depth := 1
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return s[:i]
			}
		}
	}
	return s
}

func describeSQLite(t *testing.T, st *sqlstore.Store) map[string]*tableDesc {
	t.Helper()
	db := st.DB()
	var tbls []struct {
		Name string `db:"name"`
		SQL  string `db:"sql"`
	}
	if err := db.Select(&tbls, `SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE 'tickflow\_%' ESCAPE '\'`); err != nil {
		t.Fatal(err)
	}
	tables := map[string]*tableDesc{}
	for _, tb := range tbls {
		td := &tableDesc{Columns: map[string]column{}, Indexes: map[string]index{}, Checks: map[string]check{}}
		tables[tb.Name] = td
		var cols []struct {
			Name    string `db:"name"`
			Type    string `db:"type"`
			NotNull bool   `db:"notnull"`
			PK      int    `db:"pk"`
		}
		if err := db.Select(&cols, `SELECT name, type, "notnull", pk FROM pragma_table_info(?)`, tb.Name); err != nil {
			t.Fatal(err)
		}
		var pk []string
		for _, c := range cols {
			td.Columns[c.Name] = column{Type: c.Type, NotNull: c.NotNull}
			if c.PK > 0 {
				pk = append(pk, c.Name)
			}
		}
		var idx []struct {
			Name    string `db:"name"`
			Unique  bool   `db:"unique"`
			Origin  string `db:"origin"`
			Partial bool   `db:"partial"`
		}
		if err := db.Select(&idx, `SELECT name, "unique", origin, partial FROM pragma_index_list(?)`, tb.Name); err != nil {
			t.Fatal(err)
		}
		pkIndexed := false
		for _, ix := range idx {
			var ic []string
			if err := db.Select(&ic, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, ix.Name); err != nil {
				t.Fatal(err)
			}
			in := index{Columns: strings.Join(ic, ","), Unique: ix.Unique, Partial: ix.Partial}
			if ix.Unique {
				td.Keys = append(td.Keys, in)
			}
			if ix.Origin == "pk" {
				pkIndexed = true
			}
			if ix.Origin == "c" && !strings.HasPrefix(ix.Name, "sqlite_autoindex") {
				td.Indexes[ix.Name] = in
			}
		}
		if len(pk) > 0 && !pkIndexed { // INTEGER PRIMARY KEY: the rowid, no index
			td.Keys = append(td.Keys, index{Columns: strings.Join(pk, ","), Unique: true})
		}
		for _, m := range sqliteCheckRE.FindAllStringSubmatchIndex(tb.SQL, -1) {
			name := tb.SQL[m[2]:m[3]]
			td.Checks[name] = reduceCheck(balanced(tb.SQL[m[1]:]), td.Columns)
		}
	}
	return tables
}

func sortKeys(keys []index) []index {
	out := slices.Clone(keys)
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

// postgresOnlyIndexes have no SQLite counterpart: SQLite has no GIN index
// for labels (its list reads them with json_each), and its primary key is in
// byte order already, which the key index gives PostgreSQL whatever the
// database's collation.
var postgresOnlyIndexes = map[string][]string{
	"tickflow_schedules": {"tickflow_schedules_labelled_idx", "tickflow_schedules_key_idx"},
}

// foldScheduleState describes PostgreSQL's tickflow_schedule_state as part
// of tickflow_schedules, where the SQLite schema keeps its columns (see
// schema.sql for why PostgreSQL splits them off): its columns join the
// schedules' (task and origin, repeated in it, must match), its indexes and
// checks too under the schedules' prefix; its primary key is the schedules'
// key again.
func foldScheduleState(t *testing.T, tables map[string]*tableDesc) {
	t.Helper()
	const from, into = "tickflow_schedule_state", "tickflow_schedules"
	st, sc := tables[from], tables[into]
	if st == nil || sc == nil {
		t.Fatalf("PostgreSQL lacks %s or %s", from, into)
	}
	delete(tables, from)
	for name, c := range st.Columns {
		if have, ok := sc.Columns[name]; ok && have != c {
			t.Errorf("%s.%s %+v differs from %s.%s %+v", from, name, c, into, name, have)
		}
		sc.Columns[name] = c
	}
	rename := func(name string) string { return into + strings.TrimPrefix(name, from) }
	for name, in := range st.Indexes {
		sc.Indexes[rename(name)] = in
	}
	for name, c := range st.Checks {
		sc.Checks[rename(name)] = c
	}
	if !reflect.DeepEqual(st.Keys, []index{{Columns: "name", Unique: true}}) {
		t.Errorf("%s keys = %+v; want its primary key (name) only", from, st.Keys)
	}
}

// TestSchemaEquivalence migrates both dialects and proves they define the
// same tables (PostgreSQL's tickflow_schedule_state folded into
// tickflow_schedules), columns (with matching types), NOT NULL-ness, unique
// keys, indexes and CHECK constraints.
func TestSchemaEquivalence(t *testing.T) {
	pg := describePostgres(t, sqlstoretest.OpenPostgres(t))
	foldScheduleState(t, pg)
	lite := describeSQLite(t, sqlstoretest.OpenSQLite(t))

	want := []string{"tickflow_locks", "tickflow_meta", "tickflow_outbox", "tickflow_runs", "tickflow_schedules", "tickflow_sessions", "tickflow_ticks"}
	for name, tables := range map[string]map[string]*tableDesc{"postgres": pg, "sqlite": lite} {
		var got []string
		for tb := range tables {
			got = append(got, tb)
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s tables = %v; want %v", name, got, want)
		}
	}
	for _, tb := range want {
		p, l := pg[tb], lite[tb]
		for name, pc := range p.Columns {
			lc, ok := l.Columns[name]
			switch {
			case !ok:
				t.Errorf("%s.%s: in PostgreSQL, missing in SQLite", tb, name)
			case pc != lc:
				t.Errorf("%s.%s: PostgreSQL %+v, SQLite %+v", tb, name, pc, lc)
			}
		}
		for name := range l.Columns {
			if _, ok := p.Columns[name]; !ok {
				t.Errorf("%s.%s: in SQLite, missing in PostgreSQL", tb, name)
			}
		}
		if pk, lk := sortKeys(p.Keys), sortKeys(l.Keys); !reflect.DeepEqual(pk, lk) {
			t.Errorf("%s unique keys differ:\npostgres %+v\nsqlite   %+v", tb, pk, lk)
		}
		if len(p.Keys) == 0 {
			t.Errorf("%s has no primary key", tb)
		}
		pIndexes := maps.Clone(p.Indexes)
		for _, name := range postgresOnlyIndexes[tb] {
			if _, ok := pIndexes[name]; !ok {
				t.Errorf("PostgreSQL lacks index %s", name)
			}
			delete(pIndexes, name)
		}
		if !reflect.DeepEqual(pIndexes, l.Indexes) {
			t.Errorf("%s indexes differ:\npostgres %+v\nsqlite   %+v", tb, pIndexes, l.Indexes)
		}
		if !reflect.DeepEqual(p.Checks, l.Checks) {
			t.Errorf("%s CHECK constraints differ:\npostgres %+v\nsqlite   %+v", tb, p.Checks, l.Checks)
		}
	}
	// The constraints the design requires are there (in both, by the above).
	for _, c := range []struct{ table, check, literal string }{
		{"tickflow_runs", "tickflow_runs_status_check", "'interrupted'"},
		{"tickflow_runs", "tickflow_runs_source_check", "'scheduled'"},
		{"tickflow_runs", "tickflow_runs_scheduled_slot_check", "'scheduled'"},
		{"tickflow_runs", "tickflow_runs_max_attempts_check", "1"},
		{"tickflow_runs", "tickflow_runs_slots_covered_check", "1"},
		{"tickflow_runs", "tickflow_runs_attempt_check", "0"},
		{"tickflow_schedules", "tickflow_schedules_kind_check", "'cron'"},
		{"tickflow_schedules", "tickflow_schedules_misfire_check", "'catchup'"},
		{"tickflow_schedules", "tickflow_schedules_overlap_check", "'allow'"},
	} {
		if !slices.Contains(pg[c.table].Checks[c.check].Literals, c.literal) {
			t.Errorf("%s: %s missing or without %s: %+v", c.table, c.check, c.literal, pg[c.table].Checks[c.check])
		}
	}
	for _, k := range []index{
		{Columns: "schedule,slot", Unique: true},
		{Columns: "idempotency_key", Unique: true, Partial: true},
	} {
		if !slices.Contains(pg["tickflow_runs"].Keys, k) {
			t.Errorf("tickflow_runs lacks unique key %+v", k)
		}
	}
}
