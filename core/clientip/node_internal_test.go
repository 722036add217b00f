package clientip

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestParseIPv4PortIsParseNode: whenever the one-pass parser of "a.b.c.d:port" answers, it
// answers as parseNode does; and it answers for every canonical IPv4 peer.
func TestParseIPv4PortIsParseNode(t *testing.T) {
	check := func(s string) {
		t.Helper()
		got, ok := parseIPv4Port(s)
		if !ok {
			return
		}
		want, wantOK := parseNode(s, false)
		if !wantOK || got != want {
			t.Fatalf("parseIPv4Port(%q) = %v, parseNode: %v %v", s, got, want, wantOK)
		}
	}
	for _, s := range []string{
		"203.0.113.7:41000", "0.0.0.0:0", "255.255.255.255:65535", "1.2.3.4:065535",
		"256.1.1.1:1", "01.2.3.4:1", "1.2.3:1", "1.2.3.4.5:1", "1.2.3.4:", "1.2.3.4:65536",
		"1.2.3.4:_p", "1..3.4:1", ".1.2.3:1", "1.2.3.4:1:2", "1.2.3.4", "[1.2.3.4]:1", "",
	} {
		check(s)
	}
	for _, s := range []string{"203.0.113.7:41000", "0.0.0.0:0", "255.255.255.255:65535", "10.0.0.1:80"} {
		if _, ok := parseIPv4Port(s); !ok {
			t.Errorf("parseIPv4Port(%q) left it to parseNode", s)
		}
	}
	const alphabet = "0123456789.:[]%_a"
	r := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	for range 500_000 {
		b.Reset()
		for n := r.IntN(22); n > 0; n-- {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		check(b.String())
		// and near-valid peers: a valid one with one byte changed
		v := []byte("203.0.113.7:41000")
		v[r.IntN(len(v))] = alphabet[r.IntN(len(alphabet))]
		check(string(v))
	}
}
