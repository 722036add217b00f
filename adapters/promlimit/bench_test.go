package promlimit_test

import (
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratewarden/ratewarden/adapters/promlimit"
	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

// allowedDecisions returns n allowed decisions of n distinct clients, made by a real
// limiter, for the observer to see again and again.
func allowedDecisions(b *testing.B, n int) []core.Decision {
	b.Helper()
	store := memorystore.New(config.MemoryConfig{})
	b.Cleanup(func() { _ = store.Close() })
	cfg := config.Config{
		Default:   config.Limits{Limit: 1_000_000, Window: time.Minute},
		Endpoints: []config.Endpoint{{Name: "compute", Pattern: "/api/v1/compute", Limits: config.Limits{Limit: 1000, Window: time.Minute}}},
	}
	lim, err := core.New(cfg, core.WithStore(store))
	if err != nil {
		b.Fatal(err)
	}
	ds := make([]core.Decision, n)
	for i := range ds {
		r := httptest.NewRequest("GET", "/api/v1/test", nil)
		r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", i>>16&255, i>>8&255, i&255)
		lim.Decide(core.Input{Request: r}, &ds[i])
		if ds[i].Outcome != core.Allowed {
			b.Fatalf("decision %d: %v", i, ds[i].Outcome)
		}
	}
	return ds
}

// BenchmarkObserveDecision measures the allowed path: counting a decision and updating
// its client's usage, with the (rule, tier) pair already seen. "1 client" is the update of
// a tracked client; "10000 clients" mostly the refusal of clients no busier than those
// tracked, the case of a crowd.
func BenchmarkObserveDecision(b *testing.B) {
	for _, clients := range []int{1, 10_000} {
		ds := allowedDecisions(b, clients)
		obs, err := promlimit.New(prometheus.NewRegistry(), config.MetricsConfig{})
		if err != nil {
			b.Fatal(err)
		}
		for i := range ds {
			obs.ObserveDecision(&ds[i])
		}
		b.Run(fmt.Sprintf("%d clients", clients), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				obs.ObserveDecision(&ds[i])
				if i++; i == len(ds) {
					i = 0
				}
			}
		})
		b.Run(fmt.Sprintf("%d clients parallel", clients), func(b *testing.B) {
			b.ReportAllocs()
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(7919)) % len(ds)
				for pb.Next() {
					obs.ObserveDecision(&ds[i])
					if i++; i == len(ds) {
						i = 0
					}
				}
			})
		})
	}
}

// BenchmarkObserveBackend measures timing one successful backend operation.
func BenchmarkObserveBackend(b *testing.B) {
	obs, err := promlimit.New(prometheus.NewRegistry(), config.MetricsConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			obs.ObserveBackend("take", 300*time.Microsecond, "")
		}
	})
}

// BenchmarkScrape measures a scrape of the registry with a full client tracker.
func BenchmarkScrape(b *testing.B) {
	ds := allowedDecisions(b, 10_000)
	reg := prometheus.NewRegistry()
	obs, err := promlimit.New(reg, config.MetricsConfig{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range ds {
		obs.ObserveDecision(&ds[i])
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
