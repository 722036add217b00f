package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
)

// Names of the benchmarks in package benchmarks that the report reads.
const (
	memBench      = "BenchmarkMemoryDecision"
	clockBench    = "BenchmarkMemoryClock/clock=time.Now"
	memClockBench = "BenchmarkMemoryClock/clock=core.CoarseClock"
	growthBench   = "BenchmarkMemoryGrowth"
	mwBench       = "BenchmarkMiddleware"
	redisBench    = "BenchmarkRedis"
	pairedBench   = "BenchmarkRedisPaired"
	redisPeer     = "redis_rate" // SPEC section 9's Redis reference
	ours          = "ratewarden"
	// floorMW is BenchmarkMiddleware's floor variant: not a peer, the contract's cost before
	// ratewarden's work (benchmarks/floor_test.go), named in the middleware targets' why.
	floorMW = "floor"
)

// memPeers and mwPeers are the peers in the order of the report, with why each does less
// work than ratewarden per decision: said next to every row where a peer is faster.
var (
	memPeers = []string{"x-time-rate", "sethvargo", "ulule", "throttled", "httprate"}
	mwPeers  = []string{"ulule", "tollbooth", "httprate"}
	routers  = []string{"gin", "echo", "chi"}
	growthN  = []string{"1k", "100k", "1M"}

	lessWork = map[string]string{
		"x-time-rate": "one map and one mutex around a float update: no bound on the keys (no LRU, no eviction), no per-window state for headers, no cost check, no multi-window or penalty support",
		"sethvargo":   "a map behind an RWMutex and a mutex per bucket: no bound on the keys, one window only, no per-window results for headers",
		"ulule":       "a sync.Map of fixed-window counters: no bound on the keys, one window",
		"throttled":   "an LRU of GCRA times (one window, no penalty)",
		"httprate":    "two maps of counts keyed by the key's 64-bit hash (no key kept: keys whose hashes collide share a counter), one window",
		"tollbooth":   "x/time/rate buckets per client IP and path, no trusted-proxy resolution or rules",
	}
	redisLessWork = map[string]string{
		"redis_rate": "one GCRA window per call, its state a single float; ratewarden's script keeps each window's state with the time of its last change (so that a clock step never refills), handles several windows and penalties, and returns every window's remaining, reset and retry-after",
		"ulule":      "a fixed window counted by INCRBY and PTTL in a two-command script (denied requests are counted too), one window, no retry-after, no penalties",
	}
	mwLessWork = map[string]string{
		"ulule":     "three headers, the client from RemoteAddr only, no rule matching",
		"tollbooth": "the client from RemoteAddr only, no rule matching",
		"httprate":  "three headers, the client from RemoteAddr only (chi's ClientIPFromRemoteAddr), no rule matching",
	}
)

// machine is where the run happened.
type machine struct{ CPU, Cores, Go, OS, Date, Commit string }

// target is one line of SPEC section 9, judged on the run.
type target struct {
	What    string
	Result  string
	Met     bool
	NA      bool   // not applicable on this machine
	Profile string // -bench pattern to profile when not met ("" for none)
	Mem     bool   // profile memory rather than CPU
	// Why says where the time goes when the target is not met, from the run's numbers
	// ("" when the profile says it alone).
	Why string
	// By names the test that asserts the target, for a target this report does not
	// measure ("" for the others).
	By string
}

// report is everything docs/benchmarks.md is made of.
type report struct {
	run      *run
	machine  machine
	charts   []string          // SVG files, relative to the Markdown file
	profiles map[string]string // pprof -top output by target.Profile
	load     *loadResult       // the load test's result, nil when absent
	loadName string
	rawName  string // the go test -bench output, relative to the Markdown file
}

func ns(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2f µs", v/1000)
	}
	return fmt.Sprintf("%.0f ns", v)
}

func span(s stat) string {
	if s.min == s.max {
		return fmt.Sprintf("%.0f", s.min)
	}
	return fmt.Sprintf("%.0f – %.0f", s.min, s.max)
}

func mark(t target) string {
	switch {
	case t.By != "":
		return "asserted by " + t.By
	case t.NA:
		return "n/a on this machine (SPEC 9 sets it where time.Now() costs ≤ 25 ns)"
	case t.Met:
		return "**met**"
	}
	return "**not met**"
}

// targets judges the run against SPEC section 9.
func (rp *report) targets() []target {
	r := rp.run
	var ts []target
	for _, mode := range []string{"serial", "parallel"} {
		me, ok := r.get(memBench+"/lib="+ours+"/run="+mode, "ns/op")
		if !ok {
			continue
		}
		var slower []string
		compared := 0 // the peers the run measured (validate requires all of them)
		for _, p := range memPeers {
			ps, ok := r.get(memBench+"/lib="+p+"/run="+mode, "ns/op")
			if !ok {
				continue
			}
			if compared++; me.med/ps.med >= 1 {
				slower = append(slower, fmt.Sprintf("%s (%s×)", p, lessThanOne(me.med/ps.med)))
			}
		}
		t := target{What: "memory decision, " + mode + ": faster than every peer (ratio < 1.0)", Met: len(slower) == 0,
			Profile: "^" + memBench + "$/^lib=" + ours + "$/^run=" + mode + "$"}
		t.Result = "faster than all " + fmt.Sprint(compared) + " peers"
		if !t.Met {
			t.Result = "not faster than " + strings.Join(slower, ", ")
		} else if close := rp.overlapping(mode, me); len(close) > 0 {
			t.Result += "; within this run's noise of " + strings.Join(close, ", ") + " (the min – max ranges overlap)"
		}
		ts = append(ts, t)
	}
	if me, ok := r.get(memBench+"/lib="+ours+"/run=serial", "ns/op"); ok {
		allocs := rp.memAllocs(ours)
		clk, _ := r.get(clockBench, "ns/op")
		result := fmt.Sprintf("%s/op (median), %.0f allocs/op; time.Now() %s here", ns(me.med), allocs, ns(clk.med))
		if own, ok := r.get(memClockBench, "ns/op"); ok {
			result += fmt.Sprintf("; %s/op less ratewarden's own clock read (core.CoarseClock, %s)", ns(me.med-own.med), ns(own.med))
		}
		t := target{What: "memory decision ≤ 100 ns/op and 0 allocs/op where time.Now() costs ≤ 25 ns",
			Result: result,
			Met:    me.med <= 100 && allocs == 0, Profile: "^" + memBench + "$/^lib=" + ours + "$/^run=serial$"}
		t.NA = clk.med > 25 && allocs == 0
		ts = append(ts, t)
	}
	if s, ok := r.get(growthBench+"/alg=token_bucket/keys=1M", "B/key"); ok {
		ts = append(ts, target{What: "token bucket ≤ 200 B per key", Result: fmt.Sprintf("%.0f B/key at 1M keys", s.max),
			Met: s.max <= 200, Profile: "^" + growthBench + "$/^alg=token_bucket$/^keys=1M$", Mem: true})
	}
	for _, rt := range routers {
		ov, okO := rp.overhead(rt, ours)
		if !okO {
			continue
		}
		allocs := rp.allocMost(rt, ours)
		t := target{What: "middleware on " + rt + ": ≤ 1 µs, ≤ 3 allocs, ≤ 0.7× ulule's and tollbooth's overhead",
			Profile: "^" + mwBench + "$/^router=" + rt + "$/^mw=" + ours + "$"}
		t.Met = ov > 0 && ov <= 1000 && allocs <= 3
		parts := []string{fmt.Sprintf("+%s, +%.0f allocs", ns(ov), allocs)}
		for _, p := range []string{"ulule", "tollbooth"} {
			// validate saw every row; a median at or below bare's is noise that no ratio
			// can be read from, and leaves the target unjudged, so not met.
			if po, _ := rp.overhead(rt, p); ov > 0 && po > 0 {
				parts = append(parts, fmt.Sprintf("%s× %s's", ratioUp(ov/po), p))
				t.Met = t.Met && ov/po <= 0.7
			} else {
				parts = append(parts, fmt.Sprintf("no ratio to %s's (an overhead at or below the bare route's: this run is too noisy to judge)", p))
				t.Met = false
			}
		}
		t.Result = strings.Join(parts, "; ")
		t.Why = rp.mwWhy(rt, ov)
		ts = append(ts, t)
	}
	ts = append(ts, rp.redisTargets()...)
	return append(ts, rp.loadTargets()...)
}

// mwWhy says where a request's overhead (ov, in ns) goes behind ratewarden's middleware on
// router: the bytes it allocates against ulule's, from the run, and the floor's share
// (benchmarks/floor_test.go) when the run has its row.
func (rp *report) mwWhy(router string, ov float64) string {
	why := fmt.Sprintf("Behind the middleware a request allocates %s over the bare router. One object is "+
		"Gate's decision context, 696 bytes (the 704-byte size class; `TestGateAllocationSize`): the copy of "+
		"the request that `WithContext` makes so that a handler's `FromContext` finds the decision (304 bytes), "+
		"the decision (176), its counter key and header values (200). Every byte allocated is paid in GC work "+
		"(mallocgc, the background mark worker, the page faults of memory the scavenger returned: `madvise` "+
		"below). The rest is the memory decision, the client IP's parse and key, and six header-map inserts.",
		rp.allocated(router, ours))
	u, withUlule := rp.overhead(router, "ulule")
	if withUlule {
		why += fmt.Sprintf(" ulule allocates %s, sets three headers and gives handlers no decision.", rp.allocated(router, "ulule"))
	}
	floor, ok := rp.overhead(router, floorMW)
	if !ok {
		return why
	}
	why += fmt.Sprintf(" The floor (`mw=floor`: the request copy carrying a `core.Decision` and the header "+
		"values in one allocation, one memory-store decision on a key made in advance, six constant "+
		"headers; no client IP, rule, key or value formatted) adds +%s on %s in this run", ns(floor), router)
	if withUlule && u > 0 {
		why += fmt.Sprintf(", %.2f× ulule's", floor/u)
		if floor/u > 0.7 {
			why += ": above 0.7× before any of ratewarden's work, so no middleware that keeps the " +
				"decision in the request context and sets these headers meets that ratio here"
		}
	}
	return why + fmt.Sprintf(". ratewarden's own work (the client IP, the rule, the key, the header values) "+
		"is the other +%s.", ns(ov-floor))
}

// overlapping lists the memory peers whose min – max range in mode overlaps ratewarden's
// (me), with the ratio of medians.
func (rp *report) overlapping(mode string, me stat) []string {
	var out []string
	for _, p := range memPeers {
		if ps, ok := rp.run.get(memBench+"/lib="+p+"/run="+mode, "ns/op"); ok && me.max >= ps.min {
			out = append(out, fmt.Sprintf("%s (%s×)", p, lessThanOne(me.med/ps.med)))
		}
	}
	return out
}

// redisTargets judges the Redis benchmarks against SPEC section 9: the serial latency of
// each algorithm BenchmarkRedisPaired measures, paired with redis_rate's, and the
// decisions/s of every ratewarden algorithm with 64 callers against redis_rate's.
func (rp *report) redisTargets() []target {
	r := rp.run
	flood := target{What: "a flood from a denied client costs Redis ≈ nothing with `local_cache`",
		Result: "not measured by this report", By: "`TestDeniedFloodRedisCalls` (benchmarks, run by `make test`: 5,000 requests of a denied client, 11 Redis calls; docs/redis.md)"}
	if len(rp.redisLibs()) == 0 { // -redis-benchtime "": judged on nothing, so not met
		const none = "not measured: this run has no Redis benchmarks"
		return []target{
			{What: "Redis decision: one round trip (script calls per decision, 1 caller)", Result: none},
			flood,
			{What: "Redis decision, serial: latency ≤ redis_rate's (paired ratio ≤ 1.0)", Result: none},
			{What: "Redis decisions/s with 64 callers ≥ 3× redis_rate's", Result: none},
		}
	}
	var ts []target
	// One round trip: every ratewarden algorithm's decision with one caller is one script
	// call (more callers share calls: batches).
	var oneTrip []string
	trips := true
	for _, lib := range rp.redisLibs() {
		if s, ok := r.get(redisBench+"/lib="+lib+"/callers=1", "script-calls/op"); ok && strings.HasPrefix(lib, ours) {
			oneTrip = append(oneTrip, fmt.Sprintf("%s %.3f", strings.TrimPrefix(lib, ours+"-"), s.max))
			trips = trips && s.max <= 1
		}
	}
	if len(oneTrip) > 0 {
		ts = append(ts, target{What: "Redis decision: one round trip (script calls per decision, 1 caller)", Result: strings.Join(oneTrip, ", "), Met: trips})
	}
	ts = append(ts, flood)
	var paired []string
	met := true
	for _, name := range r.names(pairedBench + "/") {
		ratio := rp.pairedRatio(name)
		paired = append(paired, fmt.Sprintf("%s %s×", strings.TrimPrefix(name, pairedBench+"/"), ratioUp(ratio)))
		met = met && ratio <= 1
	}
	if len(paired) > 0 {
		ts = append(ts, target{What: "Redis decision, serial: latency ≤ redis_rate's (paired ratio ≤ 1.0)", Result: strings.Join(paired, ", "),
			Met: met, Profile: "^" + redisBench + "$/^lib=ratewarden-token-bucket$/^callers=1$", Why: rp.redisSerialWhy()})
	}
	peer, ok := r.get(redisBench+"/lib="+redisPeer+"/callers=64", "decisions/s")
	if !ok {
		return ts
	}
	var ratios []string
	met = true
	slowest, worst := ours+"-token-bucket", 0.0 // the algorithm furthest from the target: its profile and numbers
	for _, lib := range rp.redisLibs() {
		if !strings.HasPrefix(lib, ours) {
			continue
		}
		if s, ok := r.get(redisBench+"/lib="+lib+"/callers=64", "decisions/s"); ok {
			ratio := s.med / peer.med
			ratios = append(ratios, fmt.Sprintf("%s %s×", lib, ratioDown(ratio)))
			met = met && ratio >= 3
			if worst == 0 || ratio < worst {
				slowest, worst = lib, ratio
			}
		}
	}
	return append(ts, target{What: "Redis decisions/s with 64 callers ≥ 3× redis_rate's", Result: strings.Join(ratios, ", "),
		Met: met, Profile: "^" + redisBench + "$/^lib=" + slowest + "$/^callers=64$", Why: rp.redis64Why(peer.med, slowest)})
}

// redisSerialWhy compares the CPU one serial decision costs ratewarden's token bucket and
// redis_rate, on each side of the connection.
func (rp *report) redisSerialWhy() string {
	cpu := func(lib, side string) float64 {
		s, _ := rp.run.get(redisBench+"/lib="+lib+"/callers=1", side+"-cpu-µs/op")
		return s.med
	}
	mc, mr, pc, pr := cpu(ours+"-token-bucket", "client"), cpu(ours+"-token-bucket", "redis"), cpu(redisPeer, "client"), cpu(redisPeer, "redis")
	if mr == 0 || pr == 0 {
		return ""
	}
	head := fmt.Sprintf("One serial decision cost redis-server %.1f µs of CPU for ratewarden's token bucket against %.1f µs for redis_rate, "+
		"and the client %.1f µs against %.1f µs", mr, pr, mc, pc)
	var more []string
	if mr > pr {
		more = append(more, fmt.Sprintf("redis-server %.1f µs more, for the script, which keeps each window's state with the time of "+
			"its last change, handles several windows and penalties and returns every window's numbers, where redis_rate's keeps one float", mr-pr))
	}
	if mc > pc {
		more = append(more, fmt.Sprintf("the client %.1f µs more, for the store's work around the call (budget, circuit breaker, "+
			"batching, the policy's arguments)", mc-pc))
	}
	if len(more) == 0 {
		return head + ": ratewarden spent no more CPU than redis_rate on either side in these 1-caller runs, and the few µs " +
			"between their paired latencies are below the spread of these CPU figures. Sent alone through go-redis, the same " +
			"script was within about 2 % of redis_rate's; the command's shape (ten arguments and seven replies against four " +
			"and four) and the store's work around the call (budget, circuit breaker, batching, the policy's arguments) are " +
			"what is left (docs/redis.md). The rest of a decision is the round trip (Syscall6 below), " +
			"the same for both."
	}
	return head + ": " + strings.Join(more, "; ") + ". The rest of a decision is the round trip (Syscall6 below), the same for both."
}

// redis64Why says what 3× redis_rate's decisions/s with 64 callers asks of the machine's
// CPUs, from the CPU per decision of lib (ratewarden's algorithm furthest from it) in the
// run.
func (rp *report) redis64Why(peer float64, lib string) string {
	cc, ok1 := rp.run.get(redisBench+"/lib="+lib+"/callers=64", "client-cpu-µs/op")
	rc, ok2 := rp.run.get(redisBench+"/lib="+lib+"/callers=64", "redis-cpu-µs/op")
	if !ok1 || !ok2 || peer == 0 || rc.med == 0 {
		return ""
	}
	want := 3 * peer
	cores := float64(rp.run.procs)
	return fmt.Sprintf("3× redis_rate's %.0f decisions/s is %.0f/s. On %.0f cores shared by the client and redis-server that leaves "+
		"%.1f µs of CPU per decision; %s used %.1f µs in the client and %.1f µs in redis-server "+
		"(%.1f µs), and redis-server, single-threaded, caps it at %.0f decisions/s by itself. Batching already spreads a "+
		"call's fixed cost over ~20 decisions (script calls per decision in the table above); what is left is the script's "+
		"work per decision (for sliding_window, three to five sorted-set commands an admission: docs/redis.md).", peer, want, cores, cores*1e6/want, lib, cc.med, rc.med, cc.med+rc.med, 1e6/rc.med)
}

// redisLibs lists the libraries BenchmarkRedis ran, sorted.
func (rp *report) redisLibs() []string {
	var libs []string
	for _, name := range rp.run.names(redisBench + "/lib=") {
		lib, _, _ := strings.Cut(strings.TrimPrefix(name, redisBench+"/lib="), "/")
		if !slices.Contains(libs, lib) {
			libs = append(libs, lib)
		}
	}
	sort.Strings(libs)
	return libs
}

// memAllocs is the most allocations per decision lib made in any run, serial or parallel:
// SPEC section 9's 0 allocs/op holds for both.
func (rp *report) memAllocs(lib string) float64 {
	most := 0.0
	for _, mode := range []string{"serial", "parallel"} {
		a, _ := rp.run.get(memBench+"/lib="+lib+"/run="+mode, "allocs/op")
		most = max(most, a.max)
	}
	return most
}

// pairedRatio is BenchmarkRedisPaired's ratio for name, ratewarden's latency over
// redis_rate's: the median of the runs' own ratios (each run times the two alternately),
// or the ratio of the two medians when that is higher. The two can disagree by a little;
// the report judges and shows the less favourable, so that its table never shows
// ratewarden slower by the medians beside a ratio that says it is not.
func (rp *report) pairedRatio(name string) float64 {
	ratio, _ := rp.run.get(name, "ratio")
	mine, _ := rp.run.get(name, "ratewarden-ns/decision")
	theirs, _ := rp.run.get(name, "redis_rate-ns/decision")
	return max(ratio.med, mine.med/theirs.med)
}

// ratioUp and ratioDown print a ratio judged against a bound to two decimals, rounded
// away from meeting it: up for an "at most" bound, down for an "at least" one, so that a
// ratio that misses its bound never prints as the bound (2.9994 as "3.00×").
// (The 1e-9 keeps a ratio whose float is a hair off its two decimals, 0.56 as
// 0.5600000000000001, printed as those decimals.)
func ratioUp(x float64) string   { return fmt.Sprintf("%.2f", math.Ceil(x*100-1e-9)/100) }
func ratioDown(x float64) string { return fmt.Sprintf("%.2f", math.Floor(x*100+1e-9)/100) }

// lessThanOne prints a ratio judged against "below 1.0" (the memory targets) away from
// the bound on its side: 0.998 as 0.99, 1.001 as 1.01.
func lessThanOne(x float64) string {
	if x < 1 {
		return ratioDown(x)
	}
	return ratioUp(x)
}

// overhead is the median time a middleware adds to the router's bare route.
func (rp *report) overhead(router, mw string) (float64, bool) {
	bare, ok1 := rp.run.get(mwBench+"/router="+router+"/mw=bare", "ns/op")
	m, ok2 := rp.run.get(mwBench+"/router="+router+"/mw="+mw, "ns/op")
	return m.med - bare.med, ok1 && ok2
}

// allocated says what mw allocates per request over router's bare route, from the run:
// "736 bytes in 2 objects".
func (rp *report) allocated(router, mw string) string {
	bare, _ := rp.run.get(mwBench+"/router="+router+"/mw=bare", "B/op")
	m, _ := rp.run.get(mwBench+"/router="+router+"/mw="+mw, "B/op")
	n := rp.allocOverhead(router, mw)
	if n == 1 {
		return fmt.Sprintf("%.0f bytes in one object", m.med-bare.med)
	}
	return fmt.Sprintf("%.0f bytes in %.0f objects", m.med-bare.med, n)
}

// allocMost is the most allocations mw added to router's bare route in any run: its most
// over bare's fewest. SPEC section 9's bound holds for every request, not the median one.
func (rp *report) allocMost(router, mw string) float64 {
	bare, _ := rp.run.get(mwBench+"/router="+router+"/mw=bare", "allocs/op")
	m, _ := rp.run.get(mwBench+"/router="+router+"/mw="+mw, "allocs/op")
	return m.max - bare.min
}

func (rp *report) allocOverhead(router, mw string) float64 {
	bare, _ := rp.run.get(mwBench+"/router="+router+"/mw=bare", "allocs/op")
	m, _ := rp.run.get(mwBench+"/router="+router+"/mw="+mw, "allocs/op")
	return m.med - bare.med
}

// write renders the report as Markdown.
func (rp *report) write(w io.Writer) {
	r, m := rp.run, rp.machine
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	runs := 0
	for _, s := range r.bench {
		runs = max(runs, len(s["ns/op"]))
	}
	p("# Benchmarks\n\n")
	p("Generated by `make bench-report` (benchmarks/report) from one `go test -bench` run of package\n")
	p("`benchmarks`, every library side by side (SPEC section 9); do not edit by hand. Raw output:\n")
	p("[%s](%s).\n\n", rp.rawName, rp.rawName)
	p("| | |\n|---|---|\n| date | %s |\n| commit | %s |\n| CPU | %s |\n| cores (GOMAXPROCS) | %s (%d) |\n| Go | %s |\n| OS | %s |\n| runs | %d of each benchmark; ranges are min – max, ratios compare medians |\n\n",
		m.Date, m.Commit, m.CPU, m.Cores, r.procs, m.Go, m.OS, runs)
	p("The machine is a shared, noisy 2-vCPU VM: compare rows within this run, not with other runs.\n\n")

	ts := rp.targets()
	p("## SPEC section 9 targets\n\n| target | this run | |\n|---|---|---|\n")
	for _, t := range ts {
		p("| %s | %s | %s |\n", t.What, t.Result, mark(t))
	}
	p("\nThe load and burst targets are judged from `make loadtest`'s result (benchmarks/results/loadtest.json, below; benchmarks/README.md); the accuracy target is asserted by a test, not measured here. " +
		"A Redis target is met only when every algorithm it lists meets it; the serial one is measured on token_bucket and gcra, the two that decide as redis_rate's GCRA does (`BenchmarkRedisPaired`). " +
		"SPEC 9 sets the 100 ns target for a machine whose time.Now() costs at most 25 ns; where it costs more, the report marks it n/a and gives ratewarden's time less its own clock read, for comparison.\n\n")
	for _, c := range rp.charts {
		p("![%s](%s)\n\n", strings.TrimSuffix(c, ".svg"), c)
	}

	rp.writeMemory(p)
	rp.writeGrowth(p)
	rp.writeMiddleware(p)
	rp.writeRedis(p)
	rp.writeLoad(p)

	var missed []target
	for _, t := range ts {
		if !t.Met && !t.NA && t.Profile != "" {
			missed = append(missed, t)
		}
	}
	if len(missed) > 0 {
		p("## Where the time goes, for each target not met\n\n")
		for _, t := range missed {
			kind := "CPU"
			if t.Mem {
				kind = "heap in use"
			}
			p("### %s\n\n", t.What)
			if t.Why != "" {
				p("%s\n\n", t.Why)
			}
			p("%s profile of `-bench '%s'`, top functions:\n\n", kind, t.Profile)
			if prof, ok := rp.profiles[t.Profile]; ok {
				p("```\n%s\n```\n\n", strings.TrimSpace(prof))
			} else {
				p("(not profiled: the report was made from a saved output; run `make bench-report` for profiles)\n\n")
			}
		}
	}
}

func (rp *report) writeMemory(p func(string, ...any)) {
	r := rp.run
	p("## Memory decision, 100,000 live keys\n\n")
	p("ns/op (lower is better); ratio = ratewarden's median over the peer's (below 1.0: ratewarden is faster).")
	if now, ok1 := r.get(clockBench, "ns/op"); ok1 {
		if coarse, ok2 := r.get(memClockBench, "ns/op"); ok2 {
			p(" Each decision includes its library's clock read: ratewarden's is a `core.CoarseClock` (%s here), "+
				"what a `core.Limiter` reads; the peers read `time.Now()` (%s).", ns(coarse.med), ns(now.med))
		}
	}
	p("\n\n| library | serial | ratio | parallel | ratio | allocs/op |\n|---|---|---|---|---|---|\n")
	var faster []string
	for _, lib := range append([]string{ours}, memPeers...) {
		row := []string{lib}
		for _, mode := range []string{"serial", "parallel"} {
			s, ok := r.get(memBench+"/lib="+lib+"/run="+mode, "ns/op")
			me, _ := r.get(memBench+"/lib="+ours+"/run="+mode, "ns/op")
			if !ok {
				row = append(row, "–", "–")
				continue
			}
			ratio := "—"
			if lib != ours {
				ratio = lessThanOne(me.med/s.med) + "×"
				if me.med >= s.med {
					how := map[string]string{"serial": "serially", "parallel": "in parallel"}[mode]
					faster = append(faster, fmt.Sprintf("**%s is faster %s** (%s against ratewarden's %s): %s.", lib, how, ns(s.med), ns(me.med), lessWork[lib]))
				}
			}
			row = append(row, span(s), ratio)
		}
		row = append(row, fmt.Sprintf("%.0f", rp.memAllocs(lib)))
		p("| %s |\n", strings.Join(row, " | "))
	}
	for _, c := range []struct{ bench, read string }{{clockBench, "time.Now()"}, {memClockBench, "core.CoarseClock's Now()"}} {
		if s, ok := r.get(c.bench, "ns/op"); ok {
			p("\n`%s` alone: %s ns.", c.read, span(s))
		}
	}
	p("\n\n")
	for _, f := range faster {
		p("- %s\n", f)
	}
	if len(faster) > 0 {
		p("\nratewarden does per decision what a production limiter needs and these do not: a bounded store (LRU eviction at `memory.max_keys`, sweeping), several windows and penalties per rule, and every window's remaining units and reset time for the headers.\n")
	}
	p("\n")
}

func (rp *report) writeGrowth(p func(string, ...any)) {
	r := rp.run
	var algs []string
	for name := range r.bench {
		if rest, ok := strings.CutPrefix(name, growthBench+"/alg="); ok {
			alg, _, _ := strings.Cut(rest, "/")
			if !slices.Contains(algs, alg) {
				algs = append(algs, alg)
			}
		}
	}
	if len(algs) == 0 {
		return
	}
	sort.Strings(algs)
	p("## Cost growth of the memory store\n\nns/op of a serial decision and heap bytes per key, at each number of live keys.\n\n")
	p("| algorithm |")
	for _, n := range growthN {
		p(" %s keys ns/op | B/key |", n)
	}
	p("\n|---|" + strings.Repeat("---|---|", len(growthN)) + "\n")
	for _, alg := range algs {
		p("| %s |", alg)
		for _, n := range growthN {
			s, ok1 := r.get(growthBench+"/alg="+alg+"/keys="+n, "ns/op")
			b, ok2 := r.get(growthBench+"/alg="+alg+"/keys="+n, "B/key")
			if !ok1 || !ok2 {
				p(" – | – |")
				continue
			}
			p(" %s | %.0f |", span(s), b.med)
		}
		p("\n")
	}
	p("\nGrowth in ns/op from 100k to 1M keys is cache and TLB misses: the keys' state no longer fits in the CPU caches.\n\n")
}

func (rp *report) writeMiddleware(p func(string, ...any)) {
	r := rp.run
	p("## Middleware overhead over the bare router\n\n")
	p("ns/op of one request (min – max); overhead = the middleware's median minus bare's; the last column is ratewarden's overhead divided by that middleware's (below 1.0: ratewarden adds less).\n\n")
	p("| router | middleware | ns/op | allocs/op | overhead | allocs added | ratewarden's overhead ÷ this |\n|---|---|---|---|---|---|---|\n")
	var faster []string
	for _, rt := range routers {
		mine, _ := rp.overhead(rt, ours)
		for _, mw := range append([]string{"bare", ours}, mwPeers...) {
			s, ok := r.get(mwBench+"/router="+rt+"/mw="+mw, "ns/op")
			if !ok {
				continue
			}
			a, _ := r.get(mwBench+"/router="+rt+"/mw="+mw, "allocs/op")
			if mw == "bare" {
				p("| %s | bare | %s | %.0f | — | — | — |\n", rt, span(s), a.med)
				continue
			}
			ov, _ := rp.overhead(rt, mw)
			ratio := "—"
			if mw != ours && ov <= 0 {
				ratio = "— (no overhead over bare in this run)"
			} else if mw != ours {
				ratio = fmt.Sprintf("%.2f×", mine/ov)
				if ov <= mine {
					// In ns, not µs: at two decimals of a µs, equal-looking overheads read as a
					// contradiction (+2.27 µs against +2.27 µs).
					faster = append(faster, fmt.Sprintf("**%s adds no more than ratewarden on %s** (+%.0f ns against +%.0f ns): %s.", mw, rt, ov, mine, mwLessWork[mw]))
				}
			}
			p("| %s | %s | %s | %.0f | +%s | +%.0f | %s |\n", rt, mw, span(s), a.med, ns(ov), rp.allocOverhead(rt, mw), ratio)
		}
	}
	p("\n")
	for _, f := range faster {
		p("- %s\n", f)
	}
	var floors []string
	for _, rt := range routers {
		if f, ok := rp.overhead(rt, floorMW); ok {
			floors = append(floors, fmt.Sprintf("+%s on %s", ns(f), rt))
		}
	}
	if len(floors) > 0 {
		p("\nThe floor (`mw=floor`, an instrument rather than a limiter, so in no table: the request copy carrying a decision, one memory-store decision on a key made in advance, six constant headers; benchmarks/README.md) added %s in this run.\n", strings.Join(floors, ", "))
	}
	p("\nratewarden resolves the client through trusted proxies (IPv6 by /64), matches the request to a rule and writes six headers (X-RateLimit-Limit, -Remaining, -Reset, -Used, RateLimit, RateLimit-Policy).\n\n")
}

// writeRedis renders BenchmarkRedis: per number of callers, each library's decisions/s,
// its ratio to redis_rate's, and the CPU and script calls per decision.
func (rp *report) writeRedis(p func(string, ...any)) {
	r := rp.run
	libs := rp.redisLibs()
	if len(libs) == 0 {
		return
	}
	p("## Redis decisions\n\n")
	p("One local redis-server, 10,000 keys, every decision admitted; `callers` decide at once. decisions/s (higher is better, min – max); ratio = the library's median over redis_rate's; CPU per decision of the benchmark process (client) and of redis-server (medians); script calls per decision (below 1: batched). The notes below the table compare medians.\n\n")
	p("| library | callers | decisions/s | ÷ redis_rate | client CPU µs | Redis CPU µs | script calls |\n|---|---|---|---|---|---|---|\n")
	var faster []string
	for _, callers := range []string{"1", "16", "64"} {
		peer, _ := r.get(redisBench+"/lib="+redisPeer+"/callers="+callers, "decisions/s")
		faster = append(faster, rp.redisFaster(libs, callers)...)
		for _, lib := range libs {
			name := redisBench + "/lib=" + lib + "/callers=" + callers
			s, ok := r.get(name, "decisions/s")
			if !ok {
				continue
			}
			ratio := "—"
			if lib != redisPeer && peer.med > 0 {
				ratio = fmt.Sprintf("%.2f×", s.med/peer.med)
			}
			cc, _ := r.get(name, "client-cpu-µs/op")
			rc, _ := r.get(name, "redis-cpu-µs/op")
			sc, _ := r.get(name, "script-calls/op")
			p("| %s | %s | %s | %s | %.1f | %.1f | %.3f |\n", lib, callers, span(s), ratio, cc.med, rc.med, sc.med)
		}
	}
	if names := r.names(pairedBench + "/"); len(names) > 0 {
		p("\nSerial latency, each decision timed alternately with redis_rate's on the same key (`BenchmarkRedisPaired`, medians):\n\n")
		p("| algorithm | ratewarden | redis_rate | ratio |\n|---|---|---|---|\n")
		for _, name := range names {
			ours, _ := r.get(name, "ratewarden-ns/decision")
			theirs, _ := r.get(name, "redis_rate-ns/decision")
			ratio := rp.pairedRatio(name)
			alg := strings.TrimPrefix(name, pairedBench+"/")
			p("| %s | %s | %s | %s× |\n", alg, ns(ours.med), ns(theirs.med), ratioUp(ratio))
			if ratio > 1 {
				faster = append(faster, fmt.Sprintf("**redis_rate is faster serially than ratewarden's %s** (%s against %s a decision): %s.", alg, ns(theirs.med), ns(ours.med), redisLessWork[redisPeer]))
			}
		}
	}
	if len(faster) > 0 {
		p("\n")
	}
	for _, f := range faster {
		p("- %s\n", f)
	}
	p("\nratewarden decides each request under its budget and circuit breaker and returns every window's remaining, reset and retry-after; concurrent decisions share batched script calls (docs/redis.md).\n\n")
}

// redisFaster says which Redis peers decided more per second than ratewarden, with callers
// callers, and than which of its algorithms, and why they do less work.
func (rp *report) redisFaster(libs []string, callers string) []string {
	rate := func(lib string) (stat, bool) {
		return rp.run.get(redisBench+"/lib="+lib+"/callers="+callers, "decisions/s")
	}
	var out []string
	for _, peer := range libs {
		s, ok := rate(peer)
		if strings.HasPrefix(peer, ours) || !ok {
			continue
		}
		var algs []string
		lo, hi, all := 0.0, 0.0, 0
		for _, lib := range libs {
			me, ok := rate(lib)
			if !strings.HasPrefix(lib, ours) || !ok {
				continue
			}
			if all++; me.med >= s.med {
				continue
			}
			algs = append(algs, strings.TrimPrefix(lib, ours+"-"))
			if len(algs) == 1 || me.med < lo {
				lo = me.med
			}
			hi = max(hi, me.med)
		}
		if len(algs) == 0 {
			continue
		}
		who := "caller"
		if callers != "1" {
			who = "callers"
		}
		against := fmt.Sprintf("%.0f", lo)
		if hi > lo {
			against += fmt.Sprintf(" – %.0f", hi)
		}
		than := "ratewarden's " + strings.Join(algs, ", ")
		if len(algs) == all && all > 1 {
			than = "ratewarden with every algorithm"
		}
		out = append(out, fmt.Sprintf("**%s is faster with %s %s than %s** (%.0f decisions/s against %s): %s.",
			peer, callers, who, than, s.med, against, redisLessWork[peer]))
	}
	return out
}
