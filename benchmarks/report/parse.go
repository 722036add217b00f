package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// sample is one benchmark's measurements over the runs of a go test -bench output: one
// value per run for each unit (ns/op, B/op, allocs/op, B/key, ...).
type sample map[string][]float64

// stat is the spread of one unit of a benchmark.
type stat struct{ min, med, max float64 }

func (s sample) stat(unit string) (stat, bool) {
	v := slices.Clone(s[unit])
	if len(v) == 0 {
		return stat{}, false
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return stat{v[0], med, v[len(v)-1]}, true
}

// run is a parsed go test -bench output: the benchmarks by name (without the -GOMAXPROCS
// suffix) and the header lines (goos, goarch, cpu, pkg).
type run struct {
	bench  map[string]sample
	header map[string]string
	procs  int // GOMAXPROCS, from the names' suffix (none: 1)
	// procsSeen lists every -GOMAXPROCS suffix of the names (more than one: rows of
	// different runs), and failures the lines of a failed benchmark or test (--- FAIL,
	// FAIL, panic): see validate.
	procsSeen []int
	failures  []string
}

// machineHeaders are the header lines that name the machine and build of a run.
var machineHeaders = []string{"goos", "goarch", "cpu", "pkg"}

// parse reads a go test -bench output; lines that are not results are skipped.
func parse(r io.Reader) (*run, error) {
	out := &run{bench: map[string]sample{}, header: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "--- FAIL") || strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "panic:") {
			out.failures = append(out.failures, "the run failed: "+strings.TrimSpace(line))
			continue
		}
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.Contains(k, " ") && !strings.HasPrefix(k, "Benchmark") {
			v = strings.TrimSpace(v)
			// go test prints these once per package run; two values are two machines'
			// (or builds') rows in one file.
			if old, seen := out.header[k]; seen && old != v && slices.Contains(machineHeaders, k) {
				out.failures = append(out.failures, fmt.Sprintf("the run is of two machines: %s %q, then %q", k, old, v))
			}
			out.header[k] = v
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil { // the iteration count
			continue
		}
		name, procs := f[0], 1 // go test adds no -GOMAXPROCS suffix at GOMAXPROCS=1
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if p, err := strconv.Atoi(name[i+1:]); err == nil {
				name, procs = name[:i], p
			}
		}
		out.procs = procs
		if !slices.Contains(out.procsSeen, procs) {
			out.procsSeen = append(out.procsSeen, procs)
		}
		s := out.bench[name]
		if s == nil {
			s = sample{}
			out.bench[name] = s
		}
		var units []string // of this line: one value each, or the line is not one run's
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			if slices.Contains(units, f[i+1]) {
				out.failures = append(out.failures, fmt.Sprintf("%s: a line reports %s twice", name, f[i+1]))
				continue
			}
			units = append(units, f[i+1])
			s[f[i+1]] = append(s[f[i+1]], v)
		}
	}
	return out, sc.Err()
}

// get returns the stat of unit for the benchmark name.
func (r *run) get(name, unit string) (stat, bool) {
	s, ok := r.bench[name]
	if !ok {
		return stat{}, false
	}
	return s.stat(unit)
}

// names lists the benchmarks whose name begins with prefix, sorted.
func (r *run) names(prefix string) []string {
	var ns []string
	for name := range r.bench {
		if strings.HasPrefix(name, prefix) {
			ns = append(ns, name)
		}
	}
	slices.Sort(ns)
	return ns
}
