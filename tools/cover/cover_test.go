package main

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `package sample

import "fmt"

type flag bool

const both = true && false

func Classify(n int, s string, f flag, v any) string {
	const local = true || false
	out := ""
	if n > 0 && (s == "a" || s == "b") {
		out += "pos-ab "
	}
	for i := 0; i < n; i++ {
		out += "."
	}
	if f {
		out += "f"
	}
	switch s {
	case "a", "b":
		out += "A"
	case "c":
		out += "C"
	}
	switch x := v.(type) {
	case int:
		out += fmt.Sprint(x)
	default:
		out += "?"
	}
	switch {
	case n < 0:
		out += "neg"
	}
	ok := n == 2 || s == "z"
	_ = ok
	return out
}
`

func TestInstrumentFile(t *testing.T) {
	t.Parallel()
	next := 0
	out, sites, err := instrumentFile("sample/sample.go", []byte(sample), &next)
	require.NoError(t, err)
	_, err = parser.ParseFile(token.NewFileSet(), "out.go", out, 0)
	require.NoError(t, err, "the instrumented file parses:\n%s", out)

	got := string(out)
	// The condition and each operand of && and || are wrapped, nested in order.
	assert.Contains(t, got, `if _rwbc1(_rwbc2(n > 0) && (_rwbc3(s == "a") || _rwbc4(s == "b"))) {`)
	assert.Contains(t, got, `for i := 0; _rwbc5(i < n); i++ {`)
	assert.Contains(t, got, `if _rwbc6(f) {`, "a named bool type is wrapped too (the helpers are generic)")
	// Each clause runs a helper; a switch without default gets one that does nothing else.
	assert.Contains(t, got, `case "a", "b": _rwbc7();`)
	assert.Contains(t, got, `default: _rwbc9(); }`)
	assert.Contains(t, got, `default: _rwbc11();`)
	// A switch without tag has conditions, not clauses; an expression that is not a
	// condition has its operands wrapped.
	assert.Contains(t, got, `case _rwbc12(n < 0):`)
	assert.Contains(t, got, `ok := _rwbc13(n == 2) || _rwbc14(s == "z")`)
	// Constants cannot call functions: they are left alone.
	assert.Contains(t, got, "const both = true && false")
	assert.Contains(t, got, "const local = true || false")
	// Lines stay where they were.
	assert.Equal(t, strings.Count(sample, "\n"), strings.Count(got, "\n"))

	require.Len(t, sites, 14)
	assert.Equal(t, 14, next)
	assert.Equal(t, site{id: 1, file: "sample/sample.go", line: 12, col: 5,
		text: `n > 0 && (s == "a" || s == "b")`}, sites[0])
	assert.Equal(t, site{id: 9, file: "sample/sample.go", line: 21, col: 2, clause: true,
		text: "default (none written)"}, sites[8])
	assert.Equal(t, "case int", sites[9].text)
}

func TestInstrumentFileSyntaxError(t *testing.T) {
	t.Parallel()
	next := 0
	_, _, err := instrumentFile("bad.go", []byte("package x\nfunc {"), &next)
	require.Error(t, err)
}

// TestBranchesEndToEnd instruments a package, runs its test under coverage with
// the go command, and checks which outcomes the tally reports as never taken.
func TestBranchesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a test binary")
	}
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	write("go.mod", "module example.com/m\n\ngo 1.26\n")
	write("sample/sample.go", sample)
	write("sample/sample_test.go", `package sample

import "testing"

func TestClassify(t *testing.T) {
	if got := Classify(1, "a", false, 3); got != "pos-ab .A3" {
		t.Fatalf("got %q", got)
	}
	if got := Classify(0, "z", true, nil); got != "f?" {
		t.Fatalf("got %q", got)
	}
}
`)
	sites, err := instrumentPackage(dir, "sample")
	require.NoError(t, err)
	require.Len(t, sites, 14)
	profilePath := filepath.Join(dir, "branches.out")
	cmd := exec.Command("go", "test", "-count=1", "-vet=off", "-coverprofile="+profilePath, "./sample")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	p, err := readProfile(profilePath)
	require.NoError(t, err)

	var report strings.Builder
	tally, err := tallyBranches(p, "example.com/m/sample", sites, &report)
	require.NoError(t, err)
	assert.Equal(t, strings.Join([]string{
		`sample/sample.go:12:15: s == "a" never false`,
		`sample/sample.go:12:27: s == "b" never true`,
		`sample/sample.go:12:27: s == "b" never false`,
		`sample/sample.go:24:2: case "c" never ran`,
		`sample/sample.go:34:7: n < 0 never true`,
		`sample/sample.go:37:8: n == 2 never true`,
		"",
	}, "\n"), report.String())
	// 9 conditions with two outcomes each and 5 clauses (two written and one implicit in
	// the tag switch, two in the type switch): 23 outcomes, of which 6 were missed.
	assert.Equal(t, 23, tally.total)
	assert.Equal(t, 17, tally.covered)
}

func TestParseProfileMergesRuns(t *testing.T) {
	t.Parallel()
	p, err := parseProfile(strings.NewReader(`mode: set
example.com/m/a/a.go:3.10,5.2 2 0
example.com/m/a/a.go:6.2,6.9 1 1
example.com/m/b/b.go:3.10,4.2 3 0
mode: set
example.com/m/a/a.go:3.10,5.2 2 1
example.com/m/a/a.go:6.2,6.9 1 0
`))
	require.NoError(t, err)
	require.Len(t, p["example.com/m/a/a.go"], 2)
	covered, found := p.coveredAt("example.com/m/a/a.go", 4)
	assert.True(t, found)
	assert.True(t, covered, "covered by the second binary's run")
	covered, _ = p.coveredAt("example.com/m/a/a.go", 6)
	assert.True(t, covered, "covered by the first binary's run")
	_, found = p.coveredAt("example.com/m/a/a.go", 9)
	assert.False(t, found)

	byModule := statementsByModule(p, []string{"example.com/m", "example.com/m/b"})
	assert.Equal(t, tally{covered: 3, total: 3}, byModule["example.com/m"])
	assert.Equal(t, tally{covered: 0, total: 3}, byModule["example.com/m/b"])
	assert.Equal(t, "0.0%", formatPercent(byModule["example.com/m/b"].percent()))

	_, err = parseProfile(strings.NewReader("mode: set\nnonsense\n"))
	require.ErrorContains(t, err, "profile line 2")
	_, err = parseProfile(strings.NewReader("mode: set\na.go:1.1,2.2 x 1\n"))
	require.ErrorContains(t, err, "profile line 2")
}

func TestModuleOf(t *testing.T) {
	t.Parallel()
	mods := []string{"github.com/r/r/core", "github.com/r/r/backends/redisstore", "github.com/r/r/backends/redisstore/v2x"}
	assert.Equal(t, "github.com/r/r/core", moduleOf("github.com/r/r/core/rate", mods))
	assert.Equal(t, "github.com/r/r/core", moduleOf("github.com/r/r/core", mods))
	assert.Equal(t, "github.com/r/r/backends/redisstore", moduleOf("github.com/r/r/backends/redisstore/redistest", mods))
	assert.Equal(t, "", moduleOf("github.com/r/r/corex", mods), "a module is a path prefix at a slash")
}

func TestEmptyTallyIsNotAFailure(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 100.0, tally{}.percent())
	assert.Equal(t, 50.0, tally{covered: 1, total: 2}.percent())
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	require.ErrorContains(t, run(nil, &out), "usage: cover statements|branches")
	require.ErrorContains(t, run([]string{"lines", "-out", t.TempDir()}, &out), `unknown command "lines"`)
	require.Error(t, run([]string{"statements", "-min", "x"}, &out))
}

func TestFailures(t *testing.T) {
	t.Parallel()
	out := `=== RUN   TestA
2026/11/30 14:58:06 WARN redis_circuit_breaker from=closed to=open
--- FAIL: TestA (0.00s)
    --- FAIL: TestA/local (0.72s)
        a_test.go:116: 
            	Error Trace:	/x/a_test.go:116
            	Error:      	"2" is not greater than or equal to "3"
            	Messages:   	failures before the breaker opened
FAIL
FAIL	example.com/m/a	20.955s
ok  	example.com/m/b	0.1s
`
	assert.Equal(t, `--- FAIL: TestA (0.00s)
    --- FAIL: TestA/local (0.72s)
        a_test.go:116: 
            	Error Trace:	/x/a_test.go:116
            	Error:      	"2" is not greater than or equal to "3"
            	Messages:   	failures before the breaker opened
FAIL
FAIL	example.com/m/a	20.955s
`, failures(out))
	build := "# example.com/m/a\na/a.go:3:1: syntax error\n"
	assert.Equal(t, build, failures(build), "a build error is shown whole")
}
