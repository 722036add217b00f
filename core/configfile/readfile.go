package configfile

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// readFile reads the configuration file at path: a regular file (a symbolic link to one is
// fine) of at most maxConfigBytes. It never reads more than that, so /dev/zero or a huge
// sparse file costs nothing, and it opens without blocking, so a FIFO put in the file's
// place is refused instead of stalling the loader and the watch forever.
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("ratewarden: reading configuration: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("ratewarden: reading configuration: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("ratewarden: %s: not a regular file (%s)", path, info.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("ratewarden: reading configuration: %w", err)
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("ratewarden: %s: more than %d bytes, more than a configuration file may have", path, maxConfigBytes)
	}
	return data, nil
}
