package redistest

import (
	"fmt"
	"os"
	"slices"
	"testing"
)

// StartMain starts a standalone redis-server as [StartServer] does, but for a whole test
// binary: from TestMain, where no test exists yet to fail or to clean up after. It
// returns the server and stop, which kills it and removes its directory; call stop
// after m.Run. Where StartServer would fail the test, StartMain returns the error.
// The server's Restart panics where it would fail a test.
//
// Examples use it: an Example function has no *testing.T, so TestMain starts the
// server and hands the Example its address in a package-level variable.
//
//	var redisAddr string
//
//	func TestMain(m *testing.M) {
//		srv, stop, err := redistest.StartMain()
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		redisAddr = srv.Addr()
//		code := m.Run()
//		stop()
//		os.Exit(code)
//	}
func StartMain(opts ...Option) (s *Server, stop func(), err error) {
	tb := &mainTB{}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(mainFailure)
			if !ok {
				panic(r)
			}
			tb.stop()
			s, stop, err = nil, nil, f
		}
	}()
	return StartServer(tb, opts...), tb.stop, nil
}

// mainFailure is what a mainTB's Fatal panics with, and StartMain's error.
type mainFailure string

func (f mainFailure) Error() string { return string(f) }

// mainTB stands in for the test StartServer expects when StartMain runs it from TestMain.
// It implements the methods start and Server call; the embedded testing.TB is nil and
// only satisfies the interface, so any other method would panic.
type mainTB struct {
	testing.TB
	cleanups []func()
}

func (*mainTB) Helper()      {}
func (*mainTB) Failed() bool { return false }
func (tb *mainTB) Fatal(args ...any) {
	panic(mainFailure(fmt.Sprint(args...)))
}

func (tb *mainTB) Fatalf(format string, args ...any) {
	panic(mainFailure(fmt.Sprintf(format, args...)))
}

func (*mainTB) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func (tb *mainTB) Cleanup(f func()) { tb.cleanups = append(tb.cleanups, f) }

func (tb *mainTB) TempDir() string {
	dir, err := os.MkdirTemp("", "redistest")
	if err != nil {
		tb.Fatal("redistest: ", err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// stop runs the cleanups, the last registered first, as testing does.
func (tb *mainTB) stop() {
	for _, f := range slices.Backward(tb.cleanups) {
		f()
	}
	tb.cleanups = nil
}
