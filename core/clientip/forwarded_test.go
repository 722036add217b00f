package clientip_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientIPForwarded(t *testing.T) {
	t.Parallel()
	r := newResolver(t, "Forwarded")
	const proxy = "10.0.0.1:4242"
	runResolveCases(t, r, "Forwarded", []resolveCase{
		{name: "no header", remote: proxy, want: "10.0.0.1"},
		{name: "untrusted peer ignores header", remote: "203.0.113.9:1", lines: []string{"for=6.6.6.6"}, want: "203.0.113.9"},
		{name: "single element", remote: proxy, lines: []string{"for=203.0.113.7"}, want: "203.0.113.7"},
		{name: "rfc example with parameters", remote: proxy, lines: []string{"for=203.0.113.7;proto=http;by=10.0.0.1"}, want: "203.0.113.7"},
		{name: "for not first", remote: proxy, lines: []string{"proto=https;for=203.0.113.7;host=example.com"}, want: "203.0.113.7"},
		{name: "parameter name case-insensitive", remote: proxy, lines: []string{"For=203.0.113.7"}, want: "203.0.113.7"},
		{name: "parameter name upper case", remote: proxy, lines: []string{"FOR=203.0.113.7"}, want: "203.0.113.7"},
		{name: "quoted ipv4", remote: proxy, lines: []string{`for="203.0.113.7"`}, want: "203.0.113.7"},
		{name: "quoted ipv4 with port", remote: proxy, lines: []string{`for="203.0.113.7:8080"`}, want: "203.0.113.7"},
		{name: "quoted ipv6 with port", remote: proxy, lines: []string{`For="[2001:db8:cafe::17]:4711"`}, want: "2001:db8:cafe::17"},
		{name: "quoted ipv6 without port", remote: proxy, lines: []string{`for="[2001:db8:cafe::17]"`}, want: "2001:db8:cafe::17"},
		{name: "unquoted bracketed ipv6 tolerated", remote: proxy, lines: []string{`for=[2001:db8:cafe::17]:4711`}, want: "2001:db8:cafe::17"},
		{name: "obfuscated port", remote: proxy, lines: []string{`for="203.0.113.7:_p1"`}, want: "203.0.113.7"},
		{name: "bad obfuscated port", remote: proxy, lines: []string{`for="203.0.113.7:_"`}, want: "10.0.0.1"},
		{name: "mapped", remote: proxy, lines: []string{`for="[::ffff:203.0.113.7]"`}, want: "203.0.113.7"},
		{name: "zoned", remote: proxy, lines: []string{`for="[fe80::1%eth0]:80"`}, want: "fe80::1"},
		{name: "escaped quoted value", remote: proxy, lines: []string{`for="\2\03.0.113.7"`}, want: "203.0.113.7"},
		{name: "spoofed leftmost element", remote: proxy, lines: []string{"for=6.6.6.6, for=203.0.113.7"}, want: "203.0.113.7"},
		{name: "trusted chain", remote: proxy, lines: []string{`for=6.6.6.6, for=203.0.113.7;proto=https, for=10.1.1.1;by=10.0.0.1, for="[2001:db8:ffff::2]"`}, want: "203.0.113.7"},
		{name: "all trusted gives leftmost", remote: proxy, lines: []string{"for=10.0.0.3, for=10.0.0.2"}, want: "10.0.0.3"},
		{name: "lines merged", remote: proxy, lines: []string{"for=6.6.6.6", "for=203.0.113.7, for=10.0.0.2"}, want: "203.0.113.7"},
		{name: "client spoofs a whole line", remote: proxy, lines: []string{"for=6.6.6.6", "for=203.0.113.7"}, want: "203.0.113.7"},
		{name: "obfuscated identifier stops the walk", remote: proxy, lines: []string{"for=203.0.113.7, for=_hidden, for=10.0.0.2"}, want: "10.0.0.2"},
		{name: "obfuscated rightmost gives the peer", remote: proxy, lines: []string{`for="_gazonk"`}, want: "10.0.0.1"},
		{name: "unknown gives the peer", remote: proxy, lines: []string{"for=unknown"}, want: "10.0.0.1"},
		{name: "element without for", remote: proxy, lines: []string{"for=203.0.113.7, proto=https"}, want: "10.0.0.1"},
		{name: "element without for in the middle", remote: proxy, lines: []string{"for=203.0.113.7, by=10.0.0.5, for=10.0.0.2"}, want: "10.0.0.2"},
		{name: "empty element", remote: proxy, lines: []string{"for=203.0.113.7, , for=10.0.0.2"}, want: "10.0.0.2"},
		{name: "duplicate for", remote: proxy, lines: []string{"for=203.0.113.7;for=6.6.6.6"}, want: "10.0.0.1"},
		{name: "empty pairs tolerated", remote: proxy, lines: []string{";for=203.0.113.7;;proto=http;"}, want: "203.0.113.7"},
		{name: "spaces tolerated", remote: proxy, lines: []string{" for = 203.0.113.7 ; proto=http ,\tfor=10.0.0.2 "}, want: "203.0.113.7"},
		{name: "comma and semicolon in quoted string", remote: proxy, lines: []string{`for=203.0.113.7;host="a,b;for=6.6.6.6", for=10.0.0.2`}, want: "203.0.113.7"},
		{name: "escaped quote in quoted string", remote: proxy, lines: []string{`for=6.6.6.6, for=203.0.113.7;x="\",for=10.0.0.9"`}, want: "203.0.113.7"},
		{name: "escaped backslash before closing quote", remote: proxy, lines: []string{`for=6.6.6.6, for=203.0.113.7;x="a\\", for=10.0.0.2`}, want: "203.0.113.7"},
		{name: "client's unterminated quote does not swallow later elements", remote: proxy, lines: []string{`for="6.6.6.6, for=203.0.113.7`}, want: "203.0.113.7"},
		{name: "unterminated quote stops the walk", remote: proxy, lines: []string{`for="203.0.113.7, for=10.0.0.2`}, want: "10.0.0.2"},
		{name: "unterminated quote then trusted element", remote: proxy, lines: []string{`x="a, for=203.0.113.7, for=10.0.0.2`}, want: "203.0.113.7"},
		{name: "missing value", remote: proxy, lines: []string{"for="}, want: "10.0.0.1"},
		{name: "missing equals", remote: proxy, lines: []string{"for"}, want: "10.0.0.1"},
		{name: "junk after value", remote: proxy, lines: []string{"for=203.0.113.7 junk"}, want: "10.0.0.1"},
		{name: "junk after quoted value", remote: proxy, lines: []string{`for="203.0.113.7"junk`}, want: "10.0.0.1"},
		{name: "bad parameter name", remote: proxy, lines: []string{"f(o)r=203.0.113.7"}, want: "10.0.0.1"},
		{name: "space inside quotes", remote: proxy, lines: []string{`for=" 203.0.113.7"`}, want: "10.0.0.1"},
		{name: "bare X-Forwarded-For style value", remote: proxy, lines: []string{"203.0.113.7"}, want: "10.0.0.1"},
		{name: "hostname", remote: proxy, lines: []string{"for=example.com"}, want: "10.0.0.1"},
		{name: "lone backslash in quotes", remote: proxy, lines: []string{`for="\`}, want: "10.0.0.1"},
		{name: "very long escaped value", remote: proxy, lines: []string{`for="\1111111111111111111111111111111111111111111111111111111111111111111111"`}, want: "10.0.0.1"},
		{name: "binary garbage", remote: proxy, lines: []string{"\x00\xff\"\\,;=\"\"\\\"[]%"}, want: "10.0.0.1"},
		{name: "unparsable peer", remote: "", lines: []string{"for=203.0.113.7"}, want: ""},
	})

	t.Run("X-Forwarded-For ignored", func(t *testing.T) {
		t.Parallel()
		got, ok := r.ClientIP(proxy, http.Header{"X-Forwarded-For": {"203.0.113.7"}})
		require.True(t, ok)
		assert.Equal(t, "10.0.0.1", got.String())
	})
}
