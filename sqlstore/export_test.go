package sqlstore

import (
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tickflow/tickflow/core"
)

// ParseURL exposes parseURL to the external tests: the dialect and the DSN
// Open would use.
func ParseURL(raw string) (dialect, dsn string, err error) {
	t, err := parseURL(raw)
	return t.dialect, t.dsn, err
}

// PruneEveryEndTick makes SQLite prune old ticks in every EndTick.
func (s *Store) PruneEveryEndTick() { s.pruneOneIn = 1 }

// OnClaimTx has f run in ClaimDue's transaction just before its lock select.
func (s *Store) OnClaimTx(f func(tx *sqlx.Tx) error) { s.inClaim = f }

// Statement returns the text of a named statement of the store's dialect.
func (s *Store) Statement(name string) string { return s.d.q(name) }

// SyncChunk is how many schedules one upsert of SyncSchedules takes.
const SyncChunk = syncChunk

// InsertArgs returns insert_schedules' parameters for recs.
func (s *Store) InsertArgs(now any, upsert bool, recs []core.ScheduleRecord) ([]any, error) {
	return s.insertArgs(now, upsert, recs)
}

// ScanSendTime scans src as the statements' binary or microsecond instants.
func ScanSendTime(src any) (time.Time, bool, error) {
	var t sendTime
	err := t.Scan(src)
	return t.Time, t.Valid, err
}
