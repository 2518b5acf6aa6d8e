package main

import (
	"flag"
	"time"

	"github.com/tickflow/tickflow/core"
)

// retentionFlags are the --retain-* flags of serve and tick: how long the
// ticks keep finished runs and tick reports (core.Config.Retention).
type retentionFlags struct {
	runs, failedRuns, ticks *string
}

// rawFlag is a flag kept as text and checked after parsing (so a bad value
// gets this command's "bad --flag" message); its default prints unquoted.
type rawFlag struct{ s *string }

func (f rawFlag) String() string {
	if f.s == nil {
		return ""
	}
	return *f.s
}
func (f rawFlag) Set(v string) error { *f.s = v; return nil }

func addRetentionFlags(fs *flag.FlagSet) *retentionFlags {
	const syntax = " (such as 30d or 36h; forever keeps them)"
	f := &retentionFlags{}
	for _, v := range []struct {
		name  string
		dst   **string
		def   time.Duration
		usage string
	}{
		{"retain-runs", &f.runs, core.DefaultRetainRuns, "ticks delete successful, cancelled and skipped runs finished more than `age` ago"},
		{"retain-failed-runs", &f.failedRuns, core.DefaultRetainFailedRuns, "ticks delete failed runs finished more than `age` ago"},
		{"retain-ticks", &f.ticks, core.DefaultRetainTicks, "ticks delete tick reports started more than `age` ago"},
	} {
		s := core.FormatRetention(v.def)
		*v.dst = &s
		fs.Var(rawFlag{&s}, v.name, v.usage+syntax)
	}
	return f
}

// addClaimHoldFlag adds --claim-hold (core.Config.ClaimHold), kept as
// text and parsed by claimHold.
func addClaimHoldFlag(fs *flag.FlagSet) *string {
	s := core.DefaultClaimHold.String()
	fs.Var(rawFlag{&s}, "claim-hold", "on PostgreSQL, keep a claim open up to `duration` while its runs execute, so that each run is written once, finished (at most "+core.MaxClaimHold.String()+"; off: never)")
	return &s
}

// claimHold parses --claim-hold; a bad value is a usage error (exit 2).
func claimHold(s string) (time.Duration, error) {
	d, err := core.ParseClaimHold(s)
	if err != nil {
		return 0, usagef("bad --claim-hold %v", err)
	}
	return d, nil
}

// retention parses the flags; a bad value is a usage error (exit 2), found
// before the store is opened.
func (f *retentionFlags) retention() (core.Retention, error) {
	var r core.Retention
	for _, v := range []struct {
		flag, in string
		out      *time.Duration
	}{
		{"retain-runs", *f.runs, &r.Runs},
		{"retain-failed-runs", *f.failedRuns, &r.FailedRuns},
		{"retain-ticks", *f.ticks, &r.Ticks},
	} {
		d, err := core.ParseRetention(v.in)
		if err != nil {
			return r, usagef("bad --%s %v", v.flag, err)
		}
		*v.out = d
	}
	return r, nil
}
