// Command demo shows ratewarden at work with nothing else running: it serves a handler
// behind the net/http middleware on a loopback port, with the default limit of 100
// requests per minute, sends 101 requests from one client and prints what came back.
//
//	go run ./examples/demo
package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"

	_ "github.com/ratewarden/ratewarden/backends/memorystore" // the "memory" backend
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/httplimit"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	// Defaults: 100 requests per minute, memory backend. The denial's warn record goes to
	// stdout so that it prints in order with the rest.
	lim, err := core.New(core.Config{}, core.WithLogger(slog.New(slog.NewTextHandler(os.Stdout, nil))))
	if err != nil {
		return err
	}
	defer lim.Close()
	hello := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"message":"hello"}`)
	})
	srv := httptest.NewServer(httplimit.Middleware(lim)(hello))
	defer srv.Close()

	counts := map[int]int{}
	for i := 1; i <= 101; i++ {
		resp, err := http.Get(srv.URL + "/api/v1/test")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		counts[resp.StatusCode]++
		if i == 1 || i == 100 || i == 101 {
			fmt.Printf("request %d: %s\n", i, resp.Status)
			printHeaders(resp.Header)
			fmt.Printf("  body: %s\n\n", strings.TrimSpace(string(body)))
		}
	}
	fmt.Printf("statuses: %d × 200, %d × 429\n", counts[http.StatusOK], counts[http.StatusTooManyRequests])
	if counts[http.StatusOK] != 100 || counts[http.StatusTooManyRequests] != 1 {
		return fmt.Errorf("expected 100 × 200 then 1 × 429")
	}
	return nil
}

func printHeaders(h http.Header) {
	var names []string
	for name := range h {
		if strings.Contains(strings.ToLower(name), "ratelimit") || name == "Retry-After" || name == "Content-Type" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Printf("  %s: %s\n", name, h.Get(name))
	}
}
