// Command report turns a go test -bench run of package benchmarks into docs/benchmarks.md:
// tables with ratios against each peer, the machine, Go version and date, each SPEC
// section 9 target marked met or not met with a CPU or heap profile of each one not met,
// and SVG charts. It runs the benchmarks itself (-count runs each) unless -in names a saved
// output, and includes the load test's JSON result when one is under benchmarks/.
//
//	go run ./benchmarks/report                   # from the repository root: make bench-report
//	go run ./benchmarks/report -in bench.txt     # from a saved output, without profiles
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// benchPattern selects the in-process benchmarks the report reads; redisPattern the Redis
// ones, run separately for a fixed number of decisions (-redis-benchtime), since each of
// their decisions is a network round trip. BenchmarkRedis starts its own redis-server.
const (
	benchPattern = "^Benchmark(MemoryDecision|MemoryClock|MemoryGrowth|Middleware)$"
	redisPattern = "^BenchmarkRedis(Paired)?$"
)

func main() {
	in := flag.String("in", "", "a saved go test -bench output to read instead of running the benchmarks")
	count := flag.Int("count", 3, "runs of each benchmark (go test -count)")
	out := flag.String("out", "docs/benchmarks.md", "the Markdown file to write; the SVG charts go beside it")
	raw := flag.String("raw", "docs/benchmarks.txt", "where to save the go test -bench output of a run")
	load := flag.String("load", "benchmarks/results/*.json", "glob of the load test's JSON result; the newest match is used")
	redisTime := flag.String("redis-benchtime", "20000x", "-benchtime of the Redis benchmarks; \"\" skips them")
	flag.Parse()
	log.SetFlags(0)
	if err := generate(*in, *count, *out, *raw, *load, *redisTime); err != nil {
		log.Fatal("bench-report: ", err)
	}
}

// generate writes the report of the run saved in in, or of a new run of -count of each
// benchmark (and of the Redis ones for redisTime, unless it is "") saved in raw.
func generate(in string, count int, out, raw, loadGlob, redisTime string) error {
	var (
		output []byte
		err    error
	)
	saved := in != ""
	if saved {
		if output, err = os.ReadFile(in); err != nil {
			return err
		}
	} else {
		args := []string{"test", "-run=NONE", "-bench", benchPattern, "-benchmem", fmt.Sprint("-count=", count), "./benchmarks"}
		log.Printf("go %s (a few minutes)", strings.Join(args, " "))
		if output, err = goCmd(args...); err != nil {
			return fmt.Errorf("go test: %w\n%s", err, output)
		}
		if redisTime != "" {
			args := []string{"test", "-run=NONE", "-bench", redisPattern, "-benchmem", "-benchtime=" + redisTime, fmt.Sprint("-count=", count), "./benchmarks"}
			log.Printf("go %s (a few minutes more; it starts a redis-server)", strings.Join(args, " "))
			more, err := goCmd(args...)
			if err != nil {
				return fmt.Errorf("go test: %w\n%s", err, more)
			}
			output = append(output, more...)
		}
		if err := os.WriteFile(raw, output, 0o644); err != nil {
			return err
		}
		in = raw
	}
	r, err := parse(bytes.NewReader(output))
	if err != nil {
		return err
	}
	if len(r.bench) == 0 {
		return fmt.Errorf("%s holds no benchmark results", in)
	}
	if err := validate(r); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	dir := filepath.Dir(out)
	rel, err := filepath.Rel(dir, in)
	if err != nil {
		rel = in
	}
	rp := &report{run: r, machine: thisMachine(r), rawName: filepath.ToSlash(rel), profiles: map[string]string{}}
	if saved { // what the output does not say is this machine's, not the run's
		const unknown = "unknown: the report was made from a saved output"
		rp.machine.Commit, rp.machine.Date, rp.machine.Go, rp.machine.Cores = unknown, unknown, unknown, unknown
	}
	var loadJSON []byte
	if rp.loadName, loadJSON = newest(loadGlob); loadJSON != nil {
		if rp.load, err = parseLoad(rp.loadName, loadJSON); err != nil {
			return err
		}
	}
	for name, chart := range map[string]func(string) error{"benchmarks-memory.svg": rp.memoryChart, "benchmarks-middleware.svg": rp.middlewareChart} {
		if err := chart(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rp.charts = append(rp.charts, name)
	}
	slices.Sort(rp.charts)
	if !saved { // a fresh run on this machine: profile what missed its target (not a saved
		// output, which may be of another machine or commit, even when it is raw's file)
		if err := rp.profile(); err != nil {
			return err
		}
	}
	var md bytes.Buffer
	rp.write(&md)
	return os.WriteFile(out, md.Bytes(), 0o644)
}

// profile records a CPU (or heap) profile of the benchmark behind each target not met and
// keeps pprof's top functions.
func (rp *report) profile() error {
	tmp, err := os.MkdirTemp("", "bench-report")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "benchmarks.test")
	if out, err := goCmd("test", "-c", "-o", bin, "./benchmarks"); err != nil {
		return fmt.Errorf("go test -c: %w\n%s", err, out)
	}
	for i, t := range rp.targets() {
		if t.Met || t.NA || t.Profile == "" || rp.profiles[t.Profile] != "" {
			continue
		}
		prof := filepath.Join(tmp, fmt.Sprintf("%d.prof", i))
		args := []string{"-test.run=NONE", "-test.bench=" + t.Profile, "-test.benchtime=2s"}
		top := []string{"tool", "pprof", "-top", "-nodecount=15"}
		if t.Mem {
			args = append(args, "-test.memprofile="+prof)
			top = append(top, "-sample_index=inuse_space")
		} else {
			args = append(args, "-test.cpuprofile="+prof)
		}
		log.Printf("profiling %s", t.Profile)
		cmd := exec.Command(bin, args...)
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", t.Profile, err, out)
		}
		out, err := goCmd(append(top, bin, prof)...)
		if err != nil {
			return fmt.Errorf("pprof %s: %w\n%s", t.Profile, err, out)
		}
		rp.profiles[t.Profile] = pprofTable(string(out))
	}
	return nil
}

// pprofTable keeps the table of pprof -top's output, from its header line on.
func pprofTable(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.Contains(l, "flat%") {
			return strings.Join(lines[i:], "\n")
		}
	}
	return out
}

func goCmd(args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Stderr = nil
	return cmd.CombinedOutput()
}

// newest returns the most recently modified file matching glob and its contents, or
// nothing when there is none.
func newest(glob string) (string, []byte) {
	files, _ := filepath.Glob(glob)
	var best string
	var bestTime time.Time
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.ModTime().After(bestTime) {
			best, bestTime = f, st.ModTime()
		}
	}
	if best == "" {
		return "", nil
	}
	b, err := os.ReadFile(best)
	if err != nil {
		return "", nil
	}
	return best, b
}

// thisMachine describes the machine: the CPU the run names (else /proc/cpuinfo's), the
// cores, the Go toolchain and the date.
func thisMachine(r *run) machine {
	cpu := r.header["cpu"]
	if cpu == "" {
		cpu = cpuModel()
	}
	goVersion := runtime.Version()
	if out, err := goCmd("env", "GOVERSION"); err == nil {
		goVersion = strings.TrimSpace(string(out))
	}
	return machine{
		CPU:    cpu,
		Cores:  fmt.Sprint(runtime.NumCPU()),
		Go:     goVersion,
		OS:     runtime.GOOS + "/" + runtime.GOARCH,
		Date:   time.Now().UTC().Format("2006-01-02 15:04 MST"),
		Commit: gitCommit(),
	}
}

// gitCommit is the commit the benchmarks ran at, "+ uncommitted changes" when the working
// tree differs from it (the measurements' own outputs aside: the load test's result and
// this report's files), or "unknown" outside a git checkout.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	commit := strings.TrimSpace(string(out))
	st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", ":/",
		":(top,exclude)benchmarks/results", ":(top,exclude,glob)docs/benchmarks*").Output()
	if err == nil && len(bytes.TrimSpace(st)) > 0 {
		commit += " + uncommitted changes"
	}
	return commit
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
