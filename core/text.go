package core

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Text that reaches the store (task and schedule names, idempotency keys,
// lock keys, payloads, list filters) must be storable on every dialect:
// PostgreSQL refuses a NUL byte and invalid UTF-8 in text ("invalid byte
// sequence for encoding UTF8") while SQLite stores the bytes as given. The
// Engine checks text before it touches the store, so both dialects answer
// the same ValidationError and nothing is written.

// MaxIdempotencyKeyBytes bounds AddTaskParams.IdempotencyKey, in bytes of
// its UTF-8 encoding (200 ASCII characters; fewer characters outside ASCII).
const MaxIdempotencyKeyBytes = 200

// MaxLockKeyBytes bounds the key of AcquireScheduleLock, in bytes.
const MaxLockKeyBytes = 200

// ValidText reports whether s is valid UTF-8 without a NUL byte: text that
// every dialect stores as given.
func ValidText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// CheckText returns nil when s is ValidText, else a ValidationError naming
// field (which wraps ErrInvalid). Adapters use it for text they receive
// before handing it to the Engine, e.g. query parameters.
func CheckText(field, s string) error {
	switch {
	case !utf8.ValidString(s):
		return invalid(field, "", "must be valid UTF-8")
	case strings.ContainsRune(s, 0):
		return invalid(field, "", "must not contain a NUL character")
	}
	return nil
}

// CheckPayload returns nil when p is empty or a JSON document every dialect
// stores and every reader decodes unchanged: valid JSON, valid UTF-8, at most
// MaxPayloadBytes, and no string escape that PostgreSQL's jsonb or JSON
// operators refuse (\u0000, or half of a surrogate pair). Otherwise it
// returns a ValidationError for the field "payload".
func CheckPayload(p json.RawMessage) error {
	if len(p) == 0 {
		return nil
	}
	switch {
	case len(p) > MaxPayloadBytes:
		return invalid("payload", "", "must be at most %d bytes", MaxPayloadBytes)
	case !utf8.Valid(p):
		return invalid("payload", "", "must be valid UTF-8")
	case !json.Valid(p):
		return invalid("payload", "", "must be valid JSON")
	}
	if reason := badEscape(p); reason != "" {
		return invalid("payload", "", "must not contain %s", reason)
	}
	return nil
}

// badEscape scans valid JSON for a \u escape PostgreSQL refuses in jsonb:
// \u0000, or a surrogate escape that is not a high one followed by a low
// one. It returns what it found, in words, or "".
func badEscape(p []byte) string {
	inString := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if p[i+1] != 'u' { // valid JSON: a backslash is always followed by one more byte
				i++
				continue
			}
			r := hex4(p[i+2 : i+6])
			i += 5
			switch {
			case r == 0:
				return `a \u0000 escape (PostgreSQL cannot store NUL in text)`
			case 0xDC00 <= r && r <= 0xDFFF:
				return "an unpaired surrogate escape"
			case 0xD800 <= r && r <= 0xDBFF:
				if i+6 >= len(p) || p[i+1] != '\\' || p[i+2] != 'u' {
					return "an unpaired surrogate escape"
				}
				if lo := hex4(p[i+3 : i+7]); lo < 0xDC00 || lo > 0xDFFF {
					return "an unpaired surrogate escape"
				}
				i += 6
			}
		}
	}
	return ""
}

// hex4 decodes four hex digits (json.Valid has checked them).
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// Validate checks ListRunsParams as the Engine does before ListRuns: Status
// and Source empty or known, Task and Schedule valid text, BeforeID and
// Limit not negative. The error is a ValidationError naming the field.
func (p ListRunsParams) Validate() error {
	switch {
	case p.Status != "" && !p.Status.Valid():
		return invalid("status", CleanText(string(p.Status)), "unknown status")
	case p.Source != "" && !p.Source.Valid():
		return invalid("source", CleanText(string(p.Source)), "want manual or scheduled")
	case p.BeforeID < 0:
		return invalid("before_id", "", "must not be negative")
	case p.Limit < 0:
		return invalid("limit", "", "must not be negative")
	}
	if err := CheckText("task", p.Task); err != nil {
		return err
	}
	return CheckText("schedule", p.Schedule)
}

// CleanText returns s with invalid UTF-8 and NUL replaced by U+FFFD, for
// quoting bad input in messages and logs.
func CleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
