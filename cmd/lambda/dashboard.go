//go:build !tickflow.nodashboard

package main

import (
	"log/slog"
	"net/http"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler/dashboard"
)

// dashboardLinked reports whether this build links the dashboard. Build with
// -tags tickflow.nodashboard for a tick-only bootstrap about 1.8 MB smaller
// (dashboard_off.go): this file, the only importer of handler/dashboard in
// the function, is then left out.
const dashboardLinked = true

// newDashboard returns the dashboard served through the Function URL, under
// the API's token.
func newDashboard(engine *core.Engine, token string, log *slog.Logger) (http.Handler, error) {
	d, err := dashboard.New(dashboard.Config{Engine: engine, Token: token, Logger: log})
	if err != nil {
		return nil, err
	}
	return d, nil
}
