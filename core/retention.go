package core

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxRetainDays bounds a retention written in days (100 years): beyond it,
// write "forever".
const maxRetainDays = 36500

// ParseRetention reads a Retention duration as commands take it: a Go
// duration ("36h", "90m"), a whole number of days ("30d"), "forever"
// (RetainForever: never prune), or "" or "0" (the default). Negative values
// are errors.
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return 0, nil
	case s == "forever":
		return RetainForever, nil
	case strings.HasSuffix(s, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n < 0 || n > maxRetainDays {
			return 0, fmt.Errorf("%q: want whole days from 0d to %dd", s, maxRetainDays)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as 30d or 36h, or forever", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: must not be negative", s)
	}
	return d, nil
}

// FormatRetention writes d as ParseRetention reads it: "forever", whole
// days as "30d", else a Go duration.
func FormatRetention(d time.Duration) string {
	switch {
	case d == RetainForever:
		return "forever"
	case d > 0 && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
