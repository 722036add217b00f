package core

import (
	"fmt"
	"math"
	"time"
)

// PenaltyPolicy makes repeated denials cost more. A violation is a denial by the rule's
// windows (not one during a cooldown). When the violations of a key within Period reach
// Threshold, that denial starts a cooldown of BaseCooldown × Multiplier^(violations −
// Threshold), capped at MaxCooldown; during it every request is denied, consumes nothing
// and does not extend it. Violations older than Period no longer count.
type PenaltyPolicy struct {
	Threshold    int
	Period       time.Duration
	BaseCooldown time.Duration
	Multiplier   float64
	MaxCooldown  time.Duration
}

// maxTrackedViolations bounds the escalation steps the violation log covers, and
// violationSlack is how many violations beyond the cap it keeps, so that the count
// reported in 429 bodies stays exact a little past the point where the cooldown stops
// growing (beyond it, the count shows the cap).
const (
	maxTrackedViolations = 64
	violationSlack       = 8
)

func (p *PenaltyPolicy) validate() error {
	switch {
	case p.Threshold < 1 || p.Threshold > 1000:
		return fmt.Errorf("ratewarden: penalty threshold must be 1 to 1000, got %d", p.Threshold)
	case p.Period <= 0 || p.BaseCooldown <= 0 || p.MaxCooldown < p.BaseCooldown:
		return fmt.Errorf("ratewarden: penalty needs period > 0, base_cooldown > 0 and max_cooldown ≥ base_cooldown")
	case !(p.Multiplier >= 1) || math.IsInf(p.Multiplier, 0):
		return fmt.Errorf("ratewarden: penalty multiplier must be ≥ 1, got %v", p.Multiplier)
	}
	return nil
}

// Capacity is the number of violation times a key keeps: enough to count up to the
// violation at which the cooldown reaches MaxCooldown, plus a few. Older violations than
// those cannot change any cooldown, so a longer log would only cost memory. Redis stores
// use it too.
func (p *PenaltyPolicy) Capacity() int {
	steps := 0
	if p.Multiplier > 1 {
		steps = int(math.Ceil(math.Log(float64(p.MaxCooldown)/float64(p.BaseCooldown)) / math.Log(p.Multiplier)))
	}
	return p.Threshold + min(max(steps, 0), maxTrackedViolations) + violationSlack
}

// Cooldown is the cooldown that the violations-th violation starts (zero below the threshold).
func (p *PenaltyPolicy) Cooldown(violations int) time.Duration {
	if violations < p.Threshold {
		return 0
	}
	d := float64(p.BaseCooldown) * math.Pow(p.Multiplier, float64(violations-p.Threshold))
	if d >= float64(p.MaxCooldown) {
		return p.MaxCooldown
	}
	return time.Duration(d).Truncate(time.Microsecond)
}

// State layout: [cooldownUntil, head, n, ring of Capacity violation times...].
func (p *PenaltyPolicy) stateSize() int { return 3 + p.Capacity() }

func (p *PenaltyPolicy) cooldownUntil(state []int64) int64 { return state[0] }

// violations drops violations older than Period and returns how many count.
func (p *PenaltyPolicy) violations(state []int64, now int64) int {
	capacity := int64(p.Capacity())
	ring := state[3 : 3+capacity]
	horizon := now - p.Period.Microseconds()
	for state[2] > 0 && ring[state[1]] <= horizon {
		state[1] = (state[1] + 1) % capacity
		state[2]--
	}
	return int(state[2])
}

// record adds a violation at now and starts a cooldown when the threshold is reached. It
// returns the violations that count and the cooldown started, in µs.
func (p *PenaltyPolicy) record(state []int64, now int64) (int, int64) {
	capacity := int64(p.Capacity())
	n := int64(p.violations(state, now))
	ring := state[3 : 3+capacity]
	if n == capacity { // the oldest can no longer matter: drop it
		state[1] = (state[1] + 1) % capacity
		n--
	}
	ring[(state[1]+n)%capacity] = now
	state[2] = n + 1
	cooldown := p.Cooldown(int(n + 1)).Microseconds()
	if cooldown > 0 {
		state[0] = now + cooldown
	}
	return int(n + 1), cooldown
}

// migrate keeps the cooldown and the newest violations across a policy change.
func (p *PenaltyPolicy) migrate(dst []int64, old *PenaltyPolicy, src []int64) {
	oldCap, newCap := int64(old.Capacity()), int64(p.Capacity())
	n := min(src[2], newCap)
	for i := int64(0); i < n; i++ {
		dst[3+i] = src[3+(src[1]+src[2]-n+i)%oldCap]
	}
	dst[0], dst[1], dst[2] = src[0], 0, n
}
