package sqlstore_test

import (
	"testing"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/core/storetest"
	"github.com/tickflow/tickflow/sqlstore/sqlstoretest"
)

// TestConformance runs the store conformance suite (package storetest) on
// each dialect: PostgreSQL from TEST_DATABASE_URL and SQLite in a temporary
// file, every subtest on fresh, isolated tables.
func TestConformance(t *testing.T) {
	t.Run("PostgreSQL", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) core.Store { return sqlstoretest.OpenPostgres(t) })
	})
	t.Run("SQLite", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) core.Store { return sqlstoretest.OpenSQLite(t) })
	})
}
