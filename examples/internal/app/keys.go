package app

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/ratewarden/ratewarden/core"
)

// keyFile is the -api-keys file, standing in for a customer database (SPEC section 8):
// the apps' key lookup answers from it, and every reload reads it again.
//
// One key per line: "<key> <user id> <tier>", separated by spaces or tabs. Blank lines
// and lines whose first non-blank character is "#" are ignored. A line with another
// number of fields, or a key listed twice, makes the whole file invalid; errors name the
// line, never the key.
type keyFile struct {
	path string
	keys atomic.Pointer[map[string]core.Identity]
}

// keyFileError is a problem of the keys file, with its line. Its Problem method makes
// POST /admin/reload answer it as 422, like a problem of the configuration file.
type keyFileError struct {
	path string
	line int
	msg  string
}

func (e *keyFileError) Error() string { return "ratewarden: " + e.Problem() }

// Problem returns "path:line: message".
func (e *keyFileError) Problem() string { return fmt.Sprintf("%s:%d: %s", e.path, e.line, e.msg) }

// read reads and checks the file, without making its keys the ones the lookup answers.
func (f *keyFile) read() (map[string]core.Identity, error) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Errorf("ratewarden: -api-keys: %w", err)
	}
	keys := map[string]core.Identity{}
	firstLine := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			return nil, &keyFileError{f.path, n, fmt.Sprintf(`want "<key> <user id> <tier>", got %d fields`, len(fields))}
		}
		if prev, dup := firstLine[fields[0]]; dup {
			return nil, &keyFileError{f.path, n, fmt.Sprintf("the key of line %d again", prev)}
		}
		firstLine[fields[0]] = n
		keys[fields[0]] = core.Identity{User: fields[1], Tier: fields[2]}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ratewarden: -api-keys %s: %w", f.path, err)
	}
	return keys, nil
}

// lookup is the apps' core.KeyLookup.
func (f *keyFile) lookup(_ context.Context, key string) (core.Identity, error) {
	if id, ok := (*f.keys.Load())[key]; ok {
		return id, nil
	}
	return core.Identity{}, core.ErrKeyNotFound
}
