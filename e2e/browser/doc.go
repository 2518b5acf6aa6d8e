// Package browser holds the dashboard's end-to-end test: it builds
// cmd/local, starts "serve" on a loopback port with a temporary SQLite
// database, and drives the dashboard in headless Chromium through
// github.com/chromedp/chromedp, the way a person would: sign in, run a
// schedule now, watch the run finish, open its detail, pause and resume,
// filter the runs. With UPDATE_SCREENSHOTS=1 it also writes the screenshots
// of docs/screenshots/.
//
// Chromium is found as "chromium" (Debian's package), "chromium-browser" or
// "google-chrome" on PATH, or named by CHROMIUM_PATH. Without a browser the
// test is skipped locally and fails when the CI environment variable is set.
package browser
