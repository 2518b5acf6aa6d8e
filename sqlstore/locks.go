package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/tickflow/tickflow/core"
)

// AcquireLock takes p.Key for p.TTL when it is free or expired, or extends it
// when p.Owner holds it already, in one statement by the database clock. It
// reports whether p.Owner holds the lock now. A TTL <= 0 is an error
// wrapping core.ErrInvalid.
func (s *Store) AcquireLock(ctx context.Context, p core.LockParams) (bool, error) {
	if p.TTL <= 0 {
		return false, fmt.Errorf("acquire lock %q: %w", p.Key, &core.ValidationError{Field: "ttl", Value: p.TTL.String(), Reason: "must be greater than zero"})
	}
	var owners []string
	err := s.db.SelectContext(ctx, &owners, s.d.q("acquire_lock"), p.Key, p.Owner, p.TTL.Microseconds(), s.d.now(p.Now))
	if err != nil {
		return false, fmt.Errorf("acquire lock %q: %w", p.Key, s.d.interpret(err))
	}
	return len(owners) == 1, nil
}

// Now reads the database clock (the host clock for SQLite, which shares it).
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	if s.d.name == "sqlite" {
		return time.Now().UTC().Truncate(time.Microsecond), nil
	}
	var t time.Time
	if err := s.db.QueryRowContext(ctx, s.d.q("now")).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("read clock: %w", s.d.interpret(err))
	}
	return t.UTC(), nil
}

// ReleaseLock frees p.Key if p.Owner holds it; otherwise it does nothing.
func (s *Store) ReleaseLock(ctx context.Context, p core.LockParams) error {
	if _, err := s.db.ExecContext(ctx, s.d.q("release_lock"), p.Key, p.Owner); err != nil {
		return fmt.Errorf("release lock %q: %w", p.Key, s.d.interpret(err))
	}
	return nil
}
