package core

import (
	"math"
	"time"
)

// RetryPolicy decides whether and when a failed attempt is tried again.
type RetryPolicy struct {
	// Retries is the number of attempts after the first (default 0).
	Retries int `json:"retries"`
	// Delay is the wait before the first retry (default 0).
	Delay time.Duration `json:"delay"`
	// Backoff multiplies the wait per retry (default 1).
	Backoff float64 `json:"backoff"`
	// MaxDelay caps the wait (0: no cap).
	MaxDelay time.Duration `json:"max_delay"`
}

// MaxAttempts is 1 + Retries.
func (p RetryPolicy) MaxAttempts() int { return 1 + p.Retries }

// Wait returns the delay after failed attempt n (1-based) before attempt n+1:
// Delay·Backoff^(n-1), capped by MaxDelay and by a year.
func (p RetryPolicy) Wait(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	b := p.Backoff
	if b < 1 {
		b = 1
	}
	f := float64(p.Delay) * math.Pow(b, float64(n-1))
	const year = float64(365 * 24 * time.Hour)
	if f > year || math.IsInf(f, 0) || math.IsNaN(f) {
		f = year
	}
	d := time.Duration(f)
	if p.MaxDelay > 0 && d > p.MaxDelay {
		d = p.MaxDelay
	}
	return d
}
