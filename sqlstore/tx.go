package sqlstore

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// inTx runs fn in one transaction (BEGIN IMMEDIATE on SQLite) and commits
// it; fn's error, or a failed commit, rolls it back. Errors fn returns are
// expected to be interpreted already.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", s.d.interpret(err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", s.d.interpret(err))
	}
	return nil
}
