package main

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// block is one counted block of a coverage profile.
type block struct {
	startLine, startCol, endLine, endCol int
	stmts                                int
	covered                              bool
}

// profile is a parsed coverage profile: the blocks of each file, by the file's import-path
// name ("github.com/…/core/limiter.go"). Blocks that several test binaries report (go test
// -coverpkg writes one set per binary) are merged: a block is covered when any run covered it.
type profile map[string][]block

// parseProfile reads a text coverage profile as `go test -coverprofile` writes it.
func parseProfile(r io.Reader) (profile, error) {
	type key struct {
		file string
		pos  [4]int
	}
	merged := map[key]*block{}
	var order []key
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "mode: ") {
			continue
		}
		// name.go:L1.C1,L2.C2 stmts count
		colon := strings.LastIndex(line, ":")
		if colon < 0 {
			return nil, fmt.Errorf("profile line %d: no file name in %q", n, line)
		}
		var b block
		var count int
		_, err := fmt.Sscanf(line[colon+1:], "%d.%d,%d.%d %d %d",
			&b.startLine, &b.startCol, &b.endLine, &b.endCol, &b.stmts, &count)
		if err != nil {
			return nil, fmt.Errorf("profile line %d: %q: %w", n, line, err)
		}
		b.covered = count > 0
		k := key{line[:colon], [4]int{b.startLine, b.startCol, b.endLine, b.endCol}}
		if m, ok := merged[k]; ok {
			m.covered = m.covered || b.covered
			continue
		}
		merged[k] = &b
		order = append(order, k)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	p := profile{}
	for _, k := range order {
		p[k.file] = append(p[k.file], *merged[k])
	}
	return p, nil
}

// moduleOf returns the longest of modules that is importPath or a parent of it, or "".
func moduleOf(importPath string, modules []string) string {
	best := ""
	for _, m := range modules {
		if (importPath == m || strings.HasPrefix(importPath, m+"/")) && len(m) > len(best) {
			best = m
		}
	}
	return best
}

// tally is a count of covered items out of a total.
type tally struct{ covered, total int }

// percent returns the covered share in percent; an empty tally counts as fully covered.
func (t tally) percent() float64 {
	if t.total == 0 {
		return 100
	}
	return 100 * float64(t.covered) / float64(t.total)
}

// statementsByModule sums the statements of p per module (by module path).
func statementsByModule(p profile, modules []string) map[string]tally {
	out := map[string]tally{}
	for file, blocks := range p {
		pkg := file[:max(strings.LastIndex(file, "/"), 0)]
		m := moduleOf(pkg, modules)
		t := out[m]
		for _, b := range blocks {
			t.total += b.stmts
			if b.covered {
				t.covered += b.stmts
			}
		}
		out[m] = t
	}
	return out
}

// coveredAt reports whether the block of file that holds line ran, and whether there is one.
func (p profile) coveredAt(file string, line int) (covered, found bool) {
	for _, b := range p[file] {
		if b.startLine <= line && line <= b.endLine {
			found = true
			covered = covered || b.covered
		}
	}
	return covered, found
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// formatPercent formats a percentage the way `go test -cover` does.
func formatPercent(p float64) string {
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}
