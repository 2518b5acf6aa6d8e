package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The kinds of Lambda payload DecodeTrigger recognizes.
const (
	// KindEventBridgeRule: an EventBridge (CloudWatch Events) rule with a
	// schedule expression; "source" is "aws.events", "detail" an object.
	KindEventBridgeRule = "eventbridge-rule"
	// KindScheduler: an EventBridge Scheduler schedule without Input; the
	// envelope's "detail" is a JSON string ("{}").
	KindScheduler = "scheduler"
	// KindSchedulerInput: a JSON object of our own with a "tick" or a
	// "source" field, such as a Scheduler schedule's Input ({"tick": true,
	// …}, template.yaml's) or a manual `aws lambda invoke` of
	// {"source": "ops"}.
	KindSchedulerInput = "scheduler-input"
	// KindEmpty: no payload, null or {}.
	KindEmpty = "empty"
	// KindFunctionURL: a Lambda Function URL (payload format 2.0) request,
	// served by the HTTP API rather than running a tick.
	KindFunctionURL = "function-url"
)

// Trigger is a decoded Lambda payload: what invoked the function. Every
// kind but KindFunctionURL runs one tick; the fields only inform logs.
type Trigger struct {
	// Kind is one of the Kind… constants.
	Kind string
	// ID, Source, DetailType, Account, Region, Time and Resources are the
	// EventBridge envelope's fields (rule and scheduler kinds). Time is zero
	// when absent or not RFC 3339.
	ID         string
	Source     string
	DetailType string
	Account    string
	Region     string
	Time       time.Time
	Resources  []string
	// Detail is the envelope's detail as JSON: the object of a rule, the
	// decoded string of a Scheduler envelope.
	Detail json.RawMessage
	// Input is the payload of KindSchedulerInput, as given.
	Input json.RawMessage
	// Request is the Function URL request (KindFunctionURL only).
	Request *events.LambdaFunctionURLRequest
}

// scheduledEvent is the only EventBridge detail-type that runs a tick.
const scheduledEvent = "Scheduled Event"

// inputMarkers are the fields of which a KindSchedulerInput object has at
// least one: "tick" (template.yaml's Input) or "source" (naming the caller).
var inputMarkers = []string{"tick", "source"}

// DecodeTrigger classifies a Lambda payload. It is pure and accepts:
//
//   - nothing, null or {} (KindEmpty);
//   - an EventBridge envelope whose detail-type is "Scheduled Event", with
//     detail an object (KindEventBridgeRule, or KindScheduler when source is
//     "aws.scheduler") or a JSON string (KindScheduler);
//   - a Function URL / HTTP API 2.0 request: requestContext.http and rawPath
//     or version "2.0" (KindFunctionURL);
//   - an object with a "tick" or a "source" field, such as a Scheduler
//     schedule's Input (KindSchedulerInput).
//
// It rejects everything else, so that a wrongly wired event source fails
// loudly instead of ticking: malformed JSON, JSON that is not an object,
// EventBridge events of another detail-type, API Gateway REST (1.0)
// requests, events of other AWS services (SQS, SNS, S3, DynamoDB, Kinesis…
// deliver {"Records": […]}; CloudWatch Logs {"awslogs": …}), and any other
// object, its fields named in the error.
func DecodeTrigger(payload []byte) (Trigger, error) {
	b := bytes.TrimSpace(payload)
	if len(b) == 0 || string(b) == "null" {
		return Trigger{Kind: KindEmpty}, nil
	}
	if b[0] != '{' {
		return Trigger{}, errors.New("unsupported payload: expected a JSON object, null or nothing")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return Trigger{}, fmt.Errorf("malformed payload: %w", err)
	}
	if len(fields) == 0 {
		return Trigger{Kind: KindEmpty}, nil
	}
	if rc, ok := fields["requestContext"]; ok {
		return decodeHTTPEvent(b, fields, rc)
	}
	_, hasDetailType := fields["detail-type"]
	_, hasSource := fields["source"]
	_, hasDetail := fields["detail"]
	if hasDetailType || (hasSource && hasDetail) {
		return decodeEnvelope(b)
	}
	if err := foreignEvent(fields); err != nil {
		return Trigger{}, err
	}
	for _, k := range inputMarkers {
		if _, ok := fields[k]; ok {
			return Trigger{Kind: KindSchedulerInput, Input: json.RawMessage(b)}, nil
		}
	}
	return Trigger{}, fmt.Errorf("unsupported payload: an object with fields %s is no known trigger; "+
		`a tick takes an EventBridge Scheduler or rule event, nothing, {}, or an Input with a "tick" field such as {"tick": true}`,
		fieldNames(fields))
}

// foreignEvent returns an error naming the AWS service whose event fields
// is, or nil when it is none that DecodeTrigger knows.
func foreignEvent(fields map[string]json.RawMessage) error {
	if raw, ok := fields["Records"]; ok {
		// SQS, S3, DynamoDB and Kinesis say eventSource; SNS EventSource.
		var records []struct {
			EventSource    string `json:"eventSource"`
			EventSourceSNS string `json:"EventSource"`
		}
		src := "an AWS service"
		if json.Unmarshal(raw, &records) == nil && len(records) > 0 {
			switch {
			case records[0].EventSource != "":
				src = fmt.Sprintf("%q", records[0].EventSource)
			case records[0].EventSourceSNS != "":
				src = fmt.Sprintf("%q", records[0].EventSourceSNS)
			}
		}
		return fmt.Errorf("unsupported payload: a {\"Records\": […]} event from %s (an SQS, SNS, S3, DynamoDB or Kinesis trigger) does not run a tick; "+
			"invoke the function with EventBridge Scheduler or an EventBridge rule", src)
	}
	if _, ok := fields["awslogs"]; ok {
		return errors.New("unsupported payload: a CloudWatch Logs subscription event does not run a tick")
	}
	return nil
}

// fieldNames lists an object's field names, sorted and quoted, at most 10.
func fieldNames(fields map[string]json.RawMessage) string {
	names := slices.Sorted(maps.Keys(fields))
	more := ""
	if len(names) > 10 {
		names, more = names[:10], fmt.Sprintf(" and %d more", len(names)-10)
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(n)
	}
	return strings.Join(quoted, ", ") + more
}

func decodeHTTPEvent(b []byte, fields map[string]json.RawMessage, rc json.RawMessage) (Trigger, error) {
	var probe struct {
		HTTP *struct {
			Method string `json:"method"`
		} `json:"http"`
	}
	_ = json.Unmarshal(rc, &probe) // a non-object requestContext fails below
	var version string
	_ = json.Unmarshal(fields["version"], &version)
	_, hasRawPath := fields["rawPath"]
	if probe.HTTP != nil && (hasRawPath || version == "2.0") {
		var req events.LambdaFunctionURLRequest
		if err := json.Unmarshal(b, &req); err != nil {
			return Trigger{}, fmt.Errorf("malformed Function URL request: %w", err)
		}
		if req.RequestContext.HTTP.Method == "" {
			return Trigger{}, errors.New("malformed Function URL request: requestContext.http.method is empty")
		}
		return Trigger{Kind: KindFunctionURL, Request: &req}, nil
	}
	if _, ok := fields["httpMethod"]; ok {
		return Trigger{}, errors.New("unsupported payload: API Gateway REST (payload format 1.0) requests are not served; use a Function URL or an HTTP API with payload format 2.0")
	}
	return Trigger{}, errors.New("unsupported payload: a requestContext without http method and rawPath")
}

func decodeEnvelope(b []byte) (Trigger, error) {
	var env struct {
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Account    string          `json:"account"`
		Time       string          `json:"time"`
		Region     string          `json:"region"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return Trigger{}, fmt.Errorf("malformed EventBridge envelope: %w", err)
	}
	if env.DetailType != scheduledEvent {
		return Trigger{}, fmt.Errorf("unsupported EventBridge event: detail-type %q from source %q; only %q triggers a tick", env.DetailType, env.Source, scheduledEvent)
	}
	t := Trigger{
		Kind: KindEventBridgeRule, ID: env.ID, Source: env.Source, DetailType: env.DetailType,
		Account: env.Account, Region: env.Region, Resources: env.Resources, Detail: env.Detail,
	}
	if ts, err := time.Parse(time.RFC3339, env.Time); err == nil {
		t.Time = ts.UTC()
	}
	if env.Source == "aws.scheduler" {
		t.Kind = KindScheduler
	}
	if d := bytes.TrimSpace(env.Detail); len(d) > 0 && d[0] == '"' {
		// EventBridge Scheduler sends detail as a string holding JSON.
		var s string
		if err := json.Unmarshal(d, &s); err != nil {
			return Trigger{}, fmt.Errorf("malformed EventBridge envelope detail: %w", err)
		}
		inner := bytes.TrimSpace([]byte(s))
		if len(inner) == 0 {
			inner = []byte("{}")
		}
		if !json.Valid(inner) {
			return Trigger{}, errors.New("malformed EventBridge envelope: detail is a string that does not hold JSON")
		}
		t.Kind, t.Detail = KindScheduler, json.RawMessage(inner)
	}
	return t, nil
}
