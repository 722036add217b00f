// Command demo runs the quickstart scenario against a real example app: it builds and
// starts the Gin app on the embedded memory backend with demo.toml (100 requests per minute
// by default, 10 per minute for /api/v1/compute, the health checker's address exempt),
// sends one client's requests over HTTP, prints a line per step and the headers of the
// first 429, and stops the server. docs/quickstart.md walks through its output.
//
//	go run ./examples/demo            (make demo)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ratewarden/ratewarden/examples/internal/proc"
)

// healthChecker is the address the health checks come from, exempt in demo.toml as a load
// balancer's would be in production. Linux routes all of 127.0.0.0/8 to the loopback
// interface, so the demo can send from it without any setup.
const healthChecker = "127.0.0.2"

// refill is how long the default rule's token bucket takes to earn one request back:
// 60 s / 100.
const refill = 600 * time.Millisecond

func main() {
	app := flag.String("app", "gin", "example app to run: gin, echo or chi")
	flag.Parse()
	if err := run(*app); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// step is one part of the scenario: n identical requests from one source address.
type step struct {
	n            int
	method, path string
	from         string        // source address; "" = the client's (127.0.0.1)
	after        time.Duration // wait this long after the latest 429 before sending
	note         string
}

var scenario = []step{
	{n: 101, method: http.MethodGet, path: "/api/v1/test", note: "the default rule: 100 per minute per client"},
	{n: 11, method: http.MethodPost, path: "/api/v1/compute", note: `its own rule "compute": 10 per minute, a counter of its own`},
	{n: 15, method: http.MethodGet, path: "/health", from: healthChecker, note: "the health checker's address is exempt ([exemptions] ips): no counter, no headers"},
	{n: 1, method: http.MethodGet, path: "/api/v1/test", after: refill, note: "the default rule again, " + seconds(refill) + " after the last 429"},
}

func run(app string) error {
	dir, err := os.MkdirTemp("", "ratewarden-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	root := examplesRoot()
	config := filepath.Join(root, "demo", "demo.toml")
	fmt.Printf("ratewarden demo: the %s example app, memory backend, %s\n", app, config)
	bin, err := build(dir, "./"+filepath.Join(root, app)) // "./": a directory, not an import path
	if err != nil {
		return err
	}
	srv, err := proc.Start(bin, nil, "-config", config)
	if err != nil {
		return err
	}
	fmt.Printf("serving on %s; the client sends from 127.0.0.1 unless a step says otherwise:\n\n", srv.URL)
	var first429 *result
	var denied time.Time // when the latest 429 came
	for i, s := range scenario {
		if s.after > 0 {
			time.Sleep(time.Until(denied.Add(s.after)))
		}
		r, err := s.play(srv.URL)
		if err != nil {
			_, _ = srv.Stop()
			return err
		}
		target := s.path
		if s.from != "" {
			target += " from " + s.from
		}
		fmt.Printf("%d. %3d × %-4s %-22s → %s  %s\n", i+1, s.n, s.method, target, r.counts(), s.note)
		if r.denied != nil {
			denied = r.deniedAt
			if first429 == nil {
				first429 = r
			}
		}
	}
	if first429 != nil {
		fmt.Printf("\nThe first 429 (step 1):\n")
		for _, line := range headerLines(first429.denied.Header, first429.deniedAt) {
			fmt.Println("  " + line)
		}
		fmt.Printf("  body: %s\n", first429.body)
	}
	fmt.Printf("\nWhy step 4 passes: a token bucket refills continuously, 100 per 60 s = one request every %s,\n"+
		"so the client may send again %s after it ran dry. Retry-After is whole seconds, rounded up (1);\n"+
		"X-RateLimit-Reset is when the bucket is full again, 60 s on, as a Unix time rounded up to\n"+
		"the second: 60 or 61 s from the response.\n\n", seconds(refill), seconds(refill))
	code, err := srv.Stop()
	if err != nil {
		return err
	}
	fmt.Printf("server stopped gracefully (exit status %d)\n", code)
	return nil
}

// seconds formats d as "0.6 s".
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s" }

// build compiles the app, saying so: the first build downloads and compiles the app's
// modules and can take minutes, during which the demo would otherwise print nothing.
func build(dir, pkg string) (string, error) {
	fmt.Printf("building %s with go build (the first time it downloads and compiles gin, koanf, client_golang…:\n"+
		"a few minutes; then seconds)...\n", pkg)
	start := time.Now()
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(15 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				fmt.Printf("  still building (%s)...\n", time.Since(start).Round(time.Second))
			}
		}
	}()
	bin, err := proc.Build(dir, pkg)
	close(done)
	if err == nil {
		fmt.Printf("built in %s\n", time.Since(start).Round(100*time.Millisecond))
	}
	return bin, err
}

// result is what a step got back.
type result struct {
	statuses map[int]int
	denied   *http.Response // the first 429
	deniedAt time.Time
	body     string
}

// counts formats the statuses (200s, 429s, then any other) and the first 429's Retry-After.
func (r *result) counts() string {
	var parts []string
	for _, code := range []int{http.StatusOK, http.StatusTooManyRequests} {
		if n := r.statuses[code]; n > 0 {
			parts = append(parts, fmt.Sprintf("%3d × %d", n, code))
		}
	}
	for _, code := range slices.Sorted(maps.Keys(r.statuses)) {
		if code != http.StatusOK && code != http.StatusTooManyRequests {
			parts = append(parts, fmt.Sprintf("%d × %d", r.statuses[code], code))
		}
	}
	s := strings.Join(parts, ", ")
	if r.denied != nil {
		s += " (Retry-After: " + r.denied.Header.Get("Retry-After") + ")"
	}
	return fmt.Sprintf("%-33s", s)
}

// play sends the step's requests.
func (s step) play(base string) (*result, error) {
	client := http.DefaultClient
	if s.from != "" {
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(s.from)}}
		client = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		}}}
	}
	r := &result{statuses: map[int]int{}}
	for range s.n {
		req, err := http.NewRequest(s.method, base+s.path, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r.statuses[resp.StatusCode]++
		if s.from != "" && resp.Header.Get("X-RateLimit-Limit") != "" {
			return nil, fmt.Errorf("%s %s from %s: rate-limit headers on an exempt request", s.method, s.path, s.from)
		}
		if resp.StatusCode == http.StatusTooManyRequests && r.denied == nil {
			r.denied, r.deniedAt, r.body = resp, time.Now(), strings.TrimSpace(string(body))
		}
	}
	return r, nil
}

var shown = []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used", "RateLimit", "RateLimit-Policy", "Retry-After"}

// headerLines formats the rate-limit headers of a response received at at, with
// X-RateLimit-Reset (a Unix time) also in seconds from then.
func headerLines(h http.Header, at time.Time) []string {
	var lines []string
	for _, name := range shown {
		v := h.Get(name)
		if v == "" {
			continue
		}
		if unix, err := strconv.ParseInt(v, 10, 64); err == nil && name == "X-RateLimit-Reset" {
			v += fmt.Sprintf("  (in %.0f s)", time.Unix(unix, 0).Sub(at).Seconds())
		}
		lines = append(lines, name+": "+v)
	}
	return lines
}

// examplesRoot finds the examples directory from the repository root or from inside it.
func examplesRoot() string {
	if _, err := os.Stat("examples/demo/demo.toml"); err == nil {
		return "./examples"
	}
	return "."
}
