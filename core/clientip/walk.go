package clientip

import (
	"net/netip"
	"strings"
)

// walk applies the right-to-left rule to a forwarding header made of lines (merged in
// order, the last line being the rightmost). lastSep returns the index of the last
// entry separator in a line, or -1; parse parses one entry. The first untrusted address
// is the client; a malformed entry stops the walk at the last good address to its
// right; if every address is trusted, the leftmost is the client; with no entry at all,
// the peer.
func (r *Resolver) walk(lines []string, peer netip.Addr, lastSep func(string) int, parse func(string) (netip.Addr, bool)) netip.Addr {
	last := peer
	for i := len(lines) - 1; i >= 0; i-- {
		s := lines[i]
		for {
			j := lastSep(s)
			a, ok := parse(s[j+1:])
			if !ok {
				return last
			}
			if !r.trusted.Contains(a) {
				return a
			}
			last = a
			if j < 0 {
				break
			}
			s = s[:j]
		}
	}
	return last
}

// lastComma returns the index of the last comma in an X-Forwarded-For line, or -1.
func lastComma(s string) int { return strings.LastIndexByte(s, ',') }

// xffEntry parses one X-Forwarded-For entry: an IP, "ip:port" or "[ipv6]:port",
// surrounded by optional spaces and tabs.
func xffEntry(s string) (netip.Addr, bool) { return parseNode(trimOWS(s), false) }
