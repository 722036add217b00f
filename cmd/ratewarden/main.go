// Command ratewarden is the operator's tool for a ratewarden configuration:
//
//	ratewarden check   -config f.toml                       validate, as the apps do at start
//	ratewarden explain -config f.toml [-H 'Name: value']… [-remote 10.0.0.1] [-route T] [-json] METHOD PATH
//	                                                        identity, rule, limits and keys of one request
//	ratewarden status  -config f.toml -client ip:203.0.113.7 [-rule compute] [-tier premium] [-json]
//	ratewarden reset   -config f.toml -client ip:203.0.113.7 [-rule compute]
//
// The configuration is read by core/configfile, as the example apps read it: the file, then
// the RATELIMIT_* environment variables. status and reset talk to the Redis backend the
// configuration names; explain contacts nothing and consumes nothing. docs/cli.md shows each
// command with its output.
//
// Exit status: 0 on success, 1 for an invalid configuration or a failure (Redis
// unreachable, a memory backend for status or reset), 2 for a usage error (an unknown
// command or flag, a missing argument, a malformed client, an unknown rule).
//
// Install it with
//
//	go install github.com/ratewarden/ratewarden/cmd/ratewarden@v0.2.0
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"
)

func main() {
	// go-redis logs every failed dial on its own; status and reset report the failure
	// once, as their error.
	redis.SetLogger(quietRedis{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// quietRedis is a go-redis logger that writes nothing.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
