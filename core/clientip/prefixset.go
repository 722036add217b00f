package clientip

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/ratewarden/ratewarden/core/internal/problem"
)

// PrefixSet is a set of IP prefixes (CIDRs), used for trusted proxies and exempted
// clients. Its zero value is the empty set. A PrefixSet is never modified after
// ParsePrefixSet returns it, so it is safe for concurrent use.
type PrefixSet struct {
	v4 []netip.Prefix // IPv4 entries, and IPv4-mapped entries in their IPv4 form
	v6 []netip.Prefix
}

// ParsePrefixSet parses entries, each an IP address (the set then holds its /32 or
// /128) or a CIDR. Surrounding spaces are ignored, host bits of a CIDR are cleared
// ("10.1.2.3/8" is 10.0.0.0/8), and an IPv6 zone on a single address is dropped. An
// IPv4-mapped entry (::ffff:10.0.0.0/104) is stored in its IPv4 form (10.0.0.0/8); a
// shorter IPv6 prefix such as ::/0 matches IPv6 addresses only.
//
// The error, when not nil, lists every bad entry at once, one per line:
//
//	<key>[i]: not an IP or CIDR, got "x"
//
// where key names the list in the configuration (for example "exemptions.ips") and i
// counts from 0.
func ParsePrefixSet(key string, entries []string) (PrefixSet, error) {
	s, problems := parsePrefixSet(key, entries)
	return s, problems.Err()
}

// parsePrefixSet is ParsePrefixSet returning its problems unjoined.
func parsePrefixSet(key string, entries []string) (PrefixSet, problem.List) {
	var (
		s        PrefixSet
		problems problem.List
	)
	for i, e := range entries {
		p, ok := parsePrefix(strings.TrimSpace(e))
		if !ok {
			problems.Add(fmt.Sprintf("%s[%d]", key, i), "not an IP or CIDR, got %q", e)
			continue
		}
		if p.Addr().Is4() {
			s.v4 = append(s.v4, p)
		} else {
			s.v6 = append(s.v6, p)
		}
	}
	return s, problems
}

// parsePrefix parses an IP address or a CIDR into a masked prefix, converting an
// IPv4-mapped prefix of at least 96 bits to its IPv4 form.
func parsePrefix(s string) (netip.Prefix, bool) {
	var p netip.Prefix
	if strings.IndexByte(s, '/') >= 0 {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, false
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		a = a.WithZone("")
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// Contains reports whether addr is inside one of the set's prefixes. addr is compared
// in its unmapped form without zone, so ::ffff:10.0.0.1 matches 10.0.0.0/8 and an
// IPv4-mapped entry matches the plain IPv4 address. The invalid Addr is in no set.
func (s PrefixSet) Contains(addr netip.Addr) bool {
	if addr.Is4In6() {
		addr = addr.Unmap()
	}
	if addr.Is4() {
		for _, p := range s.v4 {
			if p.Contains(addr) {
				return true
			}
		}
		return false
	}
	if !addr.IsValid() || len(s.v6) == 0 {
		return false
	}
	addr = addr.WithZone("")
	for _, p := range s.v6 {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Len returns the number of prefixes in the set: one per valid entry given to
// ParsePrefixSet.
func (s PrefixSet) Len() int { return len(s.v4) + len(s.v6) }
