package core_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreImportsNoAdapter enforces the architecture: core depends on the
// standard library and gorhill/cronexpr only, and its sub-packages (the store
// conformance suite) on core and the standard library, so any store package
// can run them without pulling in another adapter. core itself never imports
// a sub-package: none is on its allowed list.
func TestCoreImportsNoAdapter(t *testing.T) {
	const (
		core    = "github.com/tickflow/tickflow/core"
		cronexp = "github.com/gorhill/cronexpr"
	)
	tests := []struct {
		pkg     string
		allowed []string
	}{
		{".", []string{core, cronexp}},
		{"./storetest", []string{core, core + "/storetest", cronexp}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", tt.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			allowed := map[string]bool{}
			for _, p := range tt.allowed {
				allowed[p] = true
			}
			var deps []string
			for _, p := range strings.Fields(string(out)) {
				deps = append(deps, p)
				if !allowed[p] {
					t.Errorf("%s depends on %s; it may import only the standard library and %s", tt.pkg, p, strings.Join(tt.allowed, ", "))
				}
			}
			if len(deps) == 0 {
				t.Fatal("go list printed no packages; the check would pass vacuously")
			}
		})
	}
}
