package clientip

import (
	"net/netip"
	"strings"
)

// This file reads the RFC 7239 Forwarded header:
//
//	Forwarded         = 1#forwarded-element
//	forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
//	forwarded-pair    = token "=" value
//	value             = token / quoted-string
//
// for example `for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"`.
// Commas, semicolons and equals signs inside quoted strings are data, not separators.
// The parser is lenient where leniency cannot change whose address is believed: spaces
// and tabs are allowed around pairs and around "=", and an unquoted value may hold ":",
// "[" and "]" (for=[2001:db8::1]:80), which RFC 7239 would have quoted.

// maxForValue bounds an escaped quoted "for" value; no valid node is longer.
const maxForValue = 64

// lastForwardedSep returns the index of the last comma of s that separates elements,
// that is one outside quoted strings, or -1. It scans from the right, so the elements
// appended by trusted proxies are split the same way whatever a client put before them.
// A quote preceded by an odd number of backslashes is escaped.
func lastForwardedSep(s string) int {
	inQuote := false
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case ',':
			if !inQuote {
				return i
			}
		case '"':
			n := 0
			for k := i - 1; k >= 0 && s[k] == '\\'; k-- {
				n++
			}
			if n%2 == 0 {
				inQuote = !inQuote
			}
		}
	}
	return -1
}

// forwardedFor returns the address in the "for" parameter of one Forwarded element.
// It reports false for an element that is not well formed, has no "for" parameter or
// has it twice, or whose "for" value is not an address ("unknown", "_hidden").
func forwardedFor(el string) (netip.Addr, bool) {
	var (
		val        string
		found, esc bool
	)
	for s := trimOWS(el); s != ""; s = trimOWS(s) {
		if s[0] == ';' { // empty pair
			s = s[1:]
			continue
		}
		name, v, vesc, rest, ok := nextPair(s)
		if !ok {
			return netip.Addr{}, false
		}
		if len(name) == 3 && strings.EqualFold(name, "for") {
			if found {
				return netip.Addr{}, false
			}
			val, esc, found = v, vesc, true
		}
		s = rest
	}
	if !found {
		return netip.Addr{}, false
	}
	if esc {
		var buf [maxForValue]byte
		n := 0
		for i := 0; i < len(val); i++ {
			if val[i] == '\\' && i+1 < len(val) {
				i++ // the escaped character
			}
			if n == len(buf) {
				return netip.Addr{}, false
			}
			buf[n] = val[i]
			n++
		}
		val = string(buf[:n])
	}
	return parseNode(val, true)
}

// nextPair parses the forwarded-pair at the start of s (which has no leading
// whitespace): its name, its value (the content of a quoted string, still escaped when
// esc is true) and what follows the pair and its ";" separator.
func nextPair(s string) (name, val string, esc bool, rest string, ok bool) {
	i := 0
	for i < len(s) && isTchar(s[i]) {
		i++
	}
	if i == 0 {
		return "", "", false, "", false
	}
	name, s = s[:i], trimOWS(s[i:])
	if s == "" || s[0] != '=' {
		return "", "", false, "", false
	}
	s = trimOWS(s[1:])
	if s != "" && s[0] == '"' {
		k := 1
		for ; k < len(s) && s[k] != '"'; k++ {
			if s[k] == '\\' {
				esc = true
				k++
			}
		}
		if k >= len(s) { // unterminated
			return "", "", false, "", false
		}
		val, s = s[1:k], s[k+1:]
	} else {
		k := 0
		for k < len(s) && s[k] != ';' && s[k] != '"' && s[k] != ' ' && s[k] != '\t' {
			k++
		}
		if k == 0 {
			return "", "", false, "", false
		}
		val, s = s[:k], s[k:]
	}
	s = trimOWS(s)
	if s != "" {
		if s[0] != ';' {
			return "", "", false, "", false
		}
		s = s[1:]
	}
	return name, val, esc, s, true
}

// isTchar reports whether c may appear in an HTTP token (RFC 9110 section 5.6.2).
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
