package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The load test's result, benchmarks/results/loadtest.json (`make loadtest`; its fields are
// described in benchmarks/README.md): read, checked whole, judged against SPEC section 9's
// load and burst targets, and rendered. The verdicts are the report's own, from the
// result's measurements; the verdicts the result records itself (target_met,
// decided_by_redis, added_latency_us) are not read, so that a result written by another
// version, or edited, is judged by the same rules as this one.

// SPEC section 9's load and burst targets.
const (
	loadClients   = 100  // concurrent clients, at least
	loadRate      = 1000 // requests per second, at least: the rate asked of the attacker
	burstRequests = 1500 // concurrent requests of a burst, at least
	// achievedShare is the part of loadRate a scenario's achieved rate must reach: vegeta
	// counts the last responses' latency in the duration it divides by, so a steady 1,000
	// requests a second achieves 999.95 of them.
	achievedShare = 0.99
)

// loadBackends are the backends the load test must cover, each with the bound on its
// scenarios' added p95 latency in µs (below it); loadRoutes the routes it must cover on
// each (the bare route is every scenario's baseline, not a scenario).
var (
	loadBackends = []string{"memory", "redis"}
	loadP95      = map[string]float64{"memory": 1000, "redis": 2000}
	loadRoutes   = []string{"limited", "denied"}
)

// The fields of the result a verdict or a row reads. A result that lacks one is refused:
// a missing count would read as 0, which passes every check.
var (
	resultFields     = []string{"clients", "scenarios", "bursts"}
	scenarioFields   = []string{"backend", "route", "rate", "achieved_rate", "requests", "limit_per_client", "expected_admitted", "admitted", "denied", "errors", "latency_us", "bare_latency_us"}
	burstFields      = []string{"requests", "limit", "admitted", "failed_open", "denied", "other", "redis_errors", "breaker_transitions", "redis_error_log_records", "latency_us"}
	percentileFields = []string{"p50", "p95", "p99"}
)

// loadResult is the part of the load test's result the report reads.
type loadResult struct {
	Date      string `json:"date"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
	Machine   struct {
		CPUs       int    `json:"cpus"`
		CPUModel   string `json:"cpu_model"`
		LoadBefore string `json:"load_average_before"`
	} `json:"machine"`
	Clients   int            `json:"clients"`
	Scenarios []loadScenario `json:"scenarios"`
	Bursts    []loadBurst    `json:"bursts"`
}

// loadScenario is one scenario of the load test: a route of one backend at one rate, its
// requests interleaved with as many on the bare route.
type loadScenario struct {
	Backend        string      `json:"backend"`
	Route          string      `json:"route"`
	Rate           int         `json:"rate"`
	Achieved       float64     `json:"achieved_rate"`
	Requests       int         `json:"requests"`
	LimitPerClient int         `json:"limit_per_client"`
	Expected       int         `json:"expected_admitted"`
	Admitted       int         `json:"admitted"`
	Denied         int         `json:"denied"`
	Errors         int         `json:"errors"`
	Latency        percentiles `json:"latency_us"`
	Bare           percentiles `json:"bare_latency_us"`
}

// loadBurst is one burst of the load test.
type loadBurst struct {
	Requests    int            `json:"requests"`
	Limit       int            `json:"limit"`
	Admitted    int            `json:"admitted"`
	FailedOpen  int            `json:"failed_open"`
	Denied      int            `json:"denied"`
	Other       int            `json:"other"`
	RedisErrors map[string]int `json:"redis_errors"`
	ErrorLog    int            `json:"redis_error_log_records"`
	Latency     percentiles    `json:"latency_us"`
	Breaker     []string       `json:"breaker_transitions"`
}

type percentiles struct{ P50, P95, P99 float64 }

// parseLoad reads the load test's result from b, the contents of the file name, and
// refuses one that is not whole: not an object, a field a verdict reads missing, or a
// count, rate or number of clients below 0 (or 0 where it must be more).
func parseLoad(name string, b []byte) (*loadResult, error) {
	var r loadResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s is not a load-test result: %w", name, err)
	}
	if problems := checkLoad(b, &r); len(problems) > 0 {
		return nil, fmt.Errorf("%s is not a whole load-test result:\n  %s", name, strings.Join(problems, "\n  "))
	}
	return &r, nil
}

// checkLoad lists what makes b, parsed as r, not a whole load-test result.
func checkLoad(b []byte, r *loadResult) []string {
	var raw struct {
		Scenarios []map[string]json.RawMessage `json:"scenarios"`
		Bursts    []map[string]json.RawMessage `json:"bursts"`
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil || top == nil || json.Unmarshal(b, &raw) != nil {
		return []string{"not a JSON object"}
	}
	var problems []string
	var missing func(where string, m map[string]json.RawMessage, fields []string)
	missing = func(where string, m map[string]json.RawMessage, fields []string) {
		for _, f := range fields {
			v, ok := m[f]
			if !ok {
				problems = append(problems, where+": no "+f)
				continue
			}
			if strings.HasSuffix(f, "latency_us") {
				var p map[string]json.RawMessage
				if json.Unmarshal(v, &p) != nil || p == nil {
					problems = append(problems, where+": "+f+" is not an object")
					continue
				}
				missing(where+" "+f, p, percentileFields)
			}
		}
	}
	missing("the result", top, resultFields)
	for i, s := range raw.Scenarios {
		missing(fmt.Sprintf("scenario %d", i+1), s, scenarioFields)
	}
	for i, b := range raw.Bursts {
		missing(fmt.Sprintf("burst %d", i+1), b, burstFields)
	}
	negative := func(where string, counts map[string]float64) {
		for _, k := range slices.Sorted(maps.Keys(counts)) {
			if counts[k] < 0 {
				problems = append(problems, fmt.Sprintf("%s: %s %v below 0", where, k, counts[k]))
			}
		}
	}
	if r.Clients <= 0 {
		problems = append(problems, fmt.Sprintf("the result: clients %d", r.Clients))
	}
	for i, s := range r.Scenarios {
		if s.Rate <= 0 || s.Requests <= 0 {
			problems = append(problems, fmt.Sprintf("scenario %d: rate %d, requests %d: no load", i+1, s.Rate, s.Requests))
		}
		negative(fmt.Sprintf("scenario %d", i+1), map[string]float64{"achieved_rate": s.Achieved, "limit_per_client": float64(s.LimitPerClient),
			"expected_admitted": float64(s.Expected), "admitted": float64(s.Admitted), "denied": float64(s.Denied), "errors": float64(s.Errors)})
	}
	for i, b := range r.Bursts {
		counts := map[string]float64{"requests": float64(b.Requests), "limit": float64(b.Limit), "admitted": float64(b.Admitted),
			"failed_open": float64(b.FailedOpen), "denied": float64(b.Denied), "other": float64(b.Other), "redis_error_log_records": float64(b.ErrorLog)}
		for k, n := range b.RedisErrors {
			counts["redis_errors."+k] = float64(n)
		}
		negative(fmt.Sprintf("burst %d", i+1), counts)
	}
	return problems
}

// added is the latency the route adds to the bare route's, per percentile.
func (s loadScenario) added() percentiles {
	return percentiles{s.Latency.P50 - s.Bare.P50, s.Latency.P95 - s.Bare.P95, s.Latency.P99 - s.Bare.P99}
}

// counted reports whether the scenario's counts hold together with clients clients: no
// error, every request admitted or denied, and exactly the admissions its limit allows
// (clients × min(limit per client, requests per client)), admitted.
func (s loadScenario) counted(clients int) bool {
	want := clients * min(s.LimitPerClient, s.Requests/clients)
	return s.Errors == 0 && s.Admitted+s.Denied == s.Requests && s.Expected == want && s.Admitted == want
}

// met reports whether the scenario meets SPEC section 9 by its numbers, with clients
// clients: counted, at least loadRate requests a second asked and achievedShare of it
// achieved, and an added p95 below its backend's bound.
func (s loadScenario) met(clients int) bool {
	bound, ok := loadP95[s.Backend]
	return ok && s.counted(clients) && s.Rate >= loadRate && s.Achieved >= achievedShare*loadRate && s.added().P95 < bound
}

// decided reports whether Redis decided the burst by its numbers: at least burstRequests
// requests, every one admitted or denied (none failed open or answered otherwise), the
// limit admitted exactly, no Redis error counted or logged, and the breaker never out of
// closed.
func (b loadBurst) decided() bool {
	errs := 0
	for _, n := range b.RedisErrors {
		errs += n
	}
	return b.Requests >= burstRequests && b.FailedOpen == 0 && b.Other == 0 && errs == 0 && b.ErrorLog == 0 &&
		len(b.Breaker) == 0 && b.Admitted == b.Limit && b.Admitted+b.Denied == b.Requests
}

// loadTargets judges the load test's result against SPEC section 9's load and burst
// targets, and names the test that asserts the accuracy target. Without a result both
// are not met.
func (rp *report) loadTargets() []target {
	ts := []target{{What: "accuracy: 3 instances sharing Redis, concurrent clients, 0 over-admission",
		Result: "not measured by this report", By: "`TestDistributedAccuracy` (backends/redisstore, run by `make test`)"}}
	load := target{What: "load: 100 clients at ≥ 1,000 req/s, p95 added < 1 ms (memory), < 2 ms (redis), admissions exact"}
	burst := target{What: "a burst of 1,500 concurrent requests on one instance, default settings, decided by Redis (no timeout, breaker closed)"}
	r := rp.load
	if r == nil {
		load.Result = "no load-test result (`make loadtest` writes one)"
		burst.Result = load.Result
		return append(ts, load, burst)
	}
	var missed, notes []string
	if r.Clients < loadClients {
		notes = append(notes, fmt.Sprintf("%d clients, not %d", r.Clients, loadClients))
	}
	for _, backend := range loadBackends {
		for _, route := range loadRoutes {
			if !slices.ContainsFunc(r.Scenarios, func(s loadScenario) bool {
				return s.Backend == backend && s.Route == route && s.Rate >= loadRate
			}) {
				notes = append(notes, fmt.Sprintf("no %s %s scenario at ≥ %d req/s", backend, route, loadRate))
			}
		}
	}
	for _, s := range r.Scenarios {
		if !s.met(r.Clients) {
			missed = append(missed, fmt.Sprintf("%s %s at %d req/s", s.Backend, s.Route, s.Rate))
		}
	}
	load.Met = len(missed) == 0 && len(notes) == 0
	load.Result = fmt.Sprintf("%d of %d scenarios met", len(r.Scenarios)-len(missed), len(r.Scenarios))
	if len(missed) > 0 {
		load.Result += "; not: " + strings.Join(missed, ", ")
	}
	if len(notes) > 0 {
		load.Result += "; " + strings.Join(notes, "; ")
	}
	decided, failedOpen := 0, 0
	for _, b := range r.Bursts {
		if b.decided() {
			decided++
		}
		failedOpen += b.FailedOpen
	}
	burst.Met = len(r.Bursts) > 0 && decided == len(r.Bursts)
	burst.Result = fmt.Sprintf("decided by Redis in %d of %d runs; %d requests failed open in all", decided, len(r.Bursts), failedOpen)
	return append(ts, load, burst)
}

// writeLoad renders the load test's result: one row per scenario, one per burst.
func (rp *report) writeLoad(p func(string, ...any)) {
	p("## Load test\n\n")
	r := rp.load
	if r == nil {
		p("No load-test result under benchmarks/results (`make loadtest` writes one); this section is empty.\n\n")
		return
	}
	p("From %s: %s, commit %s, %s, %d CPUs (%s), load average %s before the run; %d clients.\n\n",
		rp.loadName, r.Date, r.Commit, r.GoVersion, r.Machine.CPUs, r.Machine.CPUModel, r.Machine.LoadBefore, r.Clients)
	p("Added latency is the route's percentile less the interleaved bare route's.\n\n")
	p("| backend | route | req/s | admitted (expected) | denied | errors | added p50 | added p95 | added p99 | p95 target |\n")
	p("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Scenarios {
		met := "met"
		switch {
		case !s.counted(r.Clients):
			met = "**not met** (errors or inexact admissions)"
		case !s.met(r.Clients):
			met = "**not met**"
		}
		a := s.added()
		p("| %s | %s | %d | %d (%d) | %d | %d | %+.0f µs | %+.0f µs | %+.0f µs | < %.0f µs: %s |\n",
			s.Backend, s.Route, s.Rate, s.Admitted, s.Expected, s.Denied, s.Errors, a.P50, a.P95, a.P99, loadP95[s.Backend], met)
	}
	if len(r.Bursts) > 0 {
		p("\nBursts of concurrent requests on one key, default settings:\n\n")
		p("| requests | limit | admitted by Redis | failed open (admitted undecided) | denied | Redis errors | breaker | p50 | p99 | decided by Redis |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, b := range r.Bursts {
			errs := 0
			for _, n := range b.RedisErrors {
				errs += n
			}
			breaker := "closed"
			if len(b.Breaker) > 0 {
				breaker = strings.Join(b.Breaker, ", ")
			}
			p("| %d | %d | %d | %d | %d | %d | %s | %.0f ms | %.0f ms | %v |\n", b.Requests, b.Limit, b.Admitted, b.FailedOpen, b.Denied, errs,
				breaker, b.Latency.P50/1000, b.Latency.P99/1000, b.decided())
		}
	}
	p("\n")
}
