// Package webhook is the built-in alert notifier: it POSTs each core.Alert
// as JSON to a URL, with a Slack-compatible text field beside the
// structured fields, signed with HMAC-SHA256 when a secret is set.
//
// The request:
//
//	POST <url>
//	Content-Type: application/json
//	User-Agent: tickflow-alerts
//	X-Tickflow-Timestamp: <unix seconds, the body's sent_at>
//	X-Tickflow-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by the secret>
//	X-Tickflow-Alert-Key: <the alert's key: drop repeats>
//
//	{"id":1,"kind":"run_failed","key":"run-failed:42:3","at":"…","text":"…",
//	 "attempt":1,"runs":[…],"sent_at":1767225600}
//
// A receiver verifies the signature over the raw body (Verify does), then
// rejects a sent_at too far from its clock (replays). Any status other than
// 2xx, a redirect included, is an error: the outbox retries it.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tickflow/tickflow/core"
)

// Header names.
const (
	SignatureHeader = "X-Tickflow-Signature"
	TimestampHeader = "X-Tickflow-Timestamp"
	KeyHeader       = "X-Tickflow-Alert-Key"
)

// DefaultTimeout bounds one delivery.
const DefaultTimeout = 10 * time.Second

// MinSecretLen is the shortest secret accepted.
const MinSecretLen = 16

// Config configures a Notifier.
type Config struct {
	// URL receives the POSTs: http or https, with a host. Required.
	URL string
	// Secret keys the signature header; empty sends no signature (a chat
	// webhook whose URL is its secret). At least MinSecretLen bytes.
	Secret string
	// Timeout bounds one delivery (default DefaultTimeout, at most a
	// minute); the tick's deadline bounds it too.
	Timeout time.Duration
	// Client sends the requests (default: a client that follows no
	// redirects).
	Client *http.Client
	// Now stamps sent_at (default time.Now; tests stub it).
	Now func() time.Time
}

// Notifier posts alerts to a webhook. Build it with New.
type Notifier struct {
	url     string
	secret  []byte
	timeout time.Duration
	client  *http.Client
	now     func() time.Time
}

var _ core.Notifier = (*Notifier)(nil)

// New validates c and returns a Notifier. Errors name the field and never
// carry the URL's secrets (see RedactURL) or the secret.
func New(c Config) (*Notifier, error) {
	if err := CheckURL(c.URL); err != nil {
		return nil, err
	}
	if err := CheckSecret(c.Secret); err != nil {
		return nil, err
	}
	switch {
	case c.Timeout < 0 || c.Timeout > time.Minute:
		return nil, &core.ValidationError{Field: "alert_webhook_timeout", Value: c.Timeout.String(), Reason: "must be 0 (default 10s) to 1m"}
	case c.Timeout == 0:
		c.Timeout = DefaultTimeout
	}
	if c.Client == nil {
		c.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	n := &Notifier{url: c.URL, timeout: c.Timeout, client: c.Client, now: c.Now}
	if c.Secret != "" {
		n.secret = []byte(c.Secret)
	}
	return n, nil
}

// CheckURL validates a webhook URL: absolute http or https with a host, no
// control characters or spaces. The error shows the URL redacted.
func CheckURL(raw string) error {
	bad := func(reason string) error {
		return &core.ValidationError{Field: "alert_webhook_url", Value: RedactURL(raw), Reason: reason}
	}
	if raw == "" {
		return bad("is required")
	}
	if len(raw) > 2048 {
		return bad("is longer than 2048 bytes")
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return bad("contains spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return bad("must be an http or https URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		return bad("has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("has a bad port")
		}
	}
	return nil
}

// CheckSecret validates a signing secret: empty (no signature) or at least
// MinSecretLen bytes. The error never shows it.
func CheckSecret(secret string) error {
	if secret != "" && len(secret) < MinSecretLen {
		return &core.ValidationError{Field: "alert_webhook_secret", Value: "xxxxx", Reason: fmt.Sprintf("must be empty (no signature) or at least %d bytes", MinSecretLen)}
	}
	return nil
}

// RedactURL is a webhook URL safe for logs: its scheme and host, with the
// user info, path, query and fragment (where chat webhooks keep their
// tokens) replaced by "xxxxx". An unparseable URL is all "xxxxx".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if raw == "" {
			return ""
		}
		return "xxxxx"
	}
	out := u.Scheme + "://"
	if u.User != nil {
		out += "xxxxx@"
	}
	out += u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		out += "/xxxxx"
	}
	return out
}

// String describes the notifier without its secrets.
func (n *Notifier) String() string { return "webhook " + RedactURL(n.url) }

// payload is the posted JSON: the alert and when it was sent.
type payload struct {
	core.Alert
	SentAt int64 `json:"sent_at"`
}

// Notify posts a. An error (transport, timeout, non-2xx status) names the
// URL redacted and the status, never the secret.
func (n *Notifier) Notify(ctx context.Context, a core.Alert) error {
	sent := n.now().Unix()
	body, err := json.Marshal(payload{Alert: a, SentAt: sent})
	if err != nil {
		return fmt.Errorf("webhook: encode alert %d: %w", a.ID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", RedactURL(n.url), errors.Unwrap(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tickflow-alerts")
	req.Header.Set(TimestampHeader, strconv.FormatInt(sent, 10))
	req.Header.Set(KeyHeader, a.Key)
	if n.secret != nil {
		req.Header.Set(SignatureHeader, Sign(n.secret, body))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the whole URL, tokens included
		}
		return fmt.Errorf("webhook %s: %w", RedactURL(n.url), err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook %s: status %d: %s", RedactURL(n.url), resp.StatusCode, strings.TrimSpace(strings.ToValidUTF8(string(snippet), "?")))
	}
	return nil
}

// Sign is the signature header's value for body: "sha256=" and the hex
// HMAC-SHA256 of body keyed by secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature (the header's value) is body's
// signature under secret, in constant time: what a receiver checks.
func Verify(secret, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}
