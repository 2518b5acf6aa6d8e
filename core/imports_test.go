package core_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreImportsNoAdapter enforces the architecture: core depends on the
// standard library and gorhill/cronexpr only.
func TestCoreImportsNoAdapter(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/tickflow/tickflow/core": true,
		"github.com/gorhill/cronexpr":       true,
	}
	var deps []string
	for _, p := range strings.Fields(string(out)) {
		deps = append(deps, p)
		if !allowed[p] {
			t.Errorf("core depends on %s; core may import only the standard library and github.com/gorhill/cronexpr", p)
		}
	}
	if len(deps) == 0 {
		t.Fatal("go list printed no packages; the check would pass vacuously")
	}
}
