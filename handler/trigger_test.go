package handler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/handler"
)

func TestDecodeTriggerFixtures(t *testing.T) {
	for fixture, want := range map[string]handler.Trigger{
		"eventbridge-rule.json": {
			Kind: handler.KindEventBridgeRule, ID: "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c",
			Source: "aws.events", DetailType: "Scheduled Event", Account: "123456789012", Region: "us-east-1",
			Time: time.Unix(0, 0).UTC(), Resources: []string{"arn:aws:events:us-east-1:123456789012:rule/ExampleRule"},
			Detail: []byte("{}"),
		},
		"scheduler-envelope.json": {
			Kind: handler.KindScheduler, ID: "8a6c2b1e-4f0d-4b5e-9a43-1f2e3d4c5b6a",
			Source: "aws.scheduler", DetailType: "Scheduled Event", Account: "123456789012", Region: "us-east-1",
			Time:      time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC),
			Resources: []string{"arn:aws:scheduler:us-east-1:123456789012:schedule/default/tickflow-tick"},
			Detail:    []byte("{}"),
		},
		"scheduler-input.json": {Kind: handler.KindSchedulerInput, Input: []byte(`{"tick": true}`)},
		"empty.json":           {Kind: handler.KindEmpty},
		"null.json":            {Kind: handler.KindEmpty},
		"empty-object.json":    {Kind: handler.KindEmpty},
	} {
		got, err := handler.DecodeTrigger(readFixture(t, fixture))
		if err != nil {
			t.Errorf("%s: %v", fixture, err)
			continue
		}
		if !sameTrigger(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", fixture, got, want)
		}
	}

	got, err := handler.DecodeTrigger(readFixture(t, "function-url-get-runs.json"))
	if err != nil || got.Kind != handler.KindFunctionURL || got.Request == nil ||
		got.Request.RawPath != "/api/runs" || got.Request.RequestContext.HTTP.Method != "GET" {
		t.Fatalf("function URL fixture: %+v, %v", got, err)
	}
}

// TestDecodeTriggerRejectsOtherEvents: the events of a wrongly wired source
// fail with an error that says what arrived, and never tick.
func TestDecodeTriggerRejectsOtherEvents(t *testing.T) {
	for fixture, want := range map[string]string{
		"sqs-event.json":      `"Records": […]} event from "aws:sqs"`,
		"s3-event.json":       `"Records": […]} event from "aws:s3"`,
		"sns-event.json":      `"Records": […]} event from "aws:sns"`,
		"unknown-object.json": `fields "action", "when" is no known trigger`,
	} {
		got, err := handler.DecodeTrigger(readFixture(t, fixture))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: DecodeTrigger = %+v, %v; want an error mentioning %s", fixture, got, err, want)
		}
	}
}

func sameTrigger(a, b handler.Trigger) bool {
	return a.Kind == b.Kind && a.ID == b.ID && a.Source == b.Source && a.DetailType == b.DetailType &&
		a.Account == b.Account && a.Region == b.Region && a.Time.Equal(b.Time) &&
		strings.Join(a.Resources, ",") == strings.Join(b.Resources, ",") &&
		string(a.Detail) == string(b.Detail) && string(a.Input) == string(b.Input) && a.Request == nil && b.Request == nil
}

func TestDecodeTrigger(t *testing.T) {
	for _, c := range []struct {
		name, payload, kind, err string
	}{
		{"whitespace only", " \n\t", handler.KindEmpty, ""},
		{"null with spaces", "  null ", handler.KindEmpty, ""},
		{"scheduler detail with spaces", `{"source":"aws.scheduler","detail-type":"Scheduled Event","detail":" { } "}`, handler.KindScheduler, ""},
		{"scheduler detail empty string", `{"source":"aws.scheduler","detail-type":"Scheduled Event","detail":""}`, handler.KindScheduler, ""},
		{"string detail from another source", `{"source":"custom","detail-type":"Scheduled Event","detail":"{\"a\":1}"}`, handler.KindScheduler, ""},
		{"rule without detail", `{"source":"aws.events","detail-type":"Scheduled Event"}`, handler.KindEventBridgeRule, ""},
		{"bad time is ignored", `{"source":"aws.events","detail-type":"Scheduled Event","time":"yesterday","detail":{}}`, handler.KindEventBridgeRule, ""},
		{"input with a source field", `{"source":"cron-job"}`, handler.KindSchedulerInput, ""},
		{"nested input", `{"tick":{"reason":"manual"}}`, handler.KindSchedulerInput, ""},
		{"http api 2.0 without rawPath", `{"version":"2.0","requestContext":{"http":{"method":"GET"}}}`, handler.KindFunctionURL, ""},

		{"malformed", `{"tick":`, "", "malformed payload"},
		{"array", `[]`, "", "JSON object"},
		{"number", `42`, "", "JSON object"},
		{"string", `"{}"`, "", "JSON object"},
		{"truncated literal", `nul`, "", "JSON object"},
		{"other detail-type", `{"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","detail":{}}`, "", "detail-type"},
		{"detail-type wrong type", `{"detail-type":1,"detail":{}}`, "", "malformed EventBridge envelope"},
		{"string detail not JSON", `{"source":"aws.scheduler","detail-type":"Scheduled Event","detail":"not json"}`, "", "does not hold JSON"},
		{"api gateway rest", `{"httpMethod":"GET","path":"/","requestContext":{}}`, "", "payload format 1.0"},
		{"requestContext alone", `{"requestContext":{}}`, "", "requestContext"},
		{"function url without method", `{"version":"2.0","rawPath":"/","requestContext":{"http":{}}}`, "", "method"},
		{"input with tick and more", `{"tick":true,"schedule_arn":"arn:x","attempt_number":"1"}`, handler.KindSchedulerInput, ""},
		{"records without a source", `{"Records":[]}`, "", "from an AWS service"},
		{"records with a tick", `{"Records":[{"eventSource":"aws:kinesis"}],"tick":true}`, "", `"aws:kinesis"`},
		{"cloudwatch logs", `{"awslogs":{"data":"H4sI"}}`, "", "CloudWatch Logs"},
		{"unknown fields", `{"foo":1}`, "", `fields "foo"`},
		{"many unknown fields", `{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1}`, "", "and 2 more"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := handler.DecodeTrigger([]byte(c.payload))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("DecodeTrigger(%s) = %+v, %v; want an error mentioning %q", c.payload, got, err, c.err)
				}
				return
			}
			if err != nil || got.Kind != c.kind {
				t.Fatalf("DecodeTrigger(%s) = %+v, %v; want kind %s", c.payload, got, err, c.kind)
			}
		})
	}
}
