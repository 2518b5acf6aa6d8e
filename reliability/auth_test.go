package reliability

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
)

// mutatingRoutes reads the handler's route table from its source and
// returns every pattern whose method is not GET, HEAD or OPTIONS, so a route
// added later is covered without editing this test.
func mutatingRoutes(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("../handler/handler.go")
	if err != nil {
		t.Fatalf("read the handler's routes: %v", err)
	}
	re := regexp.MustCompile(`mux\.Handle(?:Func)?\("([A-Z]+) (/[^"]*)"`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		switch m[1] {
		case "GET", "HEAD", "OPTIONS":
			continue
		}
		out = append(out, m[1]+" "+m[2])
	}
	if len(out) < 5 {
		t.Fatalf("found only %d mutating routes in handler.go (%v): the pattern no longer matches the route table", len(out), out)
	}
	return out
}

// TestAuth is scenario 8: with a token configured, every mutating route and
// POST /tick refuse a missing or wrong token with 401 and change nothing;
// the right token gets through. Also through a Lambda Function URL.
func TestAuth(t *testing.T) {
	ctx := context.Background()
	url := dialectURL(t, "sqlite")
	st := openURL(t, url)
	clock := core.NewStubClock(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC))
	reg := core.NewRegistry()
	noop := func(context.Context, core.RunInfo) error { return nil }
	reg.MustSchedule("nightly", noop, core.Cron("0 3 * * *"))
	reg.MustRegister("mail", noop)
	eng, err := core.NewEngine(core.Config{Store: st, Registry: reg, Clock: clock, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	const token = "s3cret-token"
	// This scenario counts 401s for many wrong tokens from one client: the
	// limit on failed authentications (429 after 10) has its own tests in
	// handler, so it is loosened here.
	lim := handler.NewAuthLimiter(handler.AuthLimit{Failures: 1000})
	h, err := handler.New(handler.Config{Engine: eng, Token: token, Logger: quietLogger(), AuthLimiter: lim})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Tick(ctx); err != nil { // stores the schedule
		t.Fatal(err)
	}
	pending, _, err := eng.AddTask(ctx, core.AddTaskParams{Task: "mail"})
	if err != nil {
		t.Fatal(err)
	}

	// state is what a refused request must not change.
	state := func() string {
		runs := allRuns(t, st)
		ticks, err := st.ListTicks(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		s, err := st.GetSchedule(ctx, "nightly")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(runs)
		return fmt.Sprintf("runs=%s ticks=%d paused=%t", b, len(ticks), s.Paused)
	}
	bad := map[string]string{
		"missing":      "",
		"wrong":        "Bearer wrong-token",
		"prefix":       "Bearer " + token[:len(token)-1],
		"longer":       "Bearer " + token + "x",
		"basic":        "Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+token)),
		"no scheme":    token,
		"empty bearer": "Bearer ",
	}
	bodies := map[string]string{"POST /api/runs": `{"task":"mail"}`}
	path := func(pattern string) string {
		p := strings.SplitN(pattern, " ", 2)[1]
		p = strings.ReplaceAll(p, "{name}", "nightly")
		return strings.ReplaceAll(p, "{id}", fmt.Sprint(pending.ID))
	}
	routes := mutatingRoutes(t)
	before := state()
	refused := 0
	for _, route := range routes {
		method := strings.SplitN(route, " ", 2)[0]
		for kind, auth := range bad {
			req := httptest.NewRequest(method, path(route), strings.NewReader(bodies[route]))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			// A token in the query string is not a credential.
			q := req.URL.Query()
			q.Set("token", token)
			req.URL.RawQuery = q.Encode()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusUnauthorized {
				t.Errorf("%s with %s token: status %d, want 401 (body %s)", route, kind, w.Code, w.Body)
				continue
			}
			refused++
		}
	}
	unchanged := true
	if after := state(); after != before {
		unchanged = false
		t.Errorf("refused requests changed the store:\nbefore %s\nafter  %s", before, after)
	}

	// Through a Lambda Function URL, POST /tick without the token.
	fu := events.LambdaFunctionURLRequest{Version: "2.0", RawPath: "/tick", Headers: map[string]string{}}
	fu.RequestContext.HTTP.Method = http.MethodPost
	fu.RequestContext.DomainName = "example.lambda-url.us-east-1.on.aws"
	payload, _ := json.Marshal(fu)
	out, err := h.Lambda()(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	// Whatever Go type the handler answers with, its JSON is the Function
	// URL response the Lambda runtime sends back.
	var resp struct {
		StatusCode int `json:"statusCode"`
	}
	b, _ := json.Marshal(out)
	fuRefused := json.Unmarshal(b, &resp) == nil && resp.StatusCode == http.StatusUnauthorized
	if !fuRefused {
		t.Errorf("Function URL POST /tick without a token: %s, want a 401 response", b)
	}
	if after := state(); after != before {
		unchanged = false
		t.Errorf("the refused Function URL request changed the store")
	}

	// The right token gets through every route (whatever the route then
	// answers, it is not 401).
	accepted := 0
	for _, route := range routes {
		method := strings.SplitN(route, " ", 2)[0]
		req := httptest.NewRequest(method, path(route), strings.NewReader(bodies[route]))
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code == http.StatusUnauthorized || w.Code >= 500 {
			t.Errorf("%s with the right token: status %d (body %s)", route, w.Code, w.Body)
			continue
		}
		accepted++
	}
	figures(t, "auth", "mutating_routes", len(routes), "bad_tokens", len(bad), "refused_401", refused,
		"function_url_refused", fuRefused, "right_token_accepted", accepted,
		"store_unchanged_by_refused", unchanged)
	t.Logf("routes: %s", strings.Join(routes, ", "))
}
