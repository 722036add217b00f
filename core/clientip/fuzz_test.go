package clientip_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzSeeds are header values shared by both fuzz targets; "\n" separates header lines.
var fuzzSeeds = []string{
	"",
	"203.0.113.7",
	"6.6.6.6, 203.0.113.7",
	"6.6.6.6, 203.0.113.7, 10.1.1.1, 192.168.1.1, 10.0.0.2",
	"6.6.6.6\n203.0.113.7, 10.0.0.2",
	"10.0.0.5, 10.0.0.4",
	"203.0.113.7, unknown, 10.0.0.9",
	"203.0.113.7, _hidden, 10.0.0.9",
	"203.0.113.7, , 10.0.0.9",
	"203.0.113.7,",
	" \t203.0.113.7\t ",
	"203.0.113.7:8080, 10.0.0.2:443",
	"[2001:db8:1:2::abcd]:4711, 2001:db8:ffff::9",
	"2001:db8:1:2::abcd",
	"::ffff:203.0.113.7, ::ffff:10.0.0.2",
	"[::ffff:203.0.113.7]:80",
	"fe80::1%eth0, [fe80::2%eth1]:80",
	"[203.0.113.7]:80",
	"[fe80::1%]]:80",
	"1.2.3.4.5, 1.2.3.256, 01.2.3.4",
	"\x00\xff\xfe,;;[[]]::::%%",
	"for=203.0.113.7",
	"for=6.6.6.6, for=203.0.113.7;proto=https;by=10.0.0.1",
	`For="[2001:db8:cafe::17]:4711", for="[2001:db8:ffff::2]"`,
	`for="203.0.113.7:_p1", FOR=10.0.0.2`,
	`for=_hidden, for=unknown, for=10.0.0.2`,
	"for=203.0.113.7, proto=https",
	`for=203.0.113.7;host="a,b;for=6.6.6.6", for=10.0.0.2`,
	`for=6.6.6.6, for=203.0.113.7;x="\",for=10.0.0.9"`,
	`for="6.6.6.6, for=203.0.113.7`,
	`for="\2\03.0.113.7"`,
	`for="[::ffff:203.0.113.7]", for=[fe80::1%eth0]:80`,
	"for=6.6.6.6\nfor=203.0.113.7, for=10.0.0.2",
	`;for=203.0.113.7;;proto=http;, for = 10.0.0.2 `,
	`for="\`,
}

// fuzzPeers are RemoteAddr values: trusted, untrusted and unparsable.
var fuzzPeers = []string{"10.0.0.1:4242", "[2001:db8:ffff::1]:443", "[::ffff:10.0.0.1]:80", "203.0.113.9:1", "192.168.1.1", "@", ""}

// refTrusted is testTrusted written as netip prefixes, independently of PrefixSet.
var refTrusted = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("192.168.1.1/32"),
	netip.MustParsePrefix("2001:db8:ffff::/48"),
	netip.MustParsePrefix("172.16.0.0/12"),
}

func refIsTrusted(a netip.Addr) bool {
	for _, p := range refTrusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// refNode is a plain reading of an address entry with the standard library only: an IP,
// an ip:port as netip.ParseAddrPort reads it, or a bracketed IPv6 without port.
func refNode(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return a.WithZone("").Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// refXForwardedFor is the X-Forwarded-For rule written the obvious, allocating way.
func refXForwardedFor(peer netip.Addr, lines []string) netip.Addr {
	var entries []string
	for _, l := range lines {
		entries = append(entries, strings.Split(l, ",")...)
	}
	last := peer
	for i := len(entries) - 1; i >= 0; i-- {
		a, ok := refNode(strings.Trim(entries[i], " \t"))
		if !ok {
			return last
		}
		if !refIsTrusted(a) {
			return a
		}
		last = a
	}
	return last
}

// appearsIn reports whether a is written somewhere in input: it tries every piece of
// input between delimiters of the header syntaxes, with and without a trailing ":port".
// Backslashes are dropped first, as quoted-pair escapes may split an address.
func appearsIn(a netip.Addr, input string) bool {
	input = strings.ReplaceAll(input, `\`, "")
	pieces := strings.FieldsFunc(input, func(r rune) bool { return strings.ContainsRune(",;=\"[]% \t\n", r) })
	for _, p := range pieces {
		cands := []string{p}
		if i := strings.LastIndexByte(p, ':'); i >= 0 {
			cands = append(cands, p[:i])
		}
		for _, c := range cands {
			if b, err := netip.ParseAddr(c); err == nil && b.Unmap() == a {
				return true
			}
		}
	}
	return false
}

// linesOf splits a fuzz header value into header lines; "" means no header at all.
func linesOf(header string) []string {
	if header == "" {
		return nil
	}
	return strings.Split(header, "\n")
}

// checkResult asserts what holds for every header: the result is the peer or an
// address written in the header, valid, unmapped and without zone.
func checkResult(t *testing.T, remote, header string, got netip.Addr, ok bool) netip.Addr {
	t.Helper()
	peer, peerOK := refNode(remote)
	require.Equal(t, peerOK, ok, "ok must say whether RemoteAddr %q parses", remote)
	if !ok {
		require.False(t, got.IsValid())
		return netip.Addr{}
	}
	require.True(t, got.IsValid())
	require.False(t, got.Is4In6(), "result %v must be unmapped", got)
	require.Empty(t, got.Zone())
	if got != peer {
		require.True(t, refIsTrusted(peer), "header read from untrusted peer %v", peer)
		require.True(t, appearsIn(got, header), "%v is neither the peer nor in the header %q", got, header)
	}
	return peer
}

func FuzzForwardedFor(f *testing.F) {
	for _, h := range fuzzSeeds {
		for _, p := range fuzzPeers {
			f.Add(p, h)
		}
	}
	r := newResolver(f, "X-Forwarded-For")
	f.Fuzz(func(t *testing.T, remote, header string) {
		lines := linesOf(header)
		got, ok := r.ClientIP(remote, http.Header{"X-Forwarded-For": lines})
		peer := checkResult(t, remote, header, got, ok)
		if ok && refIsTrusted(peer) {
			require.Equal(t, refXForwardedFor(peer, lines), got, "differs from the reference walk")
		}
	})
}

func FuzzForwarded(f *testing.F) {
	for _, h := range fuzzSeeds {
		for _, p := range fuzzPeers {
			f.Add(p, h)
		}
	}
	r := newResolver(f, "Forwarded")
	f.Fuzz(func(t *testing.T, remote, header string) {
		lines := linesOf(header)
		got, ok := r.ClientIP(remote, http.Header{"Forwarded": lines})
		peer := checkResult(t, remote, header, got, ok)
		if ok && got != peer && len(lines) > 0 {
			// Anything believed from the header comes from an element with a "for" pair.
			require.Contains(t, strings.ToLower(header), "for", "no for= in %q", header)
		}
	})
}
