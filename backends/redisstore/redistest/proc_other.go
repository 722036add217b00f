//go:build !linux

package redistest

import "os/exec"

// startProcess starts cmd. Outside Linux there is no parent-death signal: a
// test binary killed hard may leave its redis processes running.
func startProcess(cmd *exec.Cmd) error {
	return cmd.Start()
}
