// Command demo runs the quickstart scenario against a real example app: it builds and
// starts the Gin app on the embedded memory backend with demo.toml (100 requests per minute
// by default, 10 per minute for /api/v1/compute), sends one client's requests over HTTP,
// prints what came back, and stops the server.
//
//	go run ./examples/demo            (make demo)
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/ratewarden/ratewarden/examples/internal/proc"
)

func main() {
	app := flag.String("app", "gin", "example app to run: gin, echo or chi")
	flag.Parse()
	if err := run(*app); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// step is one part of the scenario: n identical requests.
type step struct {
	n            int
	method, path string
	note         string
}

var scenario = []step{
	{101, http.MethodGet, "/api/v1/test", "the default rule: 100 per minute"},
	{15, http.MethodGet, "/health", "an ordinary route: it shares the client's default counter, now spent"},
	{11, http.MethodPost, "/api/v1/compute", `its own rule "compute": 10 per minute, a counter of its own`},
}

func run(app string) error {
	dir, err := os.MkdirTemp("", "ratewarden-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	root := examplesRoot()
	bin, err := proc.Build(dir, "./"+filepath.Join(root, app)) // "./": a directory, not an import path
	if err != nil {
		return err
	}
	srv, err := proc.Start(bin, nil, "-config", filepath.Join(root, "demo", "demo.toml"))
	if err != nil {
		return err
	}
	fmt.Printf("ratewarden demo: the %s example app, memory backend, %s\n\n", app, srv.URL)
	for _, s := range scenario {
		if err := s.play(srv.URL); err != nil {
			_, _ = srv.Stop()
			return err
		}
	}
	code, err := srv.Stop()
	if err != nil {
		return err
	}
	fmt.Printf("server stopped gracefully (exit status %d)\n", code)
	return nil
}

// play sends the step's requests and prints the statuses, then the headers of the last
// success and of the first denial.
func (s step) play(base string) error {
	fmt.Printf("%d × %s %s — %s\n", s.n, s.method, s.path, s.note)
	counts := map[int]int{}
	var lastOK, firstDenied *http.Response
	var deniedBody string
	for i := 0; i < s.n; i++ {
		req, _ := http.NewRequest(s.method, base+s.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		counts[resp.StatusCode]++
		switch {
		case resp.StatusCode == http.StatusOK:
			lastOK = resp
		case resp.StatusCode == http.StatusTooManyRequests && firstDenied == nil:
			firstDenied, deniedBody = resp, strings.TrimSpace(string(body))
		}
	}
	fmt.Printf("  statuses: %d × 200, %d × 429\n", counts[http.StatusOK], counts[http.StatusTooManyRequests])
	if lastOK != nil {
		fmt.Println("  last 200:")
		printHeaders(lastOK.Header)
	}
	if firstDenied != nil {
		fmt.Println("  first 429:")
		printHeaders(firstDenied.Header)
		fmt.Printf("    body: %s\n", deniedBody)
	}
	fmt.Println()
	return nil
}

var shown = []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used", "RateLimit", "RateLimit-Policy", "Retry-After"}

func printHeaders(h http.Header) {
	for _, name := range shown {
		if v := h.Get(name); v != "" {
			fmt.Printf("    %s: %s\n", name, v)
		}
	}
}

// examplesRoot finds the examples directory from the repository root or from inside it.
func examplesRoot() string {
	if _, err := os.Stat("examples/demo/demo.toml"); err == nil {
		return "./examples"
	}
	return "."
}
