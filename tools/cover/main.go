// Command cover measures the test coverage of the workspace for `make cover`.
//
//	go run ./tools/cover statements [-min 90] [-out coverage]
//	go run ./tools/cover branches [-min 80] [-out coverage]
//
// The gated modules are core, the adapters and the backends. Their packages are measured
// together: every test of those modules runs with -coverpkg naming all their packages, so a
// package counts the tests of the modules that exercise it (core's conformance suites,
// storetest and adaptertest, run in the backends' and adapters' tests; redisstore's test
// helper package, redistest, in redisstore's). Tests of the other modules (the CLI, the
// examples, the benchmarks, tools) do not count toward them.
//
// statements prints the statement coverage of each module — the gated ones from that shared
// run, the others from their own tests with -short — and fails when a gated module is under -min percent.
//
// branches measures branch coverage, as gobco does (gobco is not served by the module proxy
// this project can reach): in a copy of the repository, each condition of the gated
// packages' code (of an if, a for, a case of a switch without tag, every operand of && and
// ||) is wrapped in a generated function of its own, and every clause of a switch or type
// switch (and the default a switch leaves implicit) calls one; the same test run as above,
// with Go's own statement coverage, then tells which of those functions' blocks ran, that is
// which conditions were seen true and false and which clauses ran. The clauses of a
// select are not counted, nor conditions outside function bodies (package-level variables
// are initialised once; constant expressions cannot call a function). It prints the branch
// coverage of each package and module, writes the branches never taken to
// branches-uncovered.txt, and fails when a gated module is under -min percent.
//
// Nothing is left out of either measure: the repository has no generated code.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cover:", err)
		os.Exit(1)
	}
}

// errUnder is returned when a gated module is under its minimum; the table says which.
var errUnder = errors.New("a gated module is under the minimum")

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: cover statements|branches [-min PERCENT] [-out DIR]")
	}
	fl := flag.NewFlagSet(args[0], flag.ContinueOnError)
	minimum := fl.Float64("min", 90, "the least coverage, in percent, of each gated module")
	out := fl.String("out", "coverage", "the directory of the profiles and reports")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	outDir, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	switch args[0] {
	case "statements":
		return statements(root, outDir, *minimum, stdout)
	case "branches":
		return branches(root, outDir, *minimum, stdout)
	}
	return fmt.Errorf("unknown command %q: want statements or branches", args[0])
}

// module is one module of the workspace.
type module struct {
	Path string
	Dir  string // relative to the root, slash-separated
}

// gated reports whether m is held to the minimum: core, the adapters and the backends.
func (m module) gated() bool {
	return m.Dir == "core" || strings.HasPrefix(m.Dir, "adapters/") || strings.HasPrefix(m.Dir, "backends/")
}

// workspace lists the modules of the workspace at root.
func workspace(root string) ([]module, error) {
	o, err := goCmd(root, "list", "-m", "-json")
	if err != nil {
		return nil, err
	}
	var mods []module
	dec := json.NewDecoder(bytes.NewReader(o))
	for dec.More() {
		var m module
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
		rel, err := filepath.Rel(root, m.Dir)
		if err != nil {
			return nil, err
		}
		m.Dir = filepath.ToSlash(rel)
		mods = append(mods, m)
	}
	return mods, nil
}

// load returns the modules of the workspace at root, their paths, and the import paths and
// directories of the gated modules' packages.
func load(root string) (mods []module, paths []string, pkgs map[string]string, err error) {
	if mods, err = workspace(root); err != nil {
		return nil, nil, nil, err
	}
	for _, m := range mods {
		paths = append(paths, m.Path)
	}
	pkgs, err = gatedPackages(root, mods)
	return mods, paths, pkgs, err
}

// gatedPackages lists the import paths and directories of the gated modules' packages.
func gatedPackages(root string, mods []module) (map[string]string, error) {
	var patterns []string
	for _, m := range mods {
		if m.gated() {
			patterns = append(patterns, m.Path+"/...")
		}
	}
	o, err := goCmd(root, append([]string{"list", "-f", "{{.ImportPath}} {{.Dir}}"}, patterns...)...)
	if err != nil {
		return nil, err
	}
	pkgs := map[string]string{}
	for line := range strings.Lines(string(o)) {
		path, dir, _ := strings.Cut(strings.TrimSpace(line), " ")
		pkgs[path] = dir
	}
	return pkgs, nil
}

// testGated runs the tests of the gated packages pkgs at root with coverage of all of them,
// writing the merged profile to profilePath, and returns it parsed.
func testGated(root string, pkgs []string, profilePath string, extra ...string) (profile, error) {
	args := append([]string{"test", "-count=1", "-coverpkg=" + strings.Join(pkgs, ","),
		"-coverprofile=" + profilePath}, extra...)
	if _, err := goCmd(root, append(args, pkgs...)...); err != nil {
		return nil, err
	}
	return readProfile(profilePath)
}

func readProfile(path string) (profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseProfile(f)
}

// statements runs the statement measure (see the package comment).
func statements(root, outDir string, minimum float64, stdout io.Writer) error {
	mods, paths, pkgs, err := load(root)
	if err != nil {
		return err
	}
	p, err := testGated(root, sortedKeys(pkgs), filepath.Join(outDir, "gated.out"))
	if err != nil {
		return err
	}
	byModule := statementsByModule(p, paths)
	var low []string
	for _, m := range mods {
		var t tally
		note := ""
		if m.gated() {
			t = byModule[m.Path]
			note = fmt.Sprintf("(min %g%%, with the gated modules' tests)", minimum)
		} else {
			profilePath := filepath.Join(outDir, strings.ReplaceAll(m.Dir, "/", "-")+".out")
			// -short: these modules are only reported, and the tools module's go-get
			// consumer test alone takes minutes.
			if _, err := goCmd(filepath.Join(root, m.Dir), "test", "-count=1", "-short", "-coverprofile="+profilePath, "./..."); err != nil {
				return err
			}
			own, err := readProfile(profilePath)
			if err != nil {
				return err
			}
			t = statementsByModule(own, paths)[m.Path]
		}
		pct := formatPercent(t.percent())
		if t.total == 0 {
			pct = "-" // no statements (the benchmarks module is all tests)
		}
		fmt.Fprintf(stdout, "%-28s %7s  %s\n", m.Dir, pct, note)
		if m.gated() && t.percent() < minimum {
			low = append(low, m.Dir)
		}
	}
	if low != nil {
		fmt.Fprintf(stdout, "under %g %% statement coverage: %s\n", minimum, strings.Join(low, " "))
		return errUnder
	}
	return nil
}

// branches runs the branch measure (see the package comment).
func branches(root, outDir string, minimum float64, stdout io.Writer) error {
	mods, modPaths, pkgs, err := load(root)
	if err != nil {
		return err
	}
	tmp, err := copyDir(root)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := copyTree(root, tmp); err != nil {
		return err
	}
	sitesByPkg := map[string][]site{}
	for path, dir := range pkgs {
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			return err
		}
		sites, err := instrumentPackage(tmp, filepath.ToSlash(rel))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		sitesByPkg[path] = sites
	}
	// -vet=off: vet has checked the real code; the helpers' calls are not worth its time.
	p, err := testGated(tmp, sortedKeys(pkgs), filepath.Join(outDir, "branches.out"), "-vet=off")
	if err != nil {
		return err
	}
	report, err := os.Create(filepath.Join(outDir, "branches-uncovered.txt"))
	if err != nil {
		return err
	}
	defer report.Close()
	byModule := map[string]tally{}
	for _, path := range sortedKeys(sitesByPkg) {
		t, err := tallyBranches(p, path, sitesByPkg[path], report)
		if err != nil {
			return err
		}
		mt := byModule[moduleOf(path, modPaths)]
		mt.covered += t.covered
		mt.total += t.total
		byModule[moduleOf(path, modPaths)] = mt
		fmt.Fprintf(stdout, "  %-62s %7s of %4d branches\n", path, formatPercent(t.percent()), t.total)
	}
	var low []string
	for _, m := range mods {
		if !m.gated() {
			continue
		}
		t := byModule[m.Path]
		fmt.Fprintf(stdout, "%-28s %7s of %4d branches (min %g%%)\n", m.Dir, formatPercent(t.percent()), t.total, minimum)
		if t.percent() < minimum {
			low = append(low, m.Dir)
		}
	}
	fmt.Fprintf(stdout, "branches never taken: %s\n", report.Name())
	if low != nil {
		fmt.Fprintf(stdout, "under %g %% branch coverage: %s\n", minimum, strings.Join(low, " "))
		return errUnder
	}
	return nil
}

// copyDir returns the directory the branch measure copies the repository at root to. It is
// the same on every run: the go command's build cache keys a package on its directory, so a
// copy at a new place each time would rebuild every instrumented test binary.
func copyDir(root string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(root))
	return filepath.Join(cache, "ratewarden-cover", hex.EncodeToString(sum[:6])), nil
}

// helperName is the name of the file instrumentPackage adds to a package.
const helperName = "zz_branchcover.go"

// instrumentPackage instruments the non-test Go files of the package in dir (relative to
// root) and writes its helper file there.
func instrumentPackage(root, dir string) ([]site, error) {
	files, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(dir), "*.go"))
	if err != nil {
		return nil, err
	}
	var sites []site
	pkgName := ""
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		src, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		rel := dir + "/" + filepath.Base(file)
		next := len(sites)
		out, fileSites, err := instrumentFile(rel, src, &next)
		if err != nil {
			return nil, err
		}
		if pkgName == "" {
			pkgName, err = packageName(src)
			if err != nil {
				return nil, err
			}
		}
		if err := os.WriteFile(file, out, 0o644); err != nil {
			return nil, err
		}
		sites = append(sites, fileSites...)
	}
	if pkgName == "" {
		return nil, nil
	}
	return sites, os.WriteFile(filepath.Join(root, filepath.FromSlash(dir), helperName), helperFile(pkgName, sites), 0o644)
}

// tallyBranches counts the outcomes of pkg's sites that p saw, and writes those it did not see
// to report.
func tallyBranches(p profile, pkg string, sites []site, report io.Writer) (tally, error) {
	var t tally
	helper := pkg + "/" + helperName
	outcome := func(s site, line int, missing string) error {
		covered, found := p.coveredAt(helper, line)
		if !found {
			return fmt.Errorf("%s: no block at line %d of the profile", helper, line)
		}
		t.total++
		if covered {
			t.covered++
			return nil
		}
		_, err := fmt.Fprintf(report, "%s:%d:%d: %s %s\n", s.file, s.line, s.col, s.text, missing)
		return err
	}
	for _, s := range sites {
		if s.clause {
			if err := outcome(s, s.trueLine, "never ran"); err != nil {
				return t, err
			}
			continue
		}
		if err := outcome(s, s.trueLine, "never true"); err != nil {
			return t, err
		}
		if err := outcome(s, s.falseLine, "never false"); err != nil {
			return t, err
		}
	}
	return t, nil
}

// packageName returns the package clause's name of a Go file.
func packageName(src []byte) (string, error) {
	for line := range strings.Lines(string(src)) {
		if name, ok := strings.CutPrefix(line, "package "); ok {
			return strings.Fields(name)[0], nil
		}
	}
	return "", errors.New("no package clause")
}

// skipped names the directories at the repository's root that the copy leaves out: version
// control, the local tool binaries and caches, and the coverage output itself.
var skipped = []string{".git", "bin", ".cache", "coverage"}

// copyTree copies the regular files of the repository at root into dst.
func copyTree(root, dst string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if slices.Contains(skipped, filepath.ToSlash(rel)) {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, info.Mode().Perm())
	})
}

// goCmd runs the go command in dir and returns its standard output; on failure the error
// holds what it printed (for failed tests, their failure reports: see failures).
func goCmd(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s%s", args[0], err, failures(stdout.String()), stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// failureLine matches the lines of go test's output that report a failure: the FAIL lines,
// panics, and the messages a test logged (file_test.go:N: …) with testify's fields.
var failureLine = regexp.MustCompile(`^\s*(--- FAIL|FAIL|panic:|\S+_test\.go:\d+:|Error Trace:|Error:|Messages:|Test:)`)

// failures returns the lines of out that report failures, or all of out when none does (a
// build error): a failed run of every gated test prints the logs of all of them.
func failures(out string) string {
	var b strings.Builder
	for line := range strings.Lines(out) {
		if failureLine.MatchString(line) {
			b.WriteString(line)
		}
	}
	if b.Len() == 0 {
		return out
	}
	return b.String()
}
