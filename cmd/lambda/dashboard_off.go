//go:build tickflow.nodashboard

package main

import (
	"log/slog"
	"net/http"

	"github.com/tickflow/tickflow/core"
)

// dashboardLinked is false: this build (-tags tickflow.nodashboard) does not
// import handler/dashboard. Executing html/template makes the linker keep
// the exported methods of every reachable type, so a tick-only bootstrap,
// which serves the REST API but not the dashboard, is about 1.8 MB smaller.
const dashboardLinked = false

// newDashboard returns nil: the dashboard is not linked.
func newDashboard(*core.Engine, string, *slog.Logger) (http.Handler, error) { return nil, nil }
