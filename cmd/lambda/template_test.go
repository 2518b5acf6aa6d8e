package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../.."

// cfnTemplate is template.yaml decoded into yaml.Nodes, so CloudFormation's
// short tags (!Ref, !GetAtt, !If, !Sub, …) survive as node tags.
type cfnTemplate struct {
	t    *testing.T
	root *yaml.Node
}

func loadTemplate(t *testing.T) *cfnTemplate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatalf("template.yaml is not one YAML mapping")
	}
	return &cfnTemplate{t: t, root: doc.Content[0]}
}

// lookup follows a path of mapping keys from n; nil when a key is missing.
func lookup(n *yaml.Node, path ...string) *yaml.Node {
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// get is lookup from the template root that fails the test when the path is
// missing.
func (c *cfnTemplate) get(path ...string) *yaml.Node {
	c.t.Helper()
	n := lookup(c.root, path...)
	if n == nil {
		c.t.Fatalf("template.yaml has no %s", strings.Join(path, "."))
	}
	return n
}

// keys returns the keys of a mapping node.
func keys(n *yaml.Node) []string {
	var out []string
	if n == nil || n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

// scalar returns a plain scalar's value, failing on a tagged node (an
// intrinsic function) or a collection.
func (c *cfnTemplate) scalar(path ...string) string {
	c.t.Helper()
	n := c.get(path...)
	if n.Kind != yaml.ScalarNode || strings.HasPrefix(n.Tag, "!") && n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!bool" {
		c.t.Fatalf("%s is not a plain scalar (kind %d, tag %s)", strings.Join(path, "."), n.Kind, n.Tag)
	}
	return n.Value
}

// getAtt returns the logical id of a !GetAtt X.Attr node with attribute attr.
func getAtt(n *yaml.Node, attr string) (string, bool) {
	if n == nil || n.Tag != "!GetAtt" || n.Kind != yaml.ScalarNode {
		return "", false
	}
	id, a, ok := strings.Cut(n.Value, ".")
	return id, ok && a == attr
}

func TestTemplateFunction(t *testing.T) {
	c := loadTemplate(t)
	if got := c.scalar("Transform"); got != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform = %q, want the SAM transform", got)
	}
	fn := []string{"Resources", "TickFunction"}
	props := append(slices.Clone(fn), "Properties")
	prop := func(path ...string) []string { return append(slices.Clone(props), path...) }

	if got := c.scalar(append(slices.Clone(fn), "Type")...); got != "AWS::Serverless::Function" {
		t.Errorf("TickFunction type = %q", got)
	}
	if got := c.scalar(append(slices.Clone(fn), "Metadata", "BuildMethod")...); got != "go1.x" {
		t.Errorf("BuildMethod = %q, want go1.x", got)
	}
	for path, want := range map[string]string{"Runtime": "provided.al2023", "Handler": "bootstrap"} {
		if got := c.scalar(prop(path)...); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	arch := c.get(prop("Architectures")...)
	if arch.Kind != yaml.SequenceNode || len(arch.Content) != 1 || arch.Content[0].Value != "arm64" {
		t.Errorf("Architectures must be [arm64]")
	}
	// CodeUri is this package: the directory holding package main.
	codeURI := c.scalar(prop("CodeUri")...)
	if abs1, _ := filepath.Abs(filepath.Join(repoRoot, codeURI)); abs1 != mustAbs(t, ".") {
		t.Errorf("CodeUri %q is not cmd/lambda", codeURI)
	}
	if got := c.scalar(prop("LoggingConfig", "LogFormat")...); got != "JSON" {
		t.Errorf("LogFormat = %q, want JSON", got)
	}

	timeout, err := strconv.Atoi(c.scalar(prop("Timeout")...))
	if err != nil {
		t.Fatalf("Timeout: %v", err)
	}
	period := ratePeriod(t, c.scalar(prop("Events", "Tick", "Properties", "ScheduleExpression")...))
	if period != time.Minute {
		t.Errorf("tick period = %s, want rate(1 minute)", period)
	}
	if d := time.Duration(timeout) * time.Second; d >= period || d >= time.Minute {
		t.Errorf("Timeout %s must be under the tick period %s and 60 s", d, period)
	}

	env := prop("Environment", "Variables")
	for _, name := range []string{"DATABASE_URL", "TICKFLOW_MIGRATE", "TICKFLOW_TOKEN", "LOG_LEVEL"} {
		c.get(append(slices.Clone(env), name)...)
	}
	if got := c.scalar(append(slices.Clone(env), "TICKFLOW_TICK_PERIOD")...); mustDuration(t, got) != period {
		t.Errorf("TICKFLOW_TICK_PERIOD %s differs from the schedule's period %s", got, period)
	}
	dbURL := c.get(append(slices.Clone(env), "DATABASE_URL")...)
	if dbURL.Tag != "!If" || len(dbURL.Content) != 3 || dbURL.Content[2].Tag != "!Ref" || dbURL.Content[2].Value != "DatabaseUrl" ||
		!strings.Contains(dbURL.Content[1].Value, "{{resolve:secretsmanager:${DatabaseSecretArn}}}") {
		t.Errorf("DATABASE_URL must be the secret when DatabaseSecretArn is set, else !Ref DatabaseUrl")
	}
	for _, name := range []string{"DatabaseUrl", "TickflowToken", "AlertWebhookUrl", "AlertWebhookSecret"} {
		if got := c.scalar("Parameters", name, "NoEcho"); got != "true" {
			t.Errorf("parameter %s NoEcho = %q, want true", name, got)
		}
	}

	// Optional VPC: the whole VpcConfig is conditional on SubnetIds.
	vpc := c.get(prop("VpcConfig")...)
	if vpc.Tag != "!If" || len(vpc.Content) != 3 || vpc.Content[0].Value != "UseVpc" ||
		lookup(vpc.Content[1], "SubnetIds") == nil || lookup(vpc.Content[1], "SecurityGroupIds") == nil ||
		vpc.Content[2].Tag != "!Ref" || vpc.Content[2].Value != "AWS::NoValue" {
		t.Errorf("VpcConfig must be !If [UseVpc, {SubnetIds, SecurityGroupIds}, !Ref AWS::NoValue]")
	}

	// Failed asynchronous ticks are not retried by Lambda and go to the DLQ.
	if got := c.scalar(prop("EventInvokeConfig", "MaximumRetryAttempts")...); got != "0" {
		t.Errorf("EventInvokeConfig.MaximumRetryAttempts = %s, want 0", got)
	}
	if id, ok := getAtt(c.get(prop("EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination")...), "Arn"); !ok || c.scalar("Resources", id, "Type") != "AWS::SQS::Queue" {
		t.Errorf("EventInvokeConfig OnFailure must be an SQS queue of the template")
	}
}

func TestTemplateSchedule(t *testing.T) {
	c := loadTemplate(t)
	events := c.get("Resources", "TickFunction", "Properties", "Events")
	var schedules []string
	for _, name := range keys(events) {
		if lookup(events, name, "Type").Value == "ScheduleV2" {
			schedules = append(schedules, name)
		}
	}
	if len(schedules) != 1 || schedules[0] != "Tick" {
		t.Fatalf("want exactly one ScheduleV2 event named Tick, got %v", schedules)
	}
	p := []string{"Resources", "TickFunction", "Properties", "Events", "Tick", "Properties"}
	at := func(path ...string) []string { return append(slices.Clone(p), path...) }
	if got := c.scalar(at("ScheduleExpression")...); got != "rate(1 minute)" {
		t.Errorf("ScheduleExpression = %q", got)
	}
	retries, err := strconv.Atoi(c.scalar(at("RetryPolicy", "MaximumRetryAttempts")...))
	if err != nil || retries < 0 || retries > 1 {
		t.Errorf("RetryPolicy.MaximumRetryAttempts = %d (%v), want 0 or 1", retries, err)
	}
	dlq, ok := getAtt(c.get(at("DeadLetterConfig", "Arn")...), "Arn")
	if !ok {
		t.Fatalf("DeadLetterConfig.Arn must be !GetAtt <queue>.Arn")
	}
	if got := c.scalar("Resources", dlq, "Type"); got != "AWS::SQS::Queue" {
		t.Errorf("dead-letter queue %s has type %q", dlq, got)
	}
	if got := c.scalar(at("OmitName")...); got != "true" {
		t.Errorf("OmitName = %q, want true (stacks deployed twice must not clash)", got)
	}

	// The Input the schedule sends has the shape of events/scheduler-input.json.
	var input, fixture map[string]any
	if err := json.Unmarshal([]byte(c.scalar(at("Input")...)), &input); err != nil {
		t.Fatalf("Input is not a JSON object: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "events", "scheduler-input.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fixture); err != nil {
		t.Fatalf("events/scheduler-input.json: %v", err)
	}
	if a, b := slices.Sorted(maps.Keys(input)), slices.Sorted(maps.Keys(fixture)); !slices.Equal(a, b) {
		t.Errorf("template Input keys %v differ from events/scheduler-input.json keys %v", a, b)
	}
}

func TestTemplateFunctionURL(t *testing.T) {
	c := loadTemplate(t)
	var urls []string
	for _, id := range keys(c.get("Resources")) {
		if c.scalar("Resources", id, "Type") == "AWS::Lambda::Url" {
			urls = append(urls, id)
		}
	}
	if len(urls) != 1 {
		t.Fatalf("want one AWS::Lambda::Url, got %v", urls)
	}
	id := urls[0]
	if got := c.scalar("Resources", id, "Properties", "AuthType"); got != "AWS_IAM" {
		t.Errorf("Function URL AuthType = %q, want AWS_IAM", got)
	}
	cond := c.scalar("Resources", id, "Condition")
	c.get("Conditions", cond)
	if target, ok := getAtt(c.get("Resources", id, "Properties", "TargetFunctionArn"), "Arn"); !ok || target != "TickFunction" {
		t.Errorf("Function URL must target TickFunction")
	}
	if got := c.scalar("Outputs", id, "Condition"); got != cond {
		t.Errorf("output %s has condition %q, want %q", id, got, cond)
	}
}

func TestTemplateOutputs(t *testing.T) {
	c := loadTemplate(t)
	want := map[string]string{ // output -> the !GetAtt / !Ref target
		"TickFunctionArn":        "TickFunction",
		"TickScheduleArn":        "TickFunctionTick", // SAM names the schedule <function><event>
		"TickDeadLetterQueueArn": "TickDeadLetterQueue",
		"TickDeadLetterQueueUrl": "TickDeadLetterQueue",
		"TickFunctionUrl":        "TickFunctionUrl",
	}
	for name, target := range want {
		v := c.get("Outputs", name, "Value")
		id, _, _ := strings.Cut(v.Value, ".")
		if (v.Tag != "!GetAtt" && v.Tag != "!Ref") || id != target {
			t.Errorf("output %s = %s %s, want a reference to %s", name, v.Tag, v.Value, target)
		}
	}
}

// TestTemplateReferences checks that every !Ref, !GetAtt, !Sub variable and
// condition name points at something the template (or SAM) defines.
func TestTemplateReferences(t *testing.T) {
	c := loadTemplate(t)
	defined := map[string]bool{
		"AWS::NoValue": true, "AWS::Region": true, "AWS::AccountId": true, "AWS::Partition": true,
		"AWS::StackName": true, "AWS::StackId": true, "AWS::URLSuffix": true,
		"TickFunctionTick": true, // generated by SAM from the Tick event
	}
	for _, section := range []string{"Parameters", "Resources"} {
		for _, k := range keys(c.get(section)) {
			defined[k] = true
		}
	}
	conditions := map[string]bool{}
	for _, k := range keys(c.get("Conditions")) {
		conditions[k] = true
	}
	subVar := regexp.MustCompile(`\$\{([A-Za-z0-9:]+)(\.[A-Za-z]+)?\}`)
	var walk func(n *yaml.Node, parentKey string)
	walk = func(n *yaml.Node, parentKey string) {
		switch n.Tag {
		case "!Ref":
			if !defined[n.Value] {
				t.Errorf("!Ref %s: not defined", n.Value)
			}
		case "!GetAtt":
			if id, _, _ := strings.Cut(n.Value, "."); !defined[id] {
				t.Errorf("!GetAtt %s: not defined", n.Value)
			}
		case "!Sub":
			for _, m := range subVar.FindAllStringSubmatch(n.Value, -1) {
				if !defined[m[1]] {
					t.Errorf("!Sub ${%s}: not defined", m[1])
				}
			}
		case "!If":
			if len(n.Content) != 3 || !conditions[n.Content[0].Value] {
				t.Errorf("!If at line %d: want [condition, then, else] with a declared condition", n.Line)
			}
		}
		if parentKey == "Condition" && n.Kind == yaml.ScalarNode && !conditions[n.Value] {
			t.Errorf("Condition %s at line %d is not declared", n.Value, n.Line)
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], n.Content[i].Value)
			}
			return
		}
		for _, child := range n.Content {
			walk(child, "")
		}
	}
	walk(c.root, "")
}

// ratePeriod parses an EventBridge rate expression such as "rate(1 minute)".
func ratePeriod(t *testing.T, expr string) time.Duration {
	t.Helper()
	m := regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`).FindStringSubmatch(expr)
	if m == nil {
		t.Fatalf("%q is not a rate expression", expr)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
	return time.Duration(n) * unit
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("parse duration %q: %v", s, err)
	}
	return d
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
