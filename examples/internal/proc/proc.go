// Package proc runs an example app as a real child process on a free loopback port, for
// the demo and the example apps' tests.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// readyTimeout bounds how long a freshly started app may take to answer.
const readyTimeout = 30 * time.Second

// Build compiles the package pkg (e.g. "./gin", relative to the examples module) into dir
// and returns the binary's path.
func Build(dir, pkg string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %w", pkg, err)
	}
	return out, nil
}

// Server is an app running as a child process.
type Server struct {
	URL    string // http://127.0.0.1:<port>
	cmd    *exec.Cmd
	stderr lockedBuffer
	exited chan struct{}
	err    error // the process's exit error, once exited is closed
}

// Start runs binary with args plus -addr 127.0.0.1:0 and extra environment variables,
// reads the address the app listens on from its "listening" log record, and waits until
// it answers GET /metrics there (which is never rate limited). The port is the kernel's
// choice at the app's own bind, so no other process — another test's app, a Redis —
// can take it in between and answer in its place. When the app exits first, Start
// returns its exit error with what it wrote to stderr.
func Start(binary string, env []string, args ...string) (*Server, error) {
	s := &Server{exited: make(chan struct{})}
	s.cmd = exec.Command(binary, append(args, "-addr", "127.0.0.1:0")...)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stderr = &s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(); err != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
		return nil, fmt.Errorf("%w\nstderr:\n%s", err, s.Stderr())
	}
	return s, nil
}

func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.URL == "" {
			if m := listening.FindStringSubmatch(s.Stderr()); m != nil {
				s.URL = "http://" + m[1]
			}
		}
		if s.URL != "" {
			if resp, err := http.Get(s.URL + "/metrics"); err == nil {
				resp.Body.Close()
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("app exited before answering: %w", s.err)
		case <-ctx.Done():
			return fmt.Errorf("app did not answer within %s", readyTimeout)
		case <-tick.C:
		}
	}
}

// PID returns the process id of the app.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stderr returns what the app has written to stderr so far (its JSON logs).
func (s *Server) Stderr() string { return s.stderr.String() }

// Signal sends sig to the app.
func (s *Server) Signal(sig os.Signal) error { return s.cmd.Process.Signal(sig) }

// Wait waits up to timeout for the app to exit and returns its exit status.
func (s *Server) Wait(timeout time.Duration) (int, error) {
	select {
	case <-s.exited:
	case <-time.After(timeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return -1, errors.New("app did not exit in time; killed")
	}
	return s.cmd.ProcessState.ExitCode(), nil
}

// Stop sends SIGTERM and waits for a graceful exit, returning the exit status.
func (s *Server) Stop() (int, error) {
	if err := s.Signal(syscall.SIGTERM); err != nil {
		return -1, err
	}
	return s.Wait(readyTimeout)
}

// Run runs binary with args to completion (for an app that must refuse to start) and
// returns its exit status and stderr.
func Run(binary string, env []string, args ...string) (int, string) {
	var stderr bytes.Buffer
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = &stderr
	_ = cmd.Run()
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// listening finds the address in the app's JSON "listening" log record.
var listening = regexp.MustCompile(`"msg":"listening"[^\n]*?"addr":"([^"]+)"`)

// lockedBuffer is a bytes.Buffer safe for the process's writes and our reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
