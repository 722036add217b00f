package rate

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestExpiryAfterAConsumeIsTheReset: after a decision that consumed, Apply sets the key's
// expiry from the windows' reset times (Policy.finish); it is the expiry every algorithm's
// own expiry function computes from the state, over random sequences of takes, checks,
// consumes (beyond full and at the cap too) and peeks, with the clock going back now and
// then.
func TestExpiryAfterAConsumeIsTheReset(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	periods := []time.Duration{time.Second, 10 * time.Second, time.Minute, time.Hour}
	for _, alg := range Algorithms() {
		for range 200 {
			var windows []Window
			for _, i := range r.Perm(len(periods))[:1+r.IntN(3)] {
				windows = append(windows, Window{Limit: 1 + r.Int64N(20), Period: periods[i]})
			}
			p, err := NewPolicy(alg, windows, nil)
			if err != nil {
				t.Fatal(err)
			}
			var (
				ks   KeyState
				res  Result
				want int64
			)
			now := int64(1_700_000_000_000_000)
			for range 200 {
				now += r.Int64N(3_000_000) - 300_000 // sometimes back
				op := Op(r.IntN(4))
				p.Apply(&ks, op, now, 1+r.Int64N(p.MaxCost()), &res)
				if op == OpConsume || op == OpTake && res.Allowed {
					for i := range p.Windows {
						s := ks.at(ks.find(windowSecs(&p.Windows[i])))
						want = max(want, alg.expiry(s))
					}
				}
				if ks.ExpiresAt() != want {
					t.Fatalf("%s %v: ExpiresAt %d, the windows' expiry %d", alg, p.Windows, ks.ExpiresAt(), want)
				}
			}
		}
	}
}
