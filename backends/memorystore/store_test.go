package memorystore_test

import (
	"testing"

	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/ratewarden/ratewarden/core/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) rate.Store {
		s := memorystore.New(config.MemoryConfig{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
