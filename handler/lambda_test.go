package handler_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/tickflow/tickflow/core"
	"github.com/tickflow/tickflow/handler"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invoke calls the Lambda function the way the runtime does, with a
// deadline and a request id in the context.
func (e *env) invoke(payload []byte, timeout time.Duration, requestID string) ([]byte, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID})
	return lambda.NewHandler(e.h.Lambda()).Invoke(ctx, payload)
}

func TestLambdaScheduledPayloads(t *testing.T) {
	e := newEnv(t)
	for _, fixture := range []string{
		"eventbridge-rule.json", "scheduler-envelope.json", "scheduler-input.json",
		"empty.json", "null.json", "empty-object.json",
	} {
		t.Run(fixture, func(t *testing.T) {
			e.t = t
			before := len(e.runs())
			e.clock.Advance(5 * time.Minute) // one cleanup slot comes due
			e.addTask("send_email", `"`+fixture+`"`)
			out, err := e.invoke(readFixture(t, fixture), 30*time.Second, "req-"+fixture)
			if err != nil {
				t.Fatalf("invoke: %v", err)
			}
			var rep core.Report
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("response %s is not a report: %v", out, err)
			}
			if rep.Claimed != 2 || rep.Succeeded != 2 || rep.TickID == "" {
				t.Fatalf("report = %+v, want the cleanup slot and the manual run", rep)
			}
			runs := e.runs()
			if len(runs) != before+2 {
				t.Fatalf("runs %d -> %d, want 2 more", before, len(runs))
			}
			for _, r := range runs[:2] {
				if r.Status != core.StatusSuccess || r.TickID != rep.TickID {
					t.Errorf("run %+v not done by tick %s", r, rep.TickID)
				}
			}
			if tr := e.ticks()[0]; tr.ID != rep.TickID || tr.Trigger != "lambda" {
				t.Errorf("last tick = %+v, want %s by lambda", tr, rep.TickID)
			}
			if !strings.Contains(e.logs.String(), `"aws_request_id":"req-`+fixture+`"`) {
				t.Errorf("logs lack the aws_request_id")
			}
		})
	}
}

func TestLambdaTaskFailureIsNotAnError(t *testing.T) {
	e := newEnv(t)
	e.addTask("flaky", "")
	out, err := e.invoke(readFixture(t, "eventbridge-rule.json"), 30*time.Second, "req-1")
	if err != nil {
		t.Fatalf("a task failure failed the invocation: %v", err)
	}
	var rep core.Report
	if err := json.Unmarshal(out, &rep); err != nil || rep.Failed != 1 {
		t.Fatalf("report %s, want one failed run", out)
	}
	if runs := e.runs(); runs[0].Status != core.StatusFailed || runs[0].Error == "" {
		t.Fatalf("run = %+v, want recorded as failed with its error", runs[0])
	}
}

func TestLambdaInfrastructureFailureIsAnError(t *testing.T) {
	e := newEnv(t)
	e.store.down.Store(true)
	_, err := e.invoke(readFixture(t, "scheduler-envelope.json"), 30*time.Second, "req-down")
	if err == nil || !strings.Contains(err.Error(), errDown.Error()) {
		t.Fatalf("invoke with the store down: err = %v, want the store error", err)
	}
	if !strings.Contains(e.logs.String(), `"aws_request_id":"req-down"`) {
		t.Error("the failure is not logged with the request id")
	}
}

func TestLambdaDeadline(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(5 * time.Minute)
	e.addTask("send_email", "")
	// Less time than the engine's DeadlineMargin (2 s): nothing is claimed.
	out, err := e.invoke(readFixture(t, "eventbridge-rule.json"), time.Second, "req-short")
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var rep core.Report
	if err := json.Unmarshal(out, &rep); err != nil || rep.Claimed != 0 || rep.DueSchedules != 1 {
		t.Fatalf("report %s, want the due slot seen but nothing claimed", out)
	}
	for _, r := range e.runs() {
		if r.Status != core.StatusPending {
			t.Fatalf("run %+v was touched by a tick with no time left", r)
		}
	}
	// With time, the next invocation does the work.
	out, err = e.invoke(readFixture(t, "eventbridge-rule.json"), 30*time.Second, "req-long")
	if err != nil || json.Unmarshal(out, &rep) != nil || rep.Claimed != 2 {
		t.Fatalf("second invoke: %s, %v; want 2 claimed", out, err)
	}
}

func TestLambdaRejectsUnsupportedPayloads(t *testing.T) {
	e := newEnv(t)
	for name, payload := range map[string]string{
		"malformed":        `{"detail-type":`,
		"array":            `[1,2]`,
		"string":           `"tick"`,
		"other event":      `{"source":"aws.s3","detail-type":"Object Created","detail":{}}`,
		"api gateway rest": `{"resource":"/","path":"/","httpMethod":"GET","requestContext":{"resourceId":"x"}}`,
		"sqs":              string(readFixture(t, "sqs-event.json")),
		"unknown object":   `{"action":"run"}`,
	} {
		if _, err := e.invoke([]byte(payload), 30*time.Second, "req-bad"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := len(e.ticks()); n != 0 {
		t.Fatalf("rejected payloads ran %d ticks", n)
	}
}

// invokeURL invokes with a Function URL fixture and decodes the response.
func (e *env) invokeURL(payload []byte) events.LambdaFunctionURLResponse {
	e.t.Helper()
	out, err := e.invoke(payload, 30*time.Second, "req-url")
	if err != nil {
		e.t.Fatalf("invoke: %v", err)
	}
	var res events.LambdaFunctionURLResponse
	if err := json.Unmarshal(out, &res); err != nil {
		e.t.Fatalf("response %s: %v", out, err)
	}
	return res
}

func TestLambdaFunctionURL(t *testing.T) {
	e := newEnv(t)
	res := e.invokeURL(readFixture(t, "function-url-add-task.json"))
	if res.StatusCode != http.StatusCreated || res.Headers["Content-Type"] != "application/json" {
		t.Fatalf("add_task through the Function URL: %d %v %s", res.StatusCode, res.Headers, res.Body)
	}
	if res.Headers["X-Request-Id"] != "req-url" {
		t.Errorf("X-Request-Id = %q, want the Lambda request id", res.Headers["X-Request-Id"])
	}
	runs := e.runs()
	if len(runs) != 1 || runs[0].Task != "send_email" || string(runs[0].Payload) != `{"to":"a@example.com"}` {
		t.Fatalf("runs = %+v, want the send_email run from the base64 body", runs)
	}

	res = e.invokeURL(readFixture(t, "function-url-get-runs.json"))
	var page struct {
		Runs []core.Run `json:"runs"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(res.Body), &page) != nil || len(page.Runs) != 1 {
		t.Fatalf("list runs through the Function URL: %d %s", res.StatusCode, res.Body)
	}
	if len(e.ticks()) != 0 {
		t.Fatal("a Function URL request ran a tick")
	}

	// The same bad-input rules apply: a malformed body is a 400, no write.
	var req events.LambdaFunctionURLRequest
	if err := json.Unmarshal(readFixture(t, "function-url-add-task.json"), &req); err != nil {
		t.Fatal(err)
	}
	req.Body = base64.StdEncoding.EncodeToString([]byte(`{"task":`))
	bad, _ := json.Marshal(req)
	if res := e.invokeURL(bad); res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Body, `"error"`) {
		t.Fatalf("malformed body through the Function URL: %d %s", res.StatusCode, res.Body)
	}
	// A wrong method gets the API's 405.
	req.RequestContext.HTTP.Method, req.Body = "DELETE", ""
	bad, _ = json.Marshal(req)
	if res := e.invokeURL(bad); res.StatusCode != http.StatusMethodNotAllowed || res.Headers["Allow"] == "" {
		t.Fatalf("DELETE through the Function URL: %d %v", res.StatusCode, res.Headers)
	}
	if n := len(e.runs()); n != 1 {
		t.Fatalf("bad Function URL requests wrote runs: %d", n)
	}
}

func TestLambdaFuncIsPlainFunc(t *testing.T) {
	e := newEnv(t)
	// The documented signature, for lambda.Start and callers that wrap it.
	var f func(context.Context, json.RawMessage) (any, error) = e.h.Lambda()
	got, err := f(t.Context(), json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.(core.Report); !ok {
		t.Fatalf("result %T, want core.Report", got)
	}
	var _ lambda.Handler = handler.LambdaFunc(nil)
}
