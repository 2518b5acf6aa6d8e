//go:build !tickflow.nodashboard

package main

import "github.com/tickflow/tickflow/handler"

// dashboardLinked reports whether this build links the dashboard. Build with
// -tags tickflow.nodashboard for a tick-only bootstrap about 1.8 MB smaller
// (dashboard_off.go).
const dashboardLinked = true

// newDashboard returns the dashboard served through the Function URL.
func newDashboard() *handler.Dashboard { return handler.NewDashboard() }
