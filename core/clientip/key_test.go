package clientip_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/clientip"
)

func TestKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prefix int // Config.IPv6Prefix
		addr   string
		want   string // AppendKey text
	}{
		{name: "ipv4", addr: "203.0.113.7", want: "203.0.113.7"},
		{name: "ipv4 ignores ipv6 prefix", prefix: 48, addr: "203.0.113.7", want: "203.0.113.7"},
		{name: "mapped is ipv4", addr: "::ffff:203.0.113.7", want: "203.0.113.7"},
		{name: "ipv6 default /64", addr: "2001:db8:1:2:aaaa::1", want: "2001:db8:1:2::/64"},
		{name: "ipv6 same /64", addr: "2001:db8:1:2:ffff:ffff:ffff:ffff", want: "2001:db8:1:2::/64"},
		{name: "ipv6 /64 explicit", prefix: 64, addr: "2001:db8:1:2:aaaa::1", want: "2001:db8:1:2::/64"},
		{name: "ipv6 /48", prefix: 48, addr: "2001:db8:1:2:aaaa::1", want: "2001:db8:1::/48"},
		{name: "ipv6 /56", prefix: 56, addr: "2001:db8:1:2ff:aaaa::1", want: "2001:db8:1:200::/56"},
		{name: "ipv6 /128", prefix: 128, addr: "2001:db8:1:2:aaaa::1", want: "2001:db8:1:2:aaaa::1"},
		{name: "ipv6 /1", prefix: 1, addr: "2001:db8::1", want: "::/1"},
		{name: "zone dropped", addr: "fe80::1:2:3:4%eth0", want: "fe80::/64"},
		{name: "zone dropped /128", prefix: 128, addr: "fe80::1%eth0", want: "fe80::1"},
		{name: "loopback", addr: "::1", want: "::/64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := clientip.New(clientip.Config{IPv6Prefix: tc.prefix})
			require.NoError(t, err)
			p := r.Key(netip.MustParseAddr(tc.addr))
			require.True(t, p.IsValid())
			assert.Equal(t, p, p.Masked(), "key must be masked")
			assert.Empty(t, p.Addr().Zone())
			assert.False(t, p.Addr().Is4In6())
			assert.Equal(t, tc.want, string(clientip.AppendKey(nil, p)))
			assert.Equal(t, "ip:"+tc.want, string(clientip.AppendKey([]byte("ip:"), p)))
		})
	}

	t.Run("zero addr", func(t *testing.T) {
		t.Parallel()
		r, err := clientip.New(clientip.Config{})
		require.NoError(t, err)
		p := r.Key(netip.Addr{})
		assert.False(t, p.IsValid())
		assert.Equal(t, "ip:", string(clientip.AppendKey([]byte("ip:"), p)))
	})

	t.Run("zero resolver keys ipv6 by /64", func(t *testing.T) {
		t.Parallel()
		var r clientip.Resolver
		assert.Equal(t, "2001:db8:1:2::/64", string(clientip.AppendKey(nil, r.Key(netip.MustParseAddr("2001:db8:1:2::99")))))
	})
}

func TestAppendKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefix string
		want   string
	}{
		{"203.0.113.7/32", "203.0.113.7"},
		{"2001:db8::1/128", "2001:db8::1"},
		{"2001:db8:1:2::/64", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:3::/64", "2001:db8:1:2::/64"}, // masked
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"0.0.0.0/0", "0.0.0.0/0"},
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, string(clientip.AppendKey(nil, netip.MustParsePrefix(tc.prefix))))
		})
	}
}
