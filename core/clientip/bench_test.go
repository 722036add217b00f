package clientip_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/ratewarden/ratewarden/core/clientip"
)

func BenchmarkClientIP(b *testing.B) {
	xff := newResolver(b, "X-Forwarded-For")
	fwd := newResolver(b, "Forwarded")
	realIP := newResolver(b, "X-Real-IP")
	benches := []struct {
		name   string
		r      *clientip.Resolver
		remote string
		h      http.Header
	}{
		{"untrusted peer", xff, "203.0.113.7:51234", http.Header{"X-Forwarded-For": {"6.6.6.6"}}},
		{"untrusted ipv6 peer", xff, "[2001:db8:1:2::7]:51234", nil},
		{"trusted XFF chain", xff, "10.0.0.1:51234", http.Header{"X-Forwarded-For": {"6.6.6.6, 203.0.113.7, 10.0.0.2"}}},
		{"trusted XFF ipv6", xff, "[2001:db8:ffff::1]:443", http.Header{"X-Forwarded-For": {"2001:db8:1:2::7, 2001:db8:ffff::2"}}},
		{"trusted XFF 2 lines", xff, "10.0.0.1:51234", http.Header{"X-Forwarded-For": {"6.6.6.6", "203.0.113.7, 10.0.0.2"}}},
		{"Forwarded", fwd, "10.0.0.1:51234", http.Header{"Forwarded": {`for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2;by=10.0.0.1`}}},
		{"X-Real-IP", realIP, "10.0.0.1:51234", http.Header{"X-Real-Ip": {"203.0.113.7"}}},
	}
	for _, bc := range benches {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := bc.r.ClientIP(bc.remote, bc.h); !ok {
					b.Fatal("not ok")
				}
			}
		})
	}
	b.Run("trusted XFF chain parallel", func(b *testing.B) {
		h := http.Header{"X-Forwarded-For": {"6.6.6.6, 203.0.113.7, 10.0.0.2"}}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				xff.ClientIP("10.0.0.1:51234", h)
			}
		})
	})
}

func BenchmarkKey(b *testing.B) {
	r := newResolver(b, "")
	v4, v6 := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8:1:2:aaaa::1")
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = clientip.AppendKey(buf[:0], r.Key(v4))
		buf = clientip.AppendKey(buf[:0], r.Key(v6))
	}
}
