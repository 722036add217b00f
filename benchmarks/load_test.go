package benchmarks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ratewarden/ratewarden/adapters/ginlimit"
	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/clientip"
	"github.com/ratewarden/ratewarden/core/config"
)

// The load scenario of SPEC section 9: 100 concurrent clients, each its own identity,
// against a real HTTP server on loopback, at 1,000 and 2,000 requests per second in all,
// for a fixed time per variant. It measures and prints; it asserts no timing (STYLE.md:
// speed is shown, never asserted by a timed test). It fails only when responses are wrong.
const (
	loadEnv      = "RATEWARDEN_LOAD"
	loadClients  = 100
	loadDuration = 4 * time.Second // per variant and rate: 12 runs, about 50 s in all
	loadRoute    = "/api/v1/test"
	loadAllowed  = 1_000_000 // per minute: no client comes near it
	loadDenied   = 1         // per minute: every client is over its limit after one request
	// loadTimeout bounds each request; a run is bounded by its request count and by
	// loadDuration+loadTimeout+loadGrace.
	loadTimeout = 5 * time.Second
	loadGrace   = 5 * time.Second
)

var (
	loadRates = []int{1000, 2000}
	loadBody  = []byte(`{"ok":true}`)
)

// loadVariant is one way of serving the route.
type loadVariant struct {
	name  string
	limit int64 // per minute; 0 = no limiter (bare)
	redis bool
}

// loadVariants in the order they run at each rate. bare runs first and again last: the
// difference between the two bare rows is the noise of the machine.
var loadVariants = []loadVariant{
	{name: "bare"},
	{name: "memory", limit: loadAllowed},
	{name: "redis", limit: loadAllowed, redis: true},
	{name: "memory-denied", limit: loadDenied},
	{name: "redis-denied", limit: loadDenied, redis: true},
	{name: "bare (again)"},
}

// loadResult is what one run measured.
type loadResult struct {
	variant  loadVariant
	rate     int           // the target, requests per second
	expected int           // requests scheduled
	span     time.Duration // from the first send to the last
	lat      []time.Duration
	lag      []time.Duration // how late each request was sent against its schedule
	status   map[int]int
	errs     []string // transport errors and wrong responses, the first few
	nErrs    int      // transport errors and wrong responses
	nTrans   int      // transport errors (no response)
}

// TestLoad runs the SPEC section 9 load scenario and logs a table per rate: achieved
// rate, latency percentiles from send to the last byte of the response, and the p95
// each limiter adds over the bare router. It is skipped unless RATEWARDEN_LOAD=1
// (make load).
func TestLoad(t *testing.T) {
	if os.Getenv(loadEnv) != "1" {
		t.Skip("load test (SPEC 9), about a minute: run it with `make load` " +
			"(RATEWARDEN_LOAD=1 go test -run '^TestLoad$' -count=1 -v ./benchmarks)")
	}
	gin.SetMode(gin.ReleaseMode)
	srv := redistest.StartServer(t)

	for _, rate := range loadRates {
		results := make([]*loadResult, 0, len(loadVariants))
		for _, v := range loadVariants {
			t.Run(fmt.Sprintf("rate=%d/variant=%s", rate, strings.ReplaceAll(v.name, " ", "_")), func(t *testing.T) {
				ts := httptest.NewServer(loadHandler(t, v, rate, srv.Addr()))
				defer ts.Close()
				res := runLoad(ts.URL+loadRoute, v, rate)
				checkLoad(t, res)
				results = append(results, res)
			})
		}
		if len(results) > 0 { // -run may have selected none of this rate's variants
			t.Log("\n" + loadTable(results))
		}
	}
}

// loadHandler is gin serving GET /api/v1/test with a tiny JSON body, bare or behind
// ginlimit on the memory or redis backend. The Limiter trusts 127.0.0.1 as a proxy, so
// that each client is counted under the address it sends in X-Forwarded-For. Denials are
// logged as in production, encoded as JSON into io.Discard.
func loadHandler(t *testing.T, v loadVariant, rate int, redisAddr string) http.Handler {
	r := gin.New()
	if v.limit > 0 {
		logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
		cfg := config.Config{
			KeyPrefix: "load-" + strconv.Itoa(rate) + "-" + v.name,
			Default:   config.Limits{Limit: v.limit, Window: time.Minute},
			ClientIP:  clientip.Config{TrustedProxies: []string{"127.0.0.1"}},
		}
		opts := []core.Option{core.WithLogger(logger)}
		if v.redis {
			// fail_mode closed: a decision Redis did not make is a 503, which fails the
			// test, instead of a 200 that would look like a fast admission.
			cfg.Backend, cfg.FailMode = config.BackendRedis, config.FailClosed
			cfg.Redis = config.RedisConfig{Addrs: []string{redisAddr}}
			store, err := redisstore.New(cfg, redisstore.WithLogger(logger))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = store.Close() })
			opts = append(opts, core.WithStore(store))
		}
		lim, err := core.New(cfg, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = lim.Close() })
		r.Use(ginlimit.Middleware(lim))
	}
	r.GET(loadRoute, func(c *gin.Context) { c.Data(http.StatusOK, mwJSON, loadBody) })
	return r
}

// runLoad sends rate requests per second in all from loadClients goroutines for
// loadDuration. Each client has its own address and a fixed schedule (one request every
// loadClients/rate seconds, the clients' schedules evenly staggered), sends each request
// at its scheduled time or, when the previous one is still out, as soon as it returns,
// and records the latency from send to the last byte of the body.
func runLoad(url string, v loadVariant, rate int) *loadResult {
	tr := &http.Transport{
		MaxIdleConns:        2 * loadClients,
		MaxIdleConnsPerHost: 2 * loadClients,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: loadTimeout}

	perClient := rate * int(loadDuration/time.Second) / loadClients
	interval := time.Second * loadClients / time.Duration(rate)
	res := &loadResult{variant: v, rate: rate, expected: perClient * loadClients, status: map[int]int{}}

	type clientResult struct {
		lat, lag    []time.Duration
		status      map[int]int
		errs        []string
		nTrans      int
		first, last time.Time // first and last send
	}
	results := make([]clientResult, loadClients)

	// Warm-up: one request per client at once, from addresses of their own (198.18.0.0/24,
	// so that the measured clients' counters are untouched), to open the connections.
	var wg sync.WaitGroup
	for i := range loadClients {
		wg.Go(func() {
			_, _, _ = loadGet(context.Background(), client, url, "198.18.0."+strconv.Itoa(i+1))
		})
	}
	wg.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), loadDuration+loadTimeout+loadGrace)
	defer cancel()
	start := time.Now().Add(50 * time.Millisecond)
	for i := range loadClients {
		wg.Go(func() {
			cr := clientResult{
				lat:    make([]time.Duration, 0, perClient),
				lag:    make([]time.Duration, 0, perClient),
				status: map[int]int{},
			}
			defer func() { results[i] = cr }()
			ip := "10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256+1)
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			for k := range perClient {
				due := start.Add(interval*time.Duration(i)/loadClients + interval*time.Duration(k))
				if d := time.Until(due); d > 0 {
					timer.Reset(d)
					select {
					case <-timer.C:
					case <-ctx.Done():
						return
					}
				}
				sent := time.Now()
				if k == 0 {
					cr.first = sent
				}
				cr.last = sent
				status, hdr, err := loadGet(ctx, client, url, ip)
				done := time.Now()
				if err != nil {
					cr.errs = append(cr.errs, fmt.Sprintf("client %s request %d: %v", ip, k, err))
					cr.nTrans++
					continue
				}
				cr.lat = append(cr.lat, done.Sub(sent))
				cr.lag = append(cr.lag, max(0, sent.Sub(due)))
				cr.status[status]++
				if msg := loadWrong(v, k, status, hdr); msg != "" {
					cr.errs = append(cr.errs, fmt.Sprintf("client %s request %d: %s", ip, k, msg))
				}
			}
		})
	}
	wg.Wait()

	var first, last time.Time
	for _, cr := range results {
		if !cr.first.IsZero() && (first.IsZero() || cr.first.Before(first)) {
			first = cr.first
		}
		if cr.last.After(last) {
			last = cr.last
		}
		res.nTrans += cr.nTrans
		res.lat = append(res.lat, cr.lat...)
		res.lag = append(res.lag, cr.lag...)
		for s, n := range cr.status {
			res.status[s] += n
		}
		res.nErrs += len(cr.errs)
		if room := 5 - len(res.errs); room > 0 {
			res.errs = append(res.errs, cr.errs[:min(room, len(cr.errs))]...)
		}
	}
	res.span = last.Sub(first)
	slices.Sort(res.lat)
	slices.Sort(res.lag)
	return res
}

// loadGet sends GET url as the client at ip (X-Forwarded-For) and reads the body through.
func loadGet(ctx context.Context, client *http.Client, url, ip string) (int, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	return resp.StatusCode, resp.Header, err
}

// loadWrong says what is wrong with the k-th response of a client, or "". Allowed
// variants answer 200; denied ones 200 to each client's first request and 429 after.
// Behind a limiter, every response carries X-RateLimit-Limit with the configured limit.
func loadWrong(v loadVariant, k, status int, hdr http.Header) string {
	want := http.StatusOK
	if v.limit == loadDenied && k > 0 {
		want = http.StatusTooManyRequests
	}
	if status != want {
		return fmt.Sprintf("status %d, want %d", status, want)
	}
	if v.limit > 0 {
		if got := hdr.Get("X-RateLimit-Limit"); got != strconv.FormatInt(v.limit, 10) {
			return fmt.Sprintf("X-RateLimit-Limit %q, want %d", got, v.limit)
		}
	}
	return ""
}

// checkLoad fails the test when a response was wrong or missing; never for latency.
func checkLoad(t *testing.T, res *loadResult) {
	t.Helper()
	if res.nErrs > 0 {
		t.Errorf("%s at %d req/s: %d wrong responses or errors, the first: %s",
			res.variant.name, res.rate, res.nErrs, strings.Join(res.errs, "; "))
	}
	if n := len(res.lat); n != res.expected && res.nErrs == 0 {
		t.Errorf("%s at %d req/s: %d responses, want %d (run cut short)", res.variant.name, res.rate, n, res.expected)
	}
}

// pct is the p-th percentile (nearest rank) of sorted durations.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }

// loadTable formats the results of one rate; added p95 is against the first bare row.
func loadTable(results []*loadResult) string {
	var bare *loadResult
	for _, r := range results {
		if r.variant.limit == 0 {
			bare = r
			break
		}
	}
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "variant\ttarget/s\tachieved/s\trequests\t200\t429\tother\tp50 ms\tp95 ms\tp99 ms\tmax ms\tadded p95 ms\tsend lag p99 ms\t")
	for _, r := range results {
		added := "—"
		if bare != nil && r != bare {
			added = fmt.Sprintf("%+.3f", float64(pct(r.lat, 0.95)-pct(bare.lat, 0.95))/float64(time.Millisecond))
		}
		// other: responses neither 200 nor 429, and requests that got none.
		other := len(r.lat) - r.status[http.StatusOK] - r.status[http.StatusTooManyRequests] + r.nTrans
		// achieved: requests sent per second, from the first send to the last.
		achieved := 0.0
		if n := len(r.lat) + r.nTrans; n > 1 && r.span > 0 {
			achieved = float64(n-1) / r.span.Seconds()
		}
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			r.variant.name, r.rate, achieved, len(r.lat), r.status[http.StatusOK], r.status[http.StatusTooManyRequests], other,
			ms(pct(r.lat, 0.50)), ms(pct(r.lat, 0.95)), ms(pct(r.lat, 0.99)), ms(pct(r.lat, 1)), added, ms(pct(r.lag, 0.99)))
	}
	_ = w.Flush()
	return sb.String()
}
