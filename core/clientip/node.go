package clientip

import (
	"net/netip"
	"strings"
)

// parseNode parses one address as it appears in RemoteAddr, an X-Forwarded-For entry,
// an X-Real-IP value or the value of a Forwarded "for" parameter:
//
//	192.0.2.7            bare IPv4
//	192.0.2.7:4711       IPv4 and port
//	2001:db8::7          bare IPv6 (with an optional %zone)
//	[2001:db8::7]        bracketed IPv6 (with an optional %zone)
//	[2001:db8::7]:4711   bracketed IPv6 and port
//
// A port is decimal, 0 to 65535; with obfPort an RFC 7239 obfuscated port ("_abc") is
// accepted as well. The result is unmapped and has no zone. Anything else, including an
// empty string, "unknown" and obfuscated identifiers ("_hidden"), reports false.
func parseNode(s string, obfPort bool) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if s[0] == '[' {
		// Like netip.ParseAddrPort, the port is what follows the last colon.
		var host string
		if s[len(s)-1] == ']' {
			host = s[1 : len(s)-1]
		} else {
			i := strings.LastIndexByte(s, ':')
			if i < 2 || s[i-1] != ']' || !validPort(s[i+1:], obfPort) {
				return netip.Addr{}, false
			}
			host = s[1 : i-1]
		}
		a, ok := parseAddr(host)
		if !ok || !a.Is6() { // brackets only hold IPv6 (an IPv4-mapped one is IPv6 here)
			return netip.Addr{}, false
		}
		return a.Unmap(), true
	}
	// An IPv6 address has at least two colons; exactly one means IPv4:port.
	if i := strings.IndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i+1:], ':') < 0 {
		a, ok := parseAddr(s[:i])
		if !ok || !a.Is4() || !validPort(s[i+1:], obfPort) {
			return netip.Addr{}, false
		}
		return a, true
	}
	a, ok := parseAddr(s)
	if !ok {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// parseIPv4Port parses s when it is "a.b.c.d:port", the peer address net/http gives for
// an IPv4 connection, in one pass: four decimal octets of 0 to 255 without leading zeros
// (what netip.ParseAddr accepts) and a decimal port (validPort). ok is false for anything
// else, which parseNode then decides; whenever ok is true, the address is the one
// parseNode returns (TestParseIPv4PortIsParseNode).
func parseIPv4Port(s string) (netip.Addr, bool) {
	var ip [4]byte
	n, octet, digits := 0, 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			if digits > 0 && octet == 0 { // a leading zero
				return netip.Addr{}, false
			}
			octet, digits = octet*10+int(c-'0'), digits+1
			if octet > 255 {
				return netip.Addr{}, false
			}
		case c == '.' && digits > 0 && n < 3:
			ip[n], n, octet, digits = byte(octet), n+1, 0, 0
		case c == ':' && digits > 0 && n == 3:
			ip[3] = byte(octet)
			if !validPort(s[i+1:], false) {
				return netip.Addr{}, false
			}
			return netip.AddrFrom4(ip), true
		default:
			return netip.Addr{}, false
		}
	}
	return netip.Addr{}, false
}

// parseAddr parses a bare IP address with an optional IPv6 zone, which it drops. It
// rejects most garbage before calling netip.ParseAddr, whose errors allocate.
func parseAddr(s string) (netip.Addr, bool) {
	zoned := false
	if i := strings.IndexByte(s, '%'); i >= 0 {
		if i == len(s)-1 { // empty zone
			return netip.Addr{}, false
		}
		s, zoned = s[:i], true
	}
	if len(s) < 2 || len(s) > 45 || !addrChars(s) {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || (zoned && !a.Is6()) {
		return netip.Addr{}, false
	}
	return a, true
}

// addrChars reports whether s holds only characters of a textual IP address.
func addrChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == ':' || c == '.') {
			return false
		}
	}
	return true
}

// validPort reports whether s is a decimal port (0-65535, leading zeros allowed) or,
// with obf, an RFC 7239 obfport: "_" followed by ALPHA, DIGIT, ".", "_" or "-".
func validPort(s string, obf bool) bool {
	if s == "" {
		return false
	}
	if obf && s[0] == '_' {
		for i := 1; i < len(s); i++ {
			c := s[i]
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
		return len(s) > 1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return false
		}
	}
	return true
}

// trimOWS removes the optional whitespace (spaces and horizontal tabs) of HTTP around s.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
