package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
)

// docsFile is the command's documentation, relative to the repository root; its examples
// run against docsConfig.
const (
	docsFile   = "docs/cli.md"
	docsConfig = "docs/examples/cli.toml"
)

// docsTraffic is the traffic docs/cli.md says came before its status examples, decided
// by an application limiter of docsConfig on the same Redis.
var docsTraffic = []struct {
	n              int
	method, target string
	ip             string
}{
	{3, "GET", "/api/v1/test", "203.0.113.7"},
	{11, "POST", "/api/v1/compute", "203.0.113.7"},
}

// update rewrites the outputs of docs/cli.md with what the commands print:
// go test -run '^TestDocs$' ./cmd/ratewarden -update
var update = flag.Bool("update", false, "rewrite the outputs shown in "+docsFile)

// example is a command of docs/cli.md and the output shown under it.
type example struct {
	line     int
	command  string
	output   string
	from, to int // the output's lines: lines[from:to]
}

// TestDocs runs every ```sh block of docs/cli.md that starts with "ratewarden " — one
// command, which may be preceded by NAME=value environment variables — as a process, from the repository root, with redis.addrs pointing at a real
// redis-server, and checks that it prints the ```text block right under it: stdout, then
// stderr, then "exit status N" when N is not 0. Times (RFC 3339, and the "reset" of
// status JSON) are compared as placeholders. make docs-check runs it.
func TestDocs(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	text, err := os.ReadFile(filepath.Join(root, docsFile))
	require.NoError(t, err)
	lines := strings.Split(string(text), "\n")
	examples := docsExamples(t, lines)
	require.NotEmpty(t, examples, "%s has no ratewarden examples", docsFile)

	srv := redistest.StartServer(t)
	environ := []string{"RATELIMIT_REDIS_ADDRS=" + srv.Addr()}
	a := newApp(t, filepath.Join(root, docsConfig), environ)
	for _, tr := range docsTraffic {
		a.request(t, tr.n, tr.method, tr.target, tr.ip)
	}
	seen := map[string]bool{}
	outputs := make([]string, len(examples))
	for i, ex := range examples { // in order: the status examples see the resets before them
		args := splitCommand(t, ex.command)
		vars := slices.IndexFunc(args, func(w string) bool { return !strings.Contains(w, "=") })
		require.Equalf(t, "ratewarden", args[vars], "%s:%d", docsFile, ex.line)
		seen[args[vars+1]] = true
		env := args[:vars]
		if slices.Contains(args, docsConfig) {
			env = append(env, environ...)
		}
		r := runProcess(t, root, env, args[vars+1:]...)
		outputs[i] = r.stdout + r.stderr
		if r.code != 0 {
			outputs[i] += fmt.Sprintf("exit status %d\n", r.code)
		}
		if !*update {
			assert.Equalf(t, maskTimes(ex.output), maskTimes(outputs[i]), "%s:%d: %s", docsFile, ex.line, ex.command)
		}
	}
	for name := range commands {
		assert.Truef(t, seen[name], "%s shows no example of ratewarden %s", docsFile, name)
	}
	if *update {
		for i := len(examples) - 1; i >= 0; i-- { // from the end, so that earlier lines stay put
			lines = slices.Replace(lines, examples[i].from, examples[i].to, strings.Split(strings.TrimSuffix(outputs[i], "\n"), "\n")...)
		}
		require.NoError(t, os.WriteFile(filepath.Join(root, docsFile), []byte(strings.Join(lines, "\n")), 0o644))
	}
}

// docsCommand is the start of a ratewarden example's command: environment variables,
// then the command.
var docsCommand = regexp.MustCompile(`^([A-Z][A-Z0-9_]*=\S* )*ratewarden `)

// docsExamples returns the ratewarden commands of a Markdown file's lines and their outputs.
func docsExamples(t *testing.T, lines []string) []example {
	t.Helper()
	var out []example
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```sh" || i+1 >= len(lines) || !docsCommand.MatchString(lines[i+1]) {
			continue
		}
		ex := example{line: i + 2}
		var cmd []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			cmd = append(cmd, strings.TrimSuffix(lines[i], "\\"))
		}
		ex.command = strings.Join(cmd, " ")
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) == ""; i++ {
		}
		require.Truef(t, i < len(lines) && lines[i] == "```text", "%s:%d: a ratewarden example needs its output in a ```text block right under it", docsFile, ex.line)
		var output []string
		ex.from = i + 1
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			output = append(output, lines[i])
		}
		ex.to = i
		ex.output = strings.Join(output, "\n") + "\n"
		out = append(out, ex)
	}
	return out
}

// splitCommand splits a command line as a shell does for the docs' commands: words
// separated by blanks, single quotes around words with blanks.
func splitCommand(t *testing.T, s string) []string {
	t.Helper()
	var (
		words  []string
		word   strings.Builder
		inWord bool
		quoted bool
	)
	for _, r := range s {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				words, inWord = append(words, word.String()), false
				word.Reset()
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	require.False(t, quoted, "unbalanced quote in %q", s)
	if inWord {
		words = append(words, word.String())
	}
	return words
}

var (
	rfc3339Time = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	unixReset   = regexp.MustCompile(`"reset":\d+`)
)

// maskTimes replaces the times of an output, which differ from run to run.
func maskTimes(s string) string {
	s = rfc3339Time.ReplaceAllString(s, "<time>")
	return unixReset.ReplaceAllString(s, `"reset":<time>`)
}
