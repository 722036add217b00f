package redisstore

import (
	"github.com/redis/go-redis/v9"

	"github.com/ratewarden/ratewarden/core"
)

// NewClient exposes the client New builds, so that fault tests can add hooks to it.
func NewClient(r core.RedisConfig) (redis.UniversalClient, error) { return newClient(r) }

// WithCacheSize exposes withCacheSize.
var WithCacheSize = withCacheSize
