package clientip_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/clientip"
)

func TestClientIPXForwardedFor(t *testing.T) {
	t.Parallel()
	r := newResolver(t, "")
	const proxy = "10.0.0.1:4242"
	runResolveCases(t, r, "X-Forwarded-For", []resolveCase{
		{name: "no header", remote: proxy, want: "10.0.0.1"},
		{name: "untrusted peer ignores header", remote: "203.0.113.9:1234", lines: []string{"6.6.6.6, 198.51.100.1"}, want: "203.0.113.9"},
		{name: "untrusted peer ignores trusted-looking header", remote: "203.0.113.9:1234", lines: []string{"10.0.0.7"}, want: "203.0.113.9"},
		{name: "single entry", remote: proxy, lines: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "spoofed leftmost entry", remote: proxy, lines: []string{"6.6.6.6, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "many spoofed entries", remote: proxy, lines: []string{"1.1.1.1, 2.2.2.2, 10.9.9.9, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "lines merged", remote: proxy, lines: []string{"6.6.6.6", "203.0.113.7, 10.0.0.2"}, want: "203.0.113.7"},
		{name: "lines merged, client in first line", remote: proxy, lines: []string{"6.6.6.6, 203.0.113.7", "10.0.0.3", "192.168.1.1"}, want: "203.0.113.7"},
		{name: "client spoofs a whole line", remote: proxy, lines: []string{"6.6.6.6", "203.0.113.7"}, want: "203.0.113.7"},
		{name: "trusted chain", remote: proxy, lines: []string{"6.6.6.6, 203.0.113.7, 10.1.1.1, 192.168.1.1, 10.0.0.2"}, want: "203.0.113.7"},
		{name: "first untrusted from the right wins", remote: proxy, lines: []string{"203.0.113.7, 198.51.100.2, 10.0.0.9"}, want: "198.51.100.2"},
		{name: "all trusted gives leftmost", remote: proxy, lines: []string{"10.0.0.5, 10.0.0.4", "192.168.1.1"}, want: "10.0.0.5"},
		{name: "malformed in the middle stops the walk", remote: proxy, lines: []string{"203.0.113.7, unknown, 10.0.0.9"}, want: "10.0.0.9"},
		{name: "malformed rightmost gives the peer", remote: proxy, lines: []string{"203.0.113.7, garbage"}, want: "10.0.0.1"},
		{name: "malformed leftmost after trusted", remote: proxy, lines: []string{"junk, 10.0.0.5"}, want: "10.0.0.5"},
		{name: "malformed before untrusted is never reached", remote: proxy, lines: []string{"junk, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "obfuscated entry", remote: proxy, lines: []string{"203.0.113.7, _hidden, 10.0.0.9"}, want: "10.0.0.9"},
		{name: "empty entry", remote: proxy, lines: []string{"203.0.113.7, , 10.0.0.9"}, want: "10.0.0.9"},
		{name: "trailing comma", remote: proxy, lines: []string{"203.0.113.7,"}, want: "10.0.0.1"},
		{name: "empty line", remote: proxy, lines: []string{"203.0.113.7", ""}, want: "10.0.0.1"},
		{name: "malformed line stops the walk", remote: proxy, lines: []string{"203.0.113.7", "nope", "10.0.0.9"}, want: "10.0.0.9"},
		{name: "spaces and tabs", remote: proxy, lines: []string{" \t6.6.6.6\t,\t 203.0.113.7 \t"}, want: "203.0.113.7"},
		{name: "no spaces", remote: proxy, lines: []string{"6.6.6.6,203.0.113.7,10.0.0.2"}, want: "203.0.113.7"},
		{name: "ipv4 with port", remote: proxy, lines: []string{"203.0.113.7:8080"}, want: "203.0.113.7"},
		{name: "trusted with port skipped", remote: proxy, lines: []string{"203.0.113.7, 10.0.0.2:443"}, want: "203.0.113.7"},
		{name: "bad port", remote: proxy, lines: []string{"203.0.113.7:65536"}, want: "10.0.0.1"},
		{name: "empty port", remote: proxy, lines: []string{"203.0.113.7:"}, want: "10.0.0.1"},
		{name: "ipv6 entry", remote: proxy, lines: []string{"2001:db8:1:2::abcd"}, want: "2001:db8:1:2::abcd"},
		{name: "ipv6 entry bracketed with port", remote: proxy, lines: []string{"[2001:db8:1:2::abcd]:4711"}, want: "2001:db8:1:2::abcd"},
		{name: "ipv6 entry bracketed", remote: proxy, lines: []string{"[2001:db8:1:2::abcd]"}, want: "2001:db8:1:2::abcd"},
		{name: "ipv6 non-canonical", remote: proxy, lines: []string{"2001:0DB8:0000:0000:0000:0000:0000:0001"}, want: "2001:db8::1"},
		{name: "ipv6 trusted hop skipped", remote: proxy, lines: []string{"203.0.113.7, 2001:db8:ffff::9"}, want: "203.0.113.7"},
		{name: "ipv6 trusted peer", remote: "[2001:db8:ffff::1]:443", lines: []string{"2001:db8:1::5, 10.0.0.2"}, want: "2001:db8:1::5"},
		{name: "ipv6 untrusted peer", remote: "[2001:db8:1::5]:443", lines: []string{"203.0.113.7"}, want: "2001:db8:1::5"},
		{name: "mapped entry is ipv4", remote: proxy, lines: []string{"::ffff:203.0.113.7"}, want: "203.0.113.7"},
		{name: "mapped bracketed entry", remote: proxy, lines: []string{"[::ffff:203.0.113.7]:80"}, want: "203.0.113.7"},
		{name: "mapped trusted entry skipped", remote: proxy, lines: []string{"203.0.113.7, ::ffff:10.0.0.2"}, want: "203.0.113.7"},
		{name: "mapped trusted peer", remote: "[::ffff:10.0.0.1]:80", lines: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "peer trusted by mapped entry", remote: "172.16.3.4:80", lines: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "bracketed ipv4 is malformed", remote: proxy, lines: []string{"[203.0.113.7]:80"}, want: "10.0.0.1"},
		{name: "zoned entry", remote: proxy, lines: []string{"fe80::1%eth0"}, want: "fe80::1"},
		{name: "zoned bracketed entry", remote: proxy, lines: []string{"[fe80::1%eth0]:80"}, want: "fe80::1"},
		{name: "zoned ipv4 is malformed", remote: proxy, lines: []string{"203.0.113.7%eth0"}, want: "10.0.0.1"},
		{name: "empty zone is malformed", remote: proxy, lines: []string{"fe80::1%"}, want: "10.0.0.1"},
		{name: "zoned peer", remote: "[fe80::1%eth0]:80", lines: []string{"203.0.113.7"}, want: "fe80::1"},
		{name: "hostname", remote: proxy, lines: []string{"example.com"}, want: "10.0.0.1"},
		{name: "five octets", remote: proxy, lines: []string{"1.2.3.4.5"}, want: "10.0.0.1"},
		{name: "octet overflow", remote: proxy, lines: []string{"1.2.3.256"}, want: "10.0.0.1"},
		{name: "leading zeros", remote: proxy, lines: []string{"01.2.3.4"}, want: "10.0.0.1"},
		{name: "unclosed bracket", remote: proxy, lines: []string{"[2001:db8::1"}, want: "10.0.0.1"},
		{name: "stray bracket", remote: proxy, lines: []string{"2001:db8::1]:80"}, want: "10.0.0.1"},
		{name: "binary garbage", remote: proxy, lines: []string{"\x00\xff\xfe,;;[[]]::::%%"}, want: "10.0.0.1"},
		{name: "only commas", remote: proxy, lines: []string{",,,"}, want: "10.0.0.1"},
		{name: "very long entry", remote: proxy, lines: []string{"1111111111111111111111111111111111111111111111111111111111111111"}, want: "10.0.0.1"},
		{name: "unparsable peer", remote: "@", lines: []string{"203.0.113.7"}, want: ""},
	})
}

func TestClientIPRemoteAddr(t *testing.T) {
	t.Parallel()
	var zero clientip.Resolver // trusts nothing: the peer is always the answer
	cases := []struct {
		remote string
		want   string // "" when ok must be false
	}{
		{"203.0.113.7:1234", "203.0.113.7"},
		{"203.0.113.7", "203.0.113.7"},
		{"203.0.113.7:0", "203.0.113.7"},
		{"[2001:db8::1]:80", "2001:db8::1"},
		{"[2001:db8::1]", "2001:db8::1"},
		{"2001:db8::1", "2001:db8::1"},
		{"[fe80::1%eth0]:80", "fe80::1"},
		{"fe80::1%eth0", "fe80::1"},
		{"[::ffff:203.0.113.7]:80", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"[::1]:65535", "::1"},
		{"", ""},
		{"@", ""},
		{"/tmp/app.sock", ""},
		{"localhost:80", ""},
		{":80", ""},
		{"203.0.113.7:", ""},
		{"203.0.113.7:http", ""},
		{"203.0.113.7:99999", ""},
		{"203.0.113.7:80:90", ""},
		{"[203.0.113.7]:80", ""},
		{"[2001:db8::1]80", ""},
		{"[]:80", ""},
		{"[", ""},
		{"]", ""},
		{"2001:db8::1%", ""},
		{"\xff\xfe", ""},
	}
	for _, tc := range cases {
		t.Run(tc.remote, func(t *testing.T) {
			t.Parallel()
			got, ok := zero.ClientIP(tc.remote, http.Header{"X-Forwarded-For": {"198.51.100.1"}})
			if tc.want == "" {
				assert.False(t, ok)
				assert.False(t, got.IsValid())
				return
			}
			require.True(t, ok)
			assert.Equal(t, tc.want, got.String())
		})
	}
}

func TestClientIPXRealIP(t *testing.T) {
	t.Parallel()
	r := newResolver(t, "X-Real-IP")
	const proxy = "10.0.0.1:4242"
	runResolveCases(t, r, "X-Real-IP", []resolveCase{
		{name: "set by proxy", remote: proxy, lines: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "missing", remote: proxy, want: "10.0.0.1"},
		{name: "untrusted peer", remote: "203.0.113.9:1", lines: []string{"6.6.6.6"}, want: "203.0.113.9"},
		{name: "last line wins", remote: proxy, lines: []string{"6.6.6.6", "203.0.113.7"}, want: "203.0.113.7"},
		{name: "trimmed", remote: proxy, lines: []string{" 203.0.113.7\t"}, want: "203.0.113.7"},
		{name: "with port", remote: proxy, lines: []string{"203.0.113.7:80"}, want: "203.0.113.7"},
		{name: "ipv6 bracketed", remote: proxy, lines: []string{"[2001:db8::7]:80"}, want: "2001:db8::7"},
		{name: "mapped", remote: proxy, lines: []string{"::ffff:203.0.113.7"}, want: "203.0.113.7"},
		{name: "trusted address used as is", remote: proxy, lines: []string{"10.0.0.5"}, want: "10.0.0.5"},
		{name: "list is malformed", remote: proxy, lines: []string{"6.6.6.6, 203.0.113.7"}, want: "10.0.0.1"},
		{name: "garbage", remote: proxy, lines: []string{"unknown"}, want: "10.0.0.1"},
		{name: "malformed last line", remote: proxy, lines: []string{"203.0.113.7", "nope"}, want: "10.0.0.1"},
	})

	t.Run("X-Forwarded-For ignored", func(t *testing.T) {
		t.Parallel()
		got, ok := r.ClientIP(proxy, http.Header{"X-Forwarded-For": {"203.0.113.7"}})
		require.True(t, ok)
		assert.Equal(t, "10.0.0.1", got.String())
	})
}

func TestNew(t *testing.T) {
	t.Parallel()
	valid := []clientip.Config{
		{},
		{Header: "X-Forwarded-For"},
		{Header: "x-forwarded-for"},
		{Header: "Forwarded"},
		{Header: "FORWARDED"},
		{Header: "X-Real-IP"},
		{Header: "x-real-ip"},
		{IPv6Prefix: 1},
		{IPv6Prefix: 128},
		{TrustedProxies: []string{"10.0.0.0/8", " 192.168.0.1 ", "::1", "2001:db8::/32", "::ffff:10.0.0.0/104"}},
	}
	for _, cfg := range valid {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			t.Parallel()
			r, err := clientip.New(cfg)
			require.NoError(t, err)
			require.NotNil(t, r)
		})
	}

	invalid := []struct {
		name string
		cfg  clientip.Config
		want []string
	}{
		{
			name: "every problem at once",
			cfg: clientip.Config{
				TrustedProxies: []string{"10.0.0.1", "10.0.0.999", "", "::1/129", "10.0.0.0/8"},
				Header:         "X-Foo",
				IPv6Prefix:     200,
			},
			want: []string{
				`trusted_proxies[1]: not an IP or CIDR, got "10.0.0.999"`,
				`trusted_proxies[2]: not an IP or CIDR, got ""`,
				`trusted_proxies[3]: not an IP or CIDR, got "::1/129"`,
				`header: must be X-Forwarded-For, Forwarded or X-Real-IP, got "X-Foo"`,
				`ipv6_prefix: must be between 1 and 128, got 200`,
			},
		},
		{
			name: "negative prefix",
			cfg:  clientip.Config{IPv6Prefix: -1},
			want: []string{`ipv6_prefix: must be between 1 and 128, got -1`},
		},
		{
			name: "prefix 129",
			cfg:  clientip.Config{IPv6Prefix: 129},
			want: []string{`ipv6_prefix: must be between 1 and 128, got 129`},
		},
		{
			name: "hostname proxy",
			cfg:  clientip.Config{TrustedProxies: []string{"proxy.internal"}},
			want: []string{`trusted_proxies[0]: not an IP or CIDR, got "proxy.internal"`},
		},
		{
			name: "zoned CIDR",
			cfg:  clientip.Config{TrustedProxies: []string{"fe80::1%eth0/64"}},
			want: []string{`trusted_proxies[0]: not an IP or CIDR, got "fe80::1%eth0/64"`},
		},
		{
			name: "X-Client-IP header",
			cfg:  clientip.Config{Header: "X-Client-IP"},
			want: []string{`header: must be X-Forwarded-For, Forwarded or X-Real-IP, got "X-Client-IP"`},
		},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := clientip.New(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, r)
			assert.Equal(t, strings.Join(tc.want, "\n"), err.Error(), "errors.Join puts one problem per line")

			var joined interface{ Unwrap() []error }
			require.True(t, errors.As(err, &joined))
			assert.Len(t, joined.Unwrap(), len(tc.want), "one flat error per problem")
		})
	}
}

func TestResolverZeroValue(t *testing.T) {
	t.Parallel()
	var r clientip.Resolver
	got, ok := r.ClientIP("10.0.0.1:80", http.Header{"X-Forwarded-For": {"203.0.113.7"}})
	require.True(t, ok)
	assert.Equal(t, "10.0.0.1", got.String(), "zero Resolver trusts no proxy")
}

func TestClientIPConcurrent(t *testing.T) {
	t.Parallel()
	r := newResolver(t, "")
	h := http.Header{"X-Forwarded-For": {"6.6.6.6, 203.0.113.7, 10.0.0.2"}}
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 1000 {
				got, ok := r.ClientIP("10.0.0.1:1", h)
				if !ok || got.String() != "203.0.113.7" {
					t.Errorf("got %v %v", got, ok)
					return
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
}
