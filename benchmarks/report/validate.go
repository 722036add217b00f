package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The benchmarks the report reads, by the names package benchmarks prints, and the units
// each must report. A verdict compares rows: a row missing from the run would drop out of
// the comparison (a peer not compared is a peer not faster, an algorithm not measured is
// one not below 3×), so validate refuses a run that lacks any of them rather than judging
// what is left.
var (
	redisAlgs    = []string{"fixed-window", "gcra", "sliding-window", "sliding-window-counter", "token-bucket"}
	redisPeers   = []string{redisPeer, "ulule"}
	redisCallers = []string{"1", "16", "64"}
	pairedAlgs   = []string{"gcra", "token_bucket"} // BenchmarkRedisPaired's: the two that decide as redis_rate's GCRA does
	growthAlgs   = []string{"fixed_window", "gcra", "sliding_window", "sliding_window_counter", "token_bucket"}
	memUnits     = []string{"ns/op", "B/op", "allocs/op"}
	growthUnits  = []string{"ns/op", "B/key"}
	redisUnits   = []string{"decisions/s", "client-cpu-µs/op", "redis-cpu-µs/op", "script-calls/op"}
	pairedUnits  = []string{"ratio", "ratewarden-ns/decision", "redis_rate-ns/decision"}
	// positive are the units a measurement cannot report as 0: a time, a rate, a ratio of
	// times, and the script calls of decisions that all go to Redis. The others (bytes,
	// allocations, CPU) may be 0, never below.
	positive = []string{"ns/op", "B/key", "decisions/s", "ratio", "ratewarden-ns/decision", "redis_rate-ns/decision", "script-calls/op"}
)

// mwVariants lists the middleware variants BenchmarkMiddleware runs on router: bare,
// ratewarden, the floor, and the peers (httprate on chi only).
func mwVariants(router string) []string {
	vs := []string{"bare", ours, floorMW, "ulule", "tollbooth"}
	if router == "chi" {
		vs = append(vs, "httprate")
	}
	return vs
}

// expected returns every benchmark the report reads with the units it must report; the
// Redis ones when redis is set.
func expected(redis bool) map[string][]string {
	want := map[string][]string{clockBench: {"ns/op"}, memClockBench: {"ns/op"}}
	for _, lib := range append([]string{ours}, memPeers...) {
		for _, mode := range []string{"serial", "parallel"} {
			want[memBench+"/lib="+lib+"/run="+mode] = memUnits
		}
	}
	for _, alg := range growthAlgs {
		for _, n := range growthN {
			want[growthBench+"/alg="+alg+"/keys="+n] = growthUnits
		}
	}
	for _, rt := range routers {
		for _, mw := range mwVariants(rt) {
			want[mwBench+"/router="+rt+"/mw="+mw] = memUnits
		}
	}
	if redis {
		libs := slices.Clone(redisPeers)
		for _, alg := range redisAlgs {
			libs = append(libs, ours+"-"+alg)
		}
		for _, lib := range libs {
			for _, c := range redisCallers {
				want[redisBench+"/lib="+lib+"/callers="+c] = redisUnits
			}
		}
		for _, alg := range pairedAlgs {
			want[pairedBench+"/"+alg] = pairedUnits
		}
	}
	return want
}

// validate checks that r is a whole, successful run that every verdict can be read from:
// no failed benchmark, one machine, one GOMAXPROCS, no unit twice on a line, every expected benchmark (expected; the Redis ones
// when the run has any) with each of its units reported the same number of times as every
// other, and every value (and median) finite, not negative, and above 0 where a unit must be. It
// reports every problem at once.
func validate(r *run) error {
	var problems []string
	problems = append(problems, r.failures...)
	if len(r.procsSeen) > 1 {
		problems = append(problems, fmt.Sprintf("the run mixes GOMAXPROCS %v: its rows are not one run's", r.procsSeen))
	}
	redis := false
	for name := range r.bench {
		if strings.HasPrefix(name, redisBench) {
			redis = true
		}
	}
	want := expected(redis)
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	slices.Sort(names)
	runs := -1
	for _, name := range names {
		s, ok := r.bench[name]
		if !ok {
			problems = append(problems, name+": missing")
			continue
		}
		for _, unit := range want[name] {
			vs := s[unit]
			switch {
			case len(vs) == 0:
				problems = append(problems, fmt.Sprintf("%s: no %s (run with -benchmem)", name, unit))
				continue
			case runs == -1:
				runs = len(vs)
			case len(vs) != runs:
				problems = append(problems, fmt.Sprintf("%s: %d values of %s, where other benchmarks have %d: "+
					"duplicated or lost lines", name, len(vs), unit, runs))
			}
			for _, v := range vs {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || (v == 0 && slices.Contains(positive, unit)) {
					problems = append(problems, fmt.Sprintf("%s: %s %v is not a measurement", name, unit, v))
				}
			}
			// Two finite values can have an infinite mean, the median of an even count.
			if st, _ := s.stat(unit); math.IsInf(st.med, 0) {
				problems = append(problems, fmt.Sprintf("%s: %s's median is not finite", name, unit))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the run cannot be judged against SPEC section 9:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}
