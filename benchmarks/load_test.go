package benchmarks

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
)

// The load test of SPEC section 9 (make loadtest): an example app runs as its own
// process, on the memory and on the Redis backend, and the vegeta library drives it from
// 100 clients at 1,000 and 2,000 requests per second on a limited route and on a denied
// one, each interleaved with as many requests of 100 other clients on a bare route, so
// that both see the same moments of a noisy machine; then a burst of 1,500 concurrent requests hits the app on Redis
// with the default settings. It measures, prints a table and writes a JSON file; it
// asserts no timing (STYLE.md: speed is shown, never asserted by a timed test). It fails
// only when an answer is wrong: a status or header other than expected, a transport
// error, or admissions other than the limits allow, exactly.
const (
	loadEnv      = "RATEWARDEN_LOAD"          // "1" runs TestLoad
	loadOutEnv   = "RATEWARDEN_LOAD_OUT"      // the JSON file; default loadOut
	loadAppEnv   = "RATEWARDEN_LOAD_APP"      // an app binary to measure instead of building examples/gin
	loadDurEnv   = "RATEWARDEN_LOAD_DURATION" // per scenario; default loadDuration
	loadOut      = "results/loadtest.json"
	loadApp      = "github.com/ratewarden/ratewarden/examples/gin"
	loadClients  = 100
	loadDuration = 10 * time.Second
	loadTimeout  = 5 * time.Second // per request
	loadNoLimit  = 1_000_000       // per minute: the default rule, which no scenario uses

	burstRequests = 1500
	burstLimit    = 5 // per hour, the one client of the burst
	burstRuns     = 3
	burstTimeout  = 10 * time.Second // per request: a hung request is counted, not waited for
)

var loadRates = []int{1000, 2000}

// loadTargetsUS are SPEC 9's bounds on the p95 latency a limiter adds, in µs.
var loadTargetsUS = map[string]float64{"memory": 1000, "redis": 2000}

// loadRoute is one scenario's route and clients. Client i (0–99) sends X-Forwarded-For
// net+(i+1), which the app believes since the request comes from the trusted 127.0.0.1.
type loadRoute struct {
	name  string // bare | limited | denied
	path  string
	net   string
	limit func(perClient int) int // per client and hour; nil: the clients are exempted
}

// loadBare is the reference every route is measured against: /api/v1/test for clients in
// the exempted 198.18.0.0/24 — the same router, middleware and handler, but no decision
// and no headers (SPEC section 1, step 3).
var loadBare = loadRoute{name: "bare", path: "/api/v1/test", net: "198.18.0."}

// loadRoutes: limited is /api/v1/test for other clients, each allowed 90 % of its
// requests, so that every client is admitted exactly its limit and then denied; denied is
// /api/v1/compute, one request per client and hour, so that all but each client's first
// are denied.
var loadRoutes = []loadRoute{
	{name: "limited", path: "/api/v1/test", net: "10.1.0.", limit: func(n int) int { return n * 9 / 10 }},
	{name: "denied", path: "/api/v1/compute", net: "10.2.0.", limit: func(int) int { return 1 }},
}

// loadReport is the JSON file benchmarks/README.md describes.
type loadReport struct {
	Date         string          `json:"date"`
	Commit       string          `json:"commit,omitempty"`
	GoVersion    string          `json:"go_version"`
	Machine      loadMachine     `json:"machine"`
	RedisVersion string          `json:"redis_version"`
	App          string          `json:"app"`
	Clients      int             `json:"clients"`
	Scenarios    []*loadScenario `json:"scenarios"`
	Bursts       []*loadBurst    `json:"bursts"`
}

type loadMachine struct {
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	CPUs        int    `json:"cpus"`
	CPUModel    string `json:"cpu_model,omitempty"`
	Kernel      string `json:"kernel,omitempty"`
	LoadBefore  string `json:"load_average_before,omitempty"`
	LoadAfter   string `json:"load_average_after,omitempty"`
	SharedCores bool   `json:"shared_cores"` // the load generator, the app and redis-server share the machine
}

// loadScenario is one route driven at one rate on one backend.
type loadScenario struct {
	Backend   string  `json:"backend"`
	Route     string  `json:"route"`
	Path      string  `json:"path"`
	Rate      int     `json:"rate"`          // target, requests per second
	Achieved  float64 `json:"achieved_rate"` // requests sent per second, first send to last
	DurationS float64 `json:"duration_s"`
	Requests  int     `json:"requests"`
	// LimitPerClient is each client's limit per hour on the route.
	LimitPerClient   int `json:"limit_per_client"`
	ExpectedAdmitted int `json:"expected_admitted"` // clients × min(limit, requests per client)
	Admitted         int `json:"admitted"`          // 200
	Denied           int `json:"denied"`            // 429
	// Errors counts any other answer, transport errors and wrong headers, on the route
	// and on bare.
	Errors int `json:"errors"`
	// LatencyUS is over every response of the route, from sending the request to reading
	// its body; BareLatencyUS over the bare requests interleaved with them.
	LatencyUS     loadLatency `json:"latency_us"`
	BareLatencyUS loadLatency `json:"bare_latency_us"`
	// AddedUS is LatencyUS minus BareLatencyUS.
	AddedUS loadLatency `json:"added_latency_us"`
	// TargetAddedP95US is SPEC 9's bound on AddedUS.P95 and TargetMet whether it holds.
	TargetAddedP95US float64 `json:"target_added_p95_us"`
	TargetMet        bool    `json:"target_met"`

	perClient []int // admitted per client
	wrong     []string
}

type loadLatency struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// loadBurst is one burst of concurrent requests on Redis with the default settings.
type loadBurst struct {
	Requests int `json:"requests"`
	Limit    int `json:"limit"`
	// Admitted counts the 200s decided by Redis (with rate-limit headers); FailedOpen
	// the 200s without them, admitted by fail_mode "open" because Redis did not decide.
	Admitted   int `json:"admitted"`
	FailedOpen int `json:"failed_open"`
	Denied     int `json:"denied"`
	Other      int `json:"other"` // other statuses and transport errors
	// RedisErrors is the increase of ratelimit_redis_errors_total by kind during the
	// burst (timeout, connection, script, circuit_open, other).
	RedisErrors map[string]float64 `json:"redis_errors"`
	// Breaker lists the circuit breaker's transitions the app logged ("closed→open").
	Breaker       []string    `json:"breaker_transitions"`
	RedisErrorLog int         `json:"redis_error_log_records"`
	LatencyUS     loadLatency `json:"latency_us"`
	// DecidedByRedis: every request answered by Redis (no failure, no open breaker),
	// exactly the limit admitted — SPEC 9's burst target.
	DecidedByRedis bool `json:"decided_by_redis"`
}

// TestLoad runs the SPEC section 9 load test and writes its JSON report. It is skipped
// unless RATEWARDEN_LOAD=1 (make loadtest).
func TestLoad(t *testing.T) {
	if os.Getenv(loadEnv) != "1" {
		t.Skip("load test (SPEC 9), about 3 minutes: run it with `make loadtest`")
	}
	dur := loadDuration
	if s := os.Getenv(loadDurEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Second {
			t.Fatalf("%s=%q: want a duration of at least 1s", loadDurEnv, s)
		}
		dur = d
	}
	bin := os.Getenv(loadAppEnv)
	if bin == "" {
		var err error
		if bin, err = buildApp(t.TempDir(), loadApp); err != nil {
			t.Fatal(err)
		}
	}
	srv := redistest.StartServer(t)
	rep := &loadReport{
		Date:         time.Now().UTC().Format(time.RFC3339),
		Commit:       gitCommit(),
		GoVersion:    runtime.Version(),
		Machine:      machine(),
		RedisVersion: redisVersion(t, srv),
		App:          bin,
		Clients:      loadClients,
	}
	if os.Getenv(loadAppEnv) == "" {
		rep.App = loadApp
	}

	for _, rate := range loadRates {
		for _, backend := range []string{"memory", "redis"} {
			perClient := rate * int(dur/time.Second) / loadClients
			app := startApp(t, bin, loadConfig(backend, rate, perClient, srv.Addr()))
			for _, rt := range loadRoutes {
				sc := runScenario(t, app.URL, backend, rt, rate, perClient)
				sc.AddedUS = loadLatency{
					P50: sc.LatencyUS.P50 - sc.BareLatencyUS.P50,
					P95: sc.LatencyUS.P95 - sc.BareLatencyUS.P95,
					P99: sc.LatencyUS.P99 - sc.BareLatencyUS.P99,
				}
				sc.TargetAddedP95US = loadTargetsUS[backend]
				sc.TargetMet = sc.AddedUS.P95 < sc.TargetAddedP95US
				checkScenario(t, sc)
				rep.Scenarios = append(rep.Scenarios, sc)
			}
			stopApp(t, app)
		}
	}
	for i := range burstRuns {
		rep.Bursts = append(rep.Bursts, runBurst(t, bin, srv.Addr(), i))
	}
	rep.Machine.LoadAfter = loadAverage()

	t.Log("\n" + scenarioTable(rep.Scenarios) + "\n" + burstTable(rep.Bursts))
	out := os.Getenv(loadOutEnv)
	if out == "" {
		out = loadOut
	}
	writeReport(t, out, rep)
}

// loadConfig is the app's configuration for the scenarios: the limited and denied rules,
// the bare clients exempted, 127.0.0.1 a trusted proxy. On Redis, fail_mode "closed":
// a decision Redis did not make is a 503, an error here, not a 200 that would pass for a
// fast admission. Every app gets key_prefix of its own.
func loadConfig(backend string, rate, perClient int, redisAddr string) string {
	cfg := fmt.Sprintf(`backend    = %q
key_prefix = "load-%s-%d-%d"

[default]
limit  = %d
window = "1m"

[[endpoints]]
name    = "limited"
pattern = %q
limit   = %d
window  = "1h"

[[endpoints]]
name    = "denied"
pattern = %q
limit   = %d
window  = "1h"

[client_ip]
trusted_proxies = ["127.0.0.1/32"]

[exemptions]
ips = ["198.18.0.0/24"]
`, backend, backend, rate, time.Now().UnixNano(), loadNoLimit,
		loadRoutes[0].path, loadRoutes[0].limit(perClient), loadRoutes[1].path, loadRoutes[1].limit(perClient))
	if backend == "redis" {
		cfg = `fail_mode = "closed"` + "\n" + cfg + fmt.Sprintf("\n[redis]\naddrs = [%q]\n", redisAddr)
	}
	return cfg
}

// buildApp compiles the package pkg into dir (from the workspace: the benchmarks module
// does not require the examples module, which is not released) and returns the binary.
func buildApp(dir, pkg string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %w", pkg, err)
	}
	return out, nil
}

// loadProc is the app running as a child process, its JSON logs (stderr) in a file.
type loadProc struct {
	URL    string
	cmd    *exec.Cmd
	logs   string
	exited chan struct{}
}

// startApp writes cfg to a file and starts the app on it, on a free loopback port, and
// waits until it answers GET /metrics.
func startApp(t *testing.T, bin, cfg string) *loadProc {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "ratewarden.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	logs, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close() // the child has its own descriptor
	app := &loadProc{URL: "http://" + addr, logs: logs.Name(), exited: make(chan struct{})}
	app.cmd = exec.Command(bin, "-config", path, "-addr", addr)
	app.cmd.Stderr = logs
	if err := app.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.cmd.Wait(); close(app.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(app.URL + "/metrics"); err == nil {
			_ = resp.Body.Close()
			return app
		}
		select {
		case <-app.exited:
			t.Fatalf("app exited before answering: %s", app.Stderr())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = app.cmd.Process.Kill()
			<-app.exited
			t.Fatalf("app did not answer within 30s: %s", app.Stderr())
		}
	}
}

// Stderr is what the app has logged so far.
func (a *loadProc) Stderr() string {
	b, _ := os.ReadFile(a.logs)
	return string(b)
}

// stopApp stops the app with SIGTERM and requires a graceful exit (status 0).
func stopApp(t *testing.T, app *loadProc) {
	t.Helper()
	_ = app.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-app.exited:
	case <-time.After(30 * time.Second):
		_ = app.cmd.Process.Kill()
		<-app.exited
	}
	if code := app.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("app exit status %d\nstderr (end):\n%s", code, tail(app.Stderr(), 2000))
	}
}

// countPacer paces like vegeta's ConstantPacer and stops after n hits: every scenario
// sends exactly n requests, so each client sends exactly n/100.
type countPacer struct {
	vegeta.ConstantPacer
	n uint64
}

func (p countPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.n {
		return 0, true
	}
	return p.ConstantPacer.Pace(elapsed, hits)
}

// runScenario drives one route at rate requests per second from loadClients clients,
// perClient requests each (round robin), and bare at the same rate from loadClients other
// clients, the two interleaved request by request: 2 × rate requests per second in all,
// with at most 2 × loadClients in flight, on connections opened beforehand.
func runScenario(t *testing.T, base, backend string, rt loadRoute, rate, perClient int) *loadScenario {
	t.Helper()
	const conns = 2 * loadClients
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: loadTimeout}
	warm(client, base+"/metrics", conns)

	sc := &loadScenario{
		Backend: backend, Route: rt.name, Path: rt.path, Rate: rate,
		Requests: perClient * loadClients, perClient: make([]int, loadClients),
		LimitPerClient: rt.limit(perClient),
	}
	sc.ExpectedAdmitted = loadClients * min(sc.LimitPerClient, perClient)
	routes := [2]loadRoute{rt, loadBare}
	var next atomic.Uint64
	targeter := func(tgt *vegeta.Target) error {
		k := next.Add(1) - 1
		r, c := routes[k%2], int(k/2%loadClients)
		*tgt = vegeta.Target{
			Method: http.MethodGet,
			URL:    base + r.path + "?route=" + r.name + "&client=" + strconv.Itoa(c),
			Header: http.Header{"X-Forwarded-For": {r.net + strconv.Itoa(c+1)}},
		}
		return nil
	}
	atk := vegeta.NewAttacker(vegeta.Client(client), vegeta.Workers(conns), vegeta.MaxWorkers(conns))
	pacer := countPacer{vegeta.ConstantPacer{Freq: 2 * rate, Per: time.Second}, uint64(2 * sc.Requests)}
	var lat, bareLat []time.Duration
	var first, last time.Time
	var answers int
	wantLimit := strconv.Itoa(sc.LimitPerClient)
	for res := range atk.Attack(targeter, pacer, 0, rt.name) {
		q := url.Values{}
		if u, err := url.Parse(res.URL); err == nil {
			q = u.Query()
		}
		bare := q.Get("route") == loadBare.name
		if !bare {
			if first.IsZero() || res.Timestamp.Before(first) {
				first = res.Timestamp
			}
			if res.Timestamp.After(last) {
				last = res.Timestamp
			}
			answers++
		}
		if res.Code == 0 {
			sc.Errors++
			sc.wrong = append(sc.wrong, "transport: "+res.Error)
			continue
		}
		if bare {
			bareLat = append(bareLat, res.Latency)
			if res.Code != http.StatusOK || res.Headers.Get("X-RateLimit-Limit") != "" {
				sc.Errors++
				sc.wrong = append(sc.wrong, fmt.Sprintf("bare: status %d, X-RateLimit-Limit %q: want 200 and none", res.Code, res.Headers.Get("X-RateLimit-Limit")))
			}
			continue
		}
		lat = append(lat, res.Latency)
		switch res.Code {
		case http.StatusOK:
			sc.Admitted++
			if c, err := strconv.Atoi(q.Get("client")); err == nil {
				sc.perClient[c]++
			}
		case http.StatusTooManyRequests:
			sc.Denied++
		default:
			sc.Errors++
			sc.wrong = append(sc.wrong, fmt.Sprintf("status %d: %s", res.Code, res.Body))
			continue
		}
		if got := res.Headers.Get("X-RateLimit-Limit"); got != wantLimit {
			sc.Errors++
			sc.wrong = append(sc.wrong, fmt.Sprintf("status %d: X-RateLimit-Limit %q, want %q", res.Code, got, wantLimit))
		}
	}
	if answers > 1 {
		sc.DurationS = last.Sub(first).Seconds()
		sc.Achieved = float64(answers-1) / sc.DurationS
	}
	sc.LatencyUS, sc.BareLatencyUS = latency(lat), latency(bareLat)
	if len(bareLat) != sc.Requests {
		sc.Errors++
		sc.wrong = append(sc.wrong, fmt.Sprintf("bare: %d answers, want %d", len(bareLat), sc.Requests))
	}
	return sc
}

// warm opens n keep-alive connections to u with n requests at once.
func warm(client *http.Client, u string, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if resp, err := client.Get(u); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		})
	}
	wg.Wait()
}

// checkScenario fails the test when an answer was wrong or the admissions are not
// exactly the limits': in all, and client by client.
func checkScenario(t *testing.T, sc *loadScenario) {
	t.Helper()
	name := fmt.Sprintf("%s %s at %d req/s", sc.Backend, sc.Route, sc.Rate)
	if sc.Errors > 0 {
		t.Errorf("%s: %d errors, the first: %s", name, sc.Errors, strings.Join(sc.wrong[:min(5, len(sc.wrong))], "; "))
	}
	if got := sc.Admitted + sc.Denied; got != sc.Requests && sc.Errors == 0 {
		t.Errorf("%s: %d answers, want %d", name, got, sc.Requests)
	}
	if sc.Admitted != sc.ExpectedAdmitted {
		t.Errorf("%s: admitted %d, want exactly %d", name, sc.Admitted, sc.ExpectedAdmitted)
	}
	want := sc.ExpectedAdmitted / loadClients
	for c, n := range sc.perClient {
		if n != want {
			t.Errorf("%s: client %d admitted %d, want exactly %d", name, c, n, want)
			break
		}
	}
}

// runBurst starts the app on Redis with the default settings (only the limit is set: 5
// per hour for the one client, 127.0.0.1) and sends burstRequests requests at once on
// connections opened beforehand. What Redis did not decide shows as fail_mode "open"
// admissions without headers, in ratelimit_redis_errors_total and in the logs.
func runBurst(t *testing.T, bin, redisAddr string, run int) *loadBurst {
	t.Helper()
	app := startApp(t, bin, fmt.Sprintf("backend    = \"redis\"\nkey_prefix = \"burst-%d-%d\"\n\n[default]\nlimit  = %d\nwindow = \"1h\"\n\n[redis]\naddrs = [%q]\n",
		run, time.Now().UnixNano(), burstLimit, redisAddr))
	tr := &http.Transport{MaxIdleConnsPerHost: burstRequests, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: burstTimeout}
	warm(client, app.URL+"/metrics", burstRequests)
	before := redisErrors(t, client, app.URL)

	b := &loadBurst{Requests: burstRequests, Limit: burstLimit}
	var mu sync.Mutex
	var lat []time.Duration
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range burstRequests {
		wg.Go(func() {
			<-start
			t0 := time.Now()
			resp, err := client.Get(app.URL + "/api/v1/test")
			var status int
			var limited bool
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				status, limited = resp.StatusCode, resp.Header.Get("X-RateLimit-Limit") != ""
			}
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, d)
			switch {
			case status == http.StatusOK && limited:
				b.Admitted++
			case status == http.StatusOK:
				b.FailedOpen++
			case status == http.StatusTooManyRequests:
				b.Denied++
			default:
				b.Other++
			}
		})
	}
	close(start)
	wg.Wait()
	b.LatencyUS = latency(lat)
	after := redisErrors(t, client, app.URL)
	b.RedisErrors = map[string]float64{}
	failures := 0.0
	for kind, n := range after {
		b.RedisErrors[kind] = n - before[kind]
		failures += n - before[kind]
	}
	stopApp(t, app)
	for line := range strings.SplitSeq(app.Stderr(), "\n") {
		var rec struct{ Msg, From, To string }
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		switch rec.Msg {
		case "redis_circuit_breaker":
			b.Breaker = append(b.Breaker, rec.From+"→"+rec.To)
		case "redis_error":
			b.RedisErrorLog++
		}
	}
	b.DecidedByRedis = failures == 0 && len(b.Breaker) == 0 && b.FailedOpen == 0 && b.Other == 0 && b.Admitted == burstLimit
	// Redis itself never admits past the limit, however slow it is.
	if b.Admitted > burstLimit {
		t.Errorf("burst %d: Redis admitted %d, limit %d", run, b.Admitted, burstLimit)
	}
	return b
}

// redisErrors reads ratelimit_redis_errors_total by kind from the app's /metrics.
func redisErrors(t *testing.T, client *http.Client, base string) map[string]float64 {
	t.Helper()
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), `ratelimit_redis_errors_total{kind="`)
		if !ok {
			continue
		}
		kind, value, _ := strings.Cut(rest, `"} `)
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			m[kind] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		t.Fatal("/metrics has no ratelimit_redis_errors_total")
	}
	return m
}

// latency summarises durations in µs; percentiles by nearest rank.
func latency(d []time.Duration) loadLatency {
	if len(d) == 0 {
		return loadLatency{}
	}
	slices.Sort(d)
	us := func(x time.Duration) float64 { return float64(x.Nanoseconds()) / 1e3 }
	at := func(p float64) float64 {
		i := int(float64(len(d))*p+0.999999) - 1
		return us(d[min(max(i, 0), len(d)-1)])
	}
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return loadLatency{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: us(d[len(d)-1]), Mean: us(sum) / float64(len(d))}
}

func scenarioTable(scs []*loadScenario) string {
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "backend\troute\trate/s\tachieved/s\trequests\tadmitted\tdenied\terrors\tp50 µs\tp95 µs\tp99 µs\tbare p50\tbare p95\tbare p99\tadded p50\tadded p95\tadded p99\ttarget (p95)\t")
	for _, s := range scs {
		verdict := map[bool]string{true: "met", false: "NOT met"}[s.TargetMet]
		fmt.Fprintf(w, "%s\t%s\t%d\t%.0f\t%d\t%d\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%+.0f\t%+.0f\t%+.0f\t< %.0f: %s\t\n",
			s.Backend, s.Route, s.Rate, s.Achieved, s.Requests, s.Admitted, s.Denied, s.Errors,
			s.LatencyUS.P50, s.LatencyUS.P95, s.LatencyUS.P99, s.BareLatencyUS.P50, s.BareLatencyUS.P95, s.BareLatencyUS.P99,
			s.AddedUS.P50, s.AddedUS.P95, s.AddedUS.P99, s.TargetAddedP95US, verdict)
	}
	_ = w.Flush()
	return sb.String()
}

func burstTable(bs []*loadBurst) string {
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "burst\trequests\tlimit\tadmitted\tfailed open\tdenied\tother\tredis errors\tbreaker\tp50 µs\tp99 µs\tmax µs\tdecided by Redis\t")
	for i, b := range bs {
		var errs []string
		for _, kind := range slices.Sorted(maps.Keys(b.RedisErrors)) {
			if n := b.RedisErrors[kind]; n > 0 {
				errs = append(errs, fmt.Sprintf("%s %.0f", kind, n))
			}
		}
		breaker := "closed"
		if len(b.Breaker) > 0 {
			breaker = strings.Join(b.Breaker, ", ")
		}
		fmt.Fprintf(w, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%.0f\t%.0f\t%.0f\t%v\t\n", i+1, b.Requests, b.Limit, b.Admitted,
			b.FailedOpen, b.Denied, b.Other, cmp.Or(strings.Join(errs, ", "), "0"), breaker, b.LatencyUS.P50, b.LatencyUS.P99, b.LatencyUS.Max, b.DecidedByRedis)
	}
	_ = w.Flush()
	return sb.String()
}

func writeReport(t *testing.T, path string, rep *loadReport) {
	t.Helper()
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	t.Logf("wrote %s", abs)
}

func machine() loadMachine {
	m := loadMachine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), LoadBefore: loadAverage(), SharedCores: true}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// loadAverage is the 1, 5 and 15 minute load averages, where the system tells them.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// gitCommit is the checked-out commit, "+dirty" when the tree has changes; "" outside git.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += "+dirty"
	}
	return c
}

func redisVersion(t *testing.T, srv *redistest.Server) string {
	t.Helper()
	info, err := srv.Client().Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v
		}
	}
	return ""
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }
