//go:build tickflow.nodashboard

package main

import "github.com/tickflow/tickflow/handler"

// dashboardLinked is false: this build (-tags tickflow.nodashboard) leaves
// the dashboard out. Executing html/template makes the linker keep the
// exported methods of every reachable type, so a tick-only bootstrap, which
// serves the REST API but not the dashboard, is about 1.8 MB smaller.
const dashboardLinked = false

// newDashboard returns nil: the dashboard is not linked.
func newDashboard() *handler.Dashboard { return nil }
