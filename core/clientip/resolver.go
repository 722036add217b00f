package clientip

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/ratewarden/ratewarden/core/internal/defaults"
)

// Header names accepted in Config.Header, in canonical form.
const (
	headerXForwardedFor = "X-Forwarded-For"
	headerForwarded     = "Forwarded"
	headerXRealIP       = "X-Real-Ip" // canonical form of X-Real-IP, as http.Header stores it
)

// headerKind says which forwarding header a Resolver reads.
type headerKind uint8

const (
	kindXForwardedFor headerKind = iota // the zero value: the default
	kindForwarded
	kindXRealIP
)

// Resolver derives client addresses from requests according to a Config. It is built by
// New and never modified afterwards, so it is safe for concurrent use. The zero Resolver
// behaves as New(Config{}): it trusts no proxy, so ClientIP returns the peer, and Key
// uses /64 for IPv6.
type Resolver struct {
	trusted    PrefixSet
	kind       headerKind
	ipv6Prefix int
}

// New validates cfg and builds a Resolver. A zero field means its default: Header ""
// is X-Forwarded-For and IPv6Prefix 0 is 64. Header names are matched
// case-insensitively. TrustedProxies entries are read as by ParsePrefixSet.
//
// The error, when not nil, reports every problem at once, one per line,
// keyed relative to the [client_ip] section of the configuration:
//
//	trusted_proxies[1]: not an IP or CIDR, got "10.0.0.999"
//	header: must be X-Forwarded-For, Forwarded or X-Real-IP, got "X-Foo"
//	ipv6_prefix: must be between 1 and 128, got 200
func New(cfg Config) (*Resolver, error) {
	trusted, problems := parsePrefixSet("trusted_proxies", cfg.TrustedProxies)
	r := &Resolver{trusted: trusted, ipv6Prefix: cfg.IPv6Prefix}

	switch {
	case cfg.Header == "" || strings.EqualFold(cfg.Header, headerXForwardedFor):
		r.kind = kindXForwardedFor
	case strings.EqualFold(cfg.Header, headerForwarded):
		r.kind = kindForwarded
	case strings.EqualFold(cfg.Header, headerXRealIP):
		r.kind = kindXRealIP
	default:
		problems.Add("header", "must be X-Forwarded-For, Forwarded or X-Real-IP, got %q", cfg.Header)
	}

	if r.ipv6Prefix == 0 {
		r.ipv6Prefix = defaults.IPv6Prefix
	} else if r.ipv6Prefix < 1 || r.ipv6Prefix > 128 {
		problems.Add("ipv6_prefix", "must be between 1 and 128, got %d", cfg.IPv6Prefix)
	}

	if len(problems) > 0 {
		return nil, problems
	}
	return r, nil
}

// ClientIP returns the client address of a request whose TCP peer is remoteAddr (as in
// http.Request.RemoteAddr: "ip:port", "[ipv6%zone]:port" or a bare IP) and whose
// headers are h. ok is false, and addr the zero Addr, only when remoteAddr cannot be
// parsed (for example "" or "@" from a Unix socket). The result is always unmapped
// (::ffff:192.0.2.1 is 192.0.2.1) and has no zone.
//
// The peer is the answer unless it is one of the trusted proxies. Only then is the
// configured header read, right to left, never trusting more of it than trusted proxies
// wrote:
//
//   - X-Forwarded-For: every header line, merged in order, is a comma-separated list.
//     Trusted addresses are skipped from the right; the first untrusted one is the client.
//     If all are trusted, the leftmost is the client. An entry may be an IP, "ip:port",
//     "[ipv6]" or "[ipv6]:port" (the port is ignored; an unbracketed IPv6 address is
//     read whole, never split into address and port); any other entry ("unknown",
//     "_hidden", an empty entry, garbage) is malformed and stops the walk: the last good
//     address to its right is the client, or the peer if there is none.
//   - Forwarded (RFC 7239): the same walk over its elements, reading each element's
//     "for" parameter. An element without "for", with "for=unknown" or an obfuscated
//     identifier ("_hidden") is malformed.
//   - X-Real-IP: the last line, a single address (a port is allowed); if it is malformed
//     or missing, the peer.
//
// Entries are trimmed of spaces and tabs. ClientIP never panics, whatever the input, and
// is safe for concurrent use; the usual requests are resolved without allocating.
func (r *Resolver) ClientIP(remoteAddr string, h http.Header) (addr netip.Addr, ok bool) {
	peer, ok := parseIPv4Port(remoteAddr) // the usual peer, in one pass
	if !ok {
		if peer, ok = parseNode(remoteAddr, false); !ok {
			return netip.Addr{}, false
		}
	}
	if !r.trusted.Contains(peer) {
		return peer, true
	}
	// The header names are canonical, so indexing h is h.Values without re-canonicalizing.
	switch r.kind {
	case kindForwarded:
		return r.walk(h[headerForwarded], peer, lastForwardedSep, forwardedFor), true
	case kindXRealIP:
		lines := h[headerXRealIP]
		if len(lines) == 0 {
			return peer, true
		}
		if a, ok := parseNode(trimOWS(lines[len(lines)-1]), false); ok {
			return a, true
		}
		return peer, true
	default:
		return r.walk(h[headerXForwardedFor], peer, lastComma, xffEntry), true
	}
}
