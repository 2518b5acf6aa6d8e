package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tickflow/tickflow/core"
)

// CreateSession records a session expiring p.TTL after p.Now and deletes up
// to 1000 expired sessions, in one statement on PostgreSQL and one
// transaction of two on SQLite. A TTL <= 0 is an error wrapping
// core.ErrInvalid.
func (s *Store) CreateSession(ctx context.Context, p core.CreateSessionParams) (time.Time, error) {
	if p.TTL <= 0 {
		return time.Time{}, fmt.Errorf("create session: %w", &core.ValidationError{Field: "ttl", Value: p.TTL.String(), Reason: "must be greater than zero"})
	}
	now := s.d.now(p.Now) // read once: both statements use the same instant
	var expires nullTime
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if s.d.name == "sqlite" {
			if _, err := tx.ExecContext(ctx, s.d.q("create_session_prune"), now); err != nil {
				return s.d.interpret(err)
			}
		}
		return s.d.interpret(tx.QueryRowxContext(ctx, s.d.q("create_session"), p.IDHash, p.Fingerprint, p.TTL.Microseconds(), now).Scan(&expires))
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("create session: %w", err)
	}
	return expires.Time, nil
}

// CheckSession reports whether p.IDHash is a live session of p.Fingerprint
// at p.Now, in one statement.
func (s *Store) CheckSession(ctx context.Context, p core.CheckSessionParams) (bool, error) {
	var found []int
	if err := s.db.SelectContext(ctx, &found, s.d.q("check_session"), p.IDHash, p.Fingerprint, s.d.now(p.Now)); err != nil {
		return false, fmt.Errorf("check session: %w", s.d.interpret(err))
	}
	return len(found) == 1, nil
}

// DeleteSession deletes the session p.IDHash, if any.
func (s *Store) DeleteSession(ctx context.Context, p core.DeleteSessionParams) error {
	if _, err := s.db.ExecContext(ctx, s.d.q("delete_session"), p.IDHash); err != nil {
		return fmt.Errorf("delete session: %w", s.d.interpret(err))
	}
	return nil
}
