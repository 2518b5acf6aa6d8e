package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/notify/webhook"
)

// alertFlags are the --alert-* flags of serve and tick: the webhook that
// receives failure alerts (core.Config.Alerts). Their defaults come from the
// environment after parsing, never as flag defaults, so -h does not print
// the URL's token or the secret.
type alertFlags struct {
	url, secret, secretFile *string
	stoppedAfter            *time.Duration
	getenv                  env
}

// maxTicksStoppedAfter bounds --alert-ticks-stopped-after.
const maxTicksStoppedAfter = 30 * 24 * time.Hour

func addAlertFlags(fs *flag.FlagSet, getenv env) *alertFlags {
	return &alertFlags{
		getenv: getenv,
		url: fs.String("alert-webhook-url", "",
			"POST failure alerts (failed runs, missed slots, stopped ticks) as JSON to this http(s) `URL`; ticks deliver them from an outbox (env TICKFLOW_ALERT_WEBHOOK_URL; empty: no alerts)"),
		secret: fs.String("alert-webhook-secret", "",
			fmt.Sprintf("sign each alert with HMAC-SHA256 under this secret, at least %d bytes, in the %s header (env TICKFLOW_ALERT_WEBHOOK_SECRET; prefer the env or --alert-webhook-secret-file: flags show in ps)", webhook.MinSecretLen, webhook.SignatureHeader)),
		secretFile: fs.String("alert-webhook-secret-file", "", "read the signing secret from this `file` (one line)"),
		stoppedAfter: fs.Duration("alert-ticks-stopped-after", core.DefaultTicksStoppedAfter,
			"alert when no tick finished for longer than this: keep it above the trigger's period (cron) or --interval"),
	}
}

// alerts checks the flags (then the environment) and returns the engine's
// Alerts: zero when no URL is set. A bad value is a usage error (exit 2),
// found before the store is opened; messages never show the secret or the
// URL's path, query or user info.
func (f *alertFlags) alerts() (core.Alerts, error) {
	url := orDefault(*f.url, f.getenv("TICKFLOW_ALERT_WEBHOOK_URL"))
	secret := orDefault(*f.secret, f.getenv("TICKFLOW_ALERT_WEBHOOK_SECRET"))
	if *f.secretFile != "" {
		if *f.secret != "" {
			return core.Alerts{}, usagef("bad --alert-webhook-secret-file: give the secret once, not also --alert-webhook-secret")
		}
		b, err := os.ReadFile(*f.secretFile)
		if err != nil {
			return core.Alerts{}, usagef("bad --alert-webhook-secret-file: %v", err)
		}
		secret = strings.TrimRight(string(b), "\r\n")
	}
	if d := *f.stoppedAfter; d <= 0 || d > maxTicksStoppedAfter {
		return core.Alerts{}, usagef("bad --alert-ticks-stopped-after %s: must be greater than zero and at most %s", d, maxTicksStoppedAfter)
	}
	if url == "" {
		if secret != "" {
			return core.Alerts{}, usagef("bad --alert-webhook-secret: set without --alert-webhook-url (or TICKFLOW_ALERT_WEBHOOK_URL)")
		}
		return core.Alerts{}, nil
	}
	n, err := webhook.New(webhook.Config{URL: url, Secret: secret})
	if err != nil {
		return core.Alerts{}, usagef("bad --alert-webhook-url or --alert-webhook-secret (or their TICKFLOW_ALERT_WEBHOOK_* variables): %v", err)
	}
	return core.Alerts{Notifier: n, TicksStoppedAfter: *f.stoppedAfter}, nil
}
