package core_test

// A Limiter's default clock (core.CoarseClock) and testing/synctest bubbles: a Limiter used
// in a bubble, outside one, or both, neither crashes, hangs nor leaks the bubble's fake time
// to decisions outside it (found by a review of the CoarseClock; each failed before the
// clock left bubbles alone). A regression is a fatal runtime error or a hang, so each
// scenario runs in a child process of the test binary.

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/config"
)

const bubbleChildEnv = "RATEWARDEN_CLOCK_BUBBLE_CHILD"

// inChild runs the test named t.Name() again in a child process with bubbleChildEnv set
// and fails t when the child does not pass within limit. It returns true in the child,
// where the caller runs the scenario itself.
func inChild(t *testing.T, limit time.Duration) bool {
	t.Helper()
	if os.Getenv(bubbleChildEnv) == t.Name() {
		return true
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), bubbleChildEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the scenario hung: no end within %v\n%s", limit, tail(out))
	}
	if err != nil {
		t.Fatalf("the scenario failed (%v):\n%s", err, tail(out))
	}
	return false
}

func tail(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > 12 {
		lines = lines[:12]
	}
	return strings.Join(lines, "\n")
}

func bubbleLimiter(t *testing.T, cfg config.Config, opts ...core.Option) *core.Limiter {
	t.Helper()
	l, err := core.New(cfg, append([]core.Option{core.WithStore(adaptertest.NewStore())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func bubbleDecide(l *core.Limiter, remote, auth string) *core.Decision {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = remote
	if auth != "" {
		r.Header.Set("Authorization", "Bearer "+auth)
	}
	d := new(core.Decision)
	l.Decide(core.Input{Request: r}, d)
	return d
}

var bubbleCfg = config.Config{Default: config.Limits{Limit: 100, Window: time.Minute}}

// A Limiter built outside a synctest bubble, used in one, then used outside again. (The
// clock's goroutine once selected, outside, on a channel made in the bubble: "fatal error:
// select on synctest channel from outside bubble".)
func TestClockInABubbleThenOutside(t *testing.T) {
	if !inChild(t, time.Minute) {
		return
	}
	l := bubbleLimiter(t, bubbleCfg)
	synctest.Test(t, func(t *testing.T) {
		bubbleDecide(l, "203.0.113.7:1", "")
		time.Sleep(time.Second) // the clock's goroutine ends idle inside the bubble
	})
	bubbleDecide(l, "203.0.113.7:1", "")
	time.Sleep(50 * time.Millisecond) // the new goroutine reaches its select
}

// The same Limiter closed outside the bubble after a use inside it. (Stop once closed a
// channel made in the bubble: "fatal error: close of synctest channel from outside
// bubble".)
func TestClockInABubbleThenClosedOutside(t *testing.T) {
	if !inChild(t, time.Minute) {
		return
	}
	l := bubbleLimiter(t, bubbleCfg)
	synctest.Test(t, func(t *testing.T) {
		bubbleDecide(l, "203.0.113.7:1", "")
		time.Sleep(time.Second)
	})
	_ = l.Close()
}

// The other order: a Limiter used outside first, idle, then used in a bubble. (A goroutine
// the bubble's decision started selected on a channel made outside, so it was never
// durably blocked and the bubble's time.Sleep never returned.)
func TestClockOutsideThenInABubble(t *testing.T) {
	if !inChild(t, 15*time.Second) {
		return
	}
	l := bubbleLimiter(t, bubbleCfg)
	bubbleDecide(l, "203.0.113.7:1", "")
	time.Sleep(100 * time.Millisecond) // real time: the goroutine ends idle
	synctest.Test(t, func(t *testing.T) {
		bubbleDecide(l, "203.0.113.7:1", "")
		time.Sleep(time.Second)
		bubbleDecide(l, "203.0.113.7:1", "")
	})
}

// A decision outside a bubble while the bubble decides with the same Limiter never reads
// the bubble's fake time. (Once the bubble's decision started the clock's goroutine in
// the bubble, and a decision outside read 2000-01-01: a JWT that expired in 2010
// identified its holder, tier "gold".)
func TestClockOutsideABubbleNeverReadsItsTime(t *testing.T) {
	if !inChild(t, time.Minute) {
		return
	}
	const secret = "bubble-secret-bubble-secret-bubble-secret"
	cfg := bubbleCfg
	cfg.JWT.Enabled, cfg.JWT.Secret = true, secret
	l := bubbleLimiter(t, cfg)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "mallory", "tier": "gold", "exp": time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC).Unix(),
	}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	ask, answer := make(chan struct{}), make(chan *core.Decision)
	go func() { // outside the bubble
		<-ask
		answer <- bubbleDecide(l, "198.51.100.1:1", tok)
	}()
	var d *core.Decision
	synctest.Test(t, func(t *testing.T) {
		bubbleDecide(l, "203.0.113.7:1", "") // starts the goroutine in the bubble
		ask <- struct{}{}
		d = <-answer
		time.Sleep(time.Second) // let it end idle
	})
	if d.ClientID() != "ip:198.51.100.1" {
		t.Errorf("a token expired in 2010 identified the client as %q tier %q at %v (want ip:198.51.100.1, anonymous)",
			d.ClientID(), d.Tier, d.Now())
	}
}

// A Limiter built in a bubble over a store the caller owns (WithStore), never closed,
// leaves no goroutine behind. (A ticking goroutine once did: "deadlock: main bubble
// goroutine has exited but blocked goroutines remain".)
func TestClockInABubbleWithoutClose(t *testing.T) {
	if !inChild(t, time.Minute) {
		return
	}
	synctest.Test(t, func(t *testing.T) {
		l := bubbleLimiter(t, bubbleCfg)
		if d := bubbleDecide(l, "203.0.113.7:1", ""); d.Outcome != core.Allowed {
			t.Fatal(d.Outcome)
		}
	})
}
