package core

import (
	"errors"
	"fmt"
)

// Sentinel errors every Store returns (wrapped) so callers can branch with
// errors.Is. Transports map them to status codes in one table.
var (
	// ErrNotFound: the run, schedule or task named does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: a unique key (schedule name, idempotency key) already exists.
	ErrDuplicate = errors.New("duplicate")
	// ErrConflict: the record exists but is not in a state that allows the
	// operation (cancelling a run that is not pending, retrying one that has
	// not failed).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input is malformed. ValidationError wraps it.
	ErrInvalid = errors.New("invalid")
)

// ValidationError reports a bad input and names the field at fault. It wraps
// ErrInvalid, so errors.Is(err, ErrInvalid) holds for every ValidationError.
type ValidationError struct {
	// Field is the option or input field at fault, e.g. "cron", "every",
	// "timezone", "retries".
	Field string
	// Value is the offending value as the user gave it (may be empty).
	Value string
	// Reason says what is wrong, in words.
	Reason string
}

func (e *ValidationError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("invalid %s %q: %s", e.Field, e.Value, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func invalid(field, value, format string, args ...any) error {
	return &ValidationError{Field: field, Value: value, Reason: fmt.Sprintf(format, args...)}
}
