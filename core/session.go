package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// Sessions are server-side sign-ins (the dashboard's): an adapter that has
// checked a credential asks the Engine for a session and hands its id to
// the client (a cookie); later requests present the id and the Engine checks
// it against the store. A session is valid until it expires or is ended, and
// only for the credential it was opened with: the adapter passes a
// fingerprint of that credential (never the credential itself), so changing
// the credential ends every session at once. Because the store keeps them,
// every instance of a serverless deployment sees the same sessions.
//
// The id is SessionIDBytes random bytes (crypto/rand) in unpadded base64url;
// the store keeps only its SHA-256, so reading the table does not let anyone
// sign in. An id that is not of that form is simply invalid: it never
// reaches the store.

// SessionIDBytes is the entropy of a session id, in bytes (256 bits).
const SessionIDBytes = 32

// sessionIDLen is the length of a session id's text.
var sessionIDLen = base64.RawURLEncoding.EncodedLen(SessionIDBytes)

// MaxSessionTTL bounds a session's lifetime (one year).
const MaxSessionTTL = 366 * 24 * time.Hour

// MaxSessionFingerprintBytes bounds a session's credential fingerprint.
const MaxSessionFingerprintBytes = 128

// CreateSession opens a session for the credential named by fingerprint
// (an adapter's keyed hash of it, 1 to MaxSessionFingerprintBytes bytes of
// text) that expires ttl (at most MaxSessionTTL) after the engine's clock.
// It returns the new session's id, the secret to hand to the client, and its
// expiry. Expired sessions are pruned as a side effect.
func (e *Engine) CreateSession(ctx context.Context, fingerprint string, ttl time.Duration) (id string, expires time.Time, err error) {
	if err := checkFingerprint(fingerprint); err != nil {
		return "", time.Time{}, err
	}
	if ttl <= 0 || ttl > MaxSessionTTL {
		return "", time.Time{}, invalid("ttl", ttl.String(), "must be greater than zero and at most %s", MaxSessionTTL)
	}
	var b [SessionIDBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("create session: %w", err)
	}
	id = base64.RawURLEncoding.EncodeToString(b[:])
	now, err := e.now(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	expires, err = e.cfg.Store.CreateSession(ctx, CreateSessionParams{
		IDHash: sessionIDHash(id), Fingerprint: fingerprint, TTL: ttl, Now: now,
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("create session: %w", err)
	}
	return id, expires.UTC(), nil
}

// CheckSession reports whether id names a live session (not expired by the
// engine's clock, not ended) opened for fingerprint. A malformed id (wrong
// length, not base64url: any garbage a client sends) is false without a
// store call; an error means the store could not answer, and the caller
// must treat it as "not signed in".
func (e *Engine) CheckSession(ctx context.Context, id, fingerprint string) (bool, error) {
	if err := checkFingerprint(fingerprint); err != nil {
		return false, err
	}
	if !validSessionID(id) {
		return false, nil
	}
	now, err := e.now(ctx)
	if err != nil {
		return false, err
	}
	ok, err := e.cfg.Store.CheckSession(ctx, CheckSessionParams{IDHash: sessionIDHash(id), Fingerprint: fingerprint, Now: now})
	if err != nil {
		return false, fmt.Errorf("check session: %w", err)
	}
	return ok, nil
}

// EndSession ends the session id (signing out): later checks of it fail on
// every instance. A malformed or unknown id is no error.
func (e *Engine) EndSession(ctx context.Context, id string) error {
	if !validSessionID(id) {
		return nil
	}
	if err := e.cfg.Store.DeleteSession(ctx, DeleteSessionParams{IDHash: sessionIDHash(id)}); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

func checkFingerprint(fp string) error {
	if err := CheckText("fingerprint", fp); err != nil {
		return err
	}
	if fp == "" || len(fp) > MaxSessionFingerprintBytes {
		return invalid("fingerprint", "", "must be 1-%d bytes", MaxSessionFingerprintBytes)
	}
	return nil
}

// validSessionID reports whether id has the form CreateSession gives ids.
func validSessionID(id string) bool {
	if len(id) != sessionIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(id)
	return err == nil
}

// sessionIDHash is what the store keeps of a session id.
func sessionIDHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}
