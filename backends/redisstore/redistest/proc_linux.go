//go:build linux

package redistest

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// On Linux every process the harness starts gets Pdeathsig SIGKILL, so a test
// binary that dies (a panic, go test's -timeout) takes its redis processes with
// it instead of leaving them listening. Pdeathsig fires when the *thread* that
// forked the child exits, and the Go runtime may end a thread that a goroutine
// had locked, so all forks go through one goroutine locked to its thread for
// the life of the binary.

type startRequest struct {
	cmd *exec.Cmd
	err chan error
}

var (
	starterOnce sync.Once
	starter     chan startRequest
)

func startProcess(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	starterOnce.Do(func() {
		starter = make(chan startRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: this thread lives as long as the binary
			for req := range starter {
				req.err <- req.cmd.Start()
			}
		}()
	})
	req := startRequest{cmd: cmd, err: make(chan error, 1)}
	starter <- req
	return <-req.err
}
