// Package try serves a handler limited to one request a minute on a loopback port, sends it
// two requests and prints the statuses: a consumer program's whole job.
package try

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/ratewarden/ratewarden/core/config"
)

// Config allows one request a minute per client.
var Config = config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}}

// Hello is the handler behind the limiter.
func Hello(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello\n") }

// Twice serves h, requests GET /hello twice, prints each status and calls after (when not
// nil). It exits 1 unless the first status is 200 and the second 429.
func Twice(name string, h http.Handler, after func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String()
	var got []int
	for range 2 {
		resp, err := http.Get(url + "/hello")
		if err != nil {
			fail(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got = append(got, resp.StatusCode)
		fmt.Printf("%s: GET /hello → %d (X-RateLimit-Remaining: %s, Retry-After: %q)\n", name,
			resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"), resp.Header.Get("Retry-After"))
	}
	if after != nil {
		after()
	}
	if got[0] != http.StatusOK || got[1] != http.StatusTooManyRequests {
		fail(fmt.Errorf("statuses %v, want [200 429]", got))
	}
}

// Must stops the program on err.
func Must(err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "FAIL:", err)
	os.Exit(1)
}
