// Package clientip finds the address a request is rate limited under.
//
// The client address starts from the TCP peer (http.Request.RemoteAddr). Forwarding
// headers are read only when the peer is one of the configured trusted proxies, because
// anyone can send them: the leftmost X-Forwarded-For entry in particular is whatever the
// client chose to write. The header named by Config.Header (X-Forwarded-For by default,
// the RFC 7239 Forwarded header, or X-Real-IP) is then walked from right to left, the
// order in which proxies appended to it, skipping addresses of trusted proxies; the first
// untrusted address is the client. Helpers of web frameworks (gin's ClientIP, echo's
// RealIP, chi's RealIP middleware) are deliberately not used: by default they believe
// those headers from any peer.
//
// IPv4-mapped IPv6 addresses (::ffff:192.0.2.1) are treated as IPv4 everywhere and IPv6
// zones are dropped. Clients are counted under a key prefix (Resolver.Key): the /32 of an
// IPv4 address, the /64 (Config.IPv6Prefix) of an IPv6 address, because a single IPv6
// host usually owns a whole /64 and could otherwise rotate through addresses at will.
//
// Everything here is built once from a Config (New) and is then read-only: a Resolver
// and a PrefixSet are safe for concurrent use, never panic on any input, and resolving
// the usual requests allocates nothing.
package clientip
