// Package dashboard is tickflow's web dashboard: server-rendered pages under
// /ui/ (GET / redirects to the schedules view), embedded in the binary,
// readable without JavaScript. It is an http.Handler built by New over a
// *core.Engine, whose methods are all it calls; a command mounts it as
// handler.Config.Dashboard, which keeps the API's paths for the API:
//
//	eng, _ := core.NewEngine(core.Config{Store: store, Registry: reg})
//	dash, err := dashboard.New(dashboard.Config{Engine: eng, Token: token})
//	h, err := handler.New(handler.Config{Engine: eng, Token: token, Dashboard: dash})
//
// Its pages:
//
//	GET  /ui/schedules                    schedules, 50 a page (after=), searched by prefix, task, label, origin; run now / pause / resume;
//	                                      each row's history strip: its last 20 slots (history.go)
//	GET  /ui/schedules/{name}?from=&to=[&backfill=preview]
//	                                      one schedule: an SVG chart of run durations with missed slots,
//	                                      the audit of every slot of the window (default 24 h), a backfill
//	                                      preview (dry run) and its confirm button (schedule.go)
//	GET  /ui/runs?status=&source=&task=&schedule=&cursor=
//	                                      runs, newest first, filtered, paginated
//	GET  /ui/runs/{id}                    one run: slot, attempts, timings,
//	                                      payload, error and stack, tick
//	GET  /ui/ticks                        recent ticks and the staleness banner
//	POST /ui/schedules                    create a runtime schedule (the form; errors show it again)
//	POST /ui/schedules/{name}/delete      delete a runtime schedule
//	POST /ui/schedules/{name}/trigger     run now (source manual)
//	POST /ui/schedules/{name}/pause       pause
//	POST /ui/schedules/{name}/resume      resume
//	POST /ui/schedules/{name}/backfill    backfill the window's passed slots that have no run (from, to)
//	POST /ui/runs/{id}/retry              retry a failed run
//	POST /ui/runs/{id}/cancel             cancel a pending run
//	GET  /ui/login, POST /ui/login, POST /ui/logout
//
// Actions are plain forms answered with a redirect back to the page named by
// their "next" field (Post/Redirect/Get) and a one-time message; errors are
// pages with the API's status codes (handler.StatusOf). The token rule, the
// sign-in sessions (server-side, core.Engine.CreateSession) and the
// cross-site (CSRF) protection are in auth.go; the page headers (Content-Security-Policy and others) in
// render.go.
//
// Served by a handler.Handler, each request is logged once there, with its
// request id, and every page shows the "ticks have stopped" banner by the
// rule of GET /healthz (handler.Handler.Check, found with
// handler.FromContext).
//
// It is a package of its own so that a program that does not serve it does
// not link it: executing html/template makes the linker keep every exported
// method of every reachable type, about 1.8 MB of the Lambda function's
// bootstrap (cmd/lambda's -tags tickflow.nodashboard leaves this package
// out).
package dashboard
