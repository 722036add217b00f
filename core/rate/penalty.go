package rate

import (
	"math"
	"time"

	"github.com/ratewarden/ratewarden/core/internal/problem"
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

// Validate reports every invalid field of p at once, as a problem list keyed by the
// field's configuration name (threshold, period, base_cooldown, multiplier,
// max_cooldown); the configuration's [penalty] section is validated by it.
func (p *PenaltyPolicy) Validate() error {
	var ps problem.List
	if p.Threshold < 1 || p.Threshold > 1000 {
		ps.Add("threshold", "must be 1 to 1000, got %d", p.Threshold)
	}
	if p.Period <= 0 {
		ps.Add("period", "must be > 0, got %q", p.Period.String())
	}
	if p.BaseCooldown <= 0 {
		ps.Add("base_cooldown", "must be > 0, got %q", p.BaseCooldown.String())
	}
	if !(p.Multiplier >= 1) || math.IsInf(p.Multiplier, 0) {
		ps.Add("multiplier", "must be a number ≥ 1, got %v", p.Multiplier)
	}
	for _, bound := range []struct {
		key string
		d   time.Duration
	}{{"period", p.Period}, {"max_cooldown", p.MaxCooldown}} {
		if bound.d > MaxWindow {
			ps.Add(bound.key, "must be at most %q (ten years), got %q", MaxWindow.String(), bound.d.String())
		}
	}
	if p.BaseCooldown > 0 && p.MaxCooldown < p.BaseCooldown {
		ps.Add("max_cooldown", "must be ≥ base_cooldown (%s), got %q", p.BaseCooldown, p.MaxCooldown.String())
	}
	return ps.Err()
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

// penaltyState is the penalty of one key: the end of the cooldown in force and the times
// of the violations that may still count, oldest first, at most Capacity of them.
type penaltyState struct {
	until int64 // Unix µs; 0 when no cooldown was ever started
	log   timeLog
}

// apply is the penalty step of a decision at now (Unix µs), the mirror of the penalty
// function of lua/decide.lua: res.Allowed holds the windows' answer on entry. During a
// cooldown the request is denied, counted as nothing and the cooldown not extended; a
// denial by the windows is a violation, which starts a cooldown once the violations within
// Period reach Threshold. The penalty decides at max(now, its newest violation), so that a
// clock stepping back never lengthens a cooldown. Expired violations are dropped only when
// a violation is counted, as in the script: never during a cooldown, whose newest violation
// is the one that started it (dropped when it expired, as before, a cooldown longer than
// Period was decided at a stepped-back now and grew by the step: 1 h 10 s for 10 s).
func (p *PenaltyPolicy) apply(ks *KeyState, now int64, res *Result) {
	ps := ks.penalty()
	if ps == nil {
		if res.Allowed {
			return
		}
		ps = new(penaltyState)
		ks.extra().penalty = ps
	}
	capacity := int64(p.Capacity())
	if extra := ps.log.len() - capacity; extra > 0 { // written under a policy that kept more
		ps.log.dropOldest(extra)
	}
	t := max(now, ps.log.newest())
	left := ps.until - t
	if left <= 0 && res.Allowed {
		return
	}
	// Violations at or before expired no longer count.
	expired := t - p.Period.Microseconds()
	if left > 0 { // a cooldown is in force: denied, not counted, not extended
		res.Allowed = false
		res.Cooldown, res.Violations = micros(left), int(ps.log.len()-ps.log.unitsThrough(expired))
		return
	}
	ps.log.dropThrough(expired)
	if ps.log.len() == capacity { // the oldest can no longer matter
		ps.log.dropOldest(1)
	}
	ps.log.push(t, 1)
	n := int(ps.log.len())
	cooldown := p.Cooldown(n).Microseconds()
	if cooldown > 0 {
		ps.until = t + cooldown
	}
	res.Cooldown, res.Violations = micros(cooldown), n
	ks.expiresAt = max(ks.expiresAt, ps.until, t+p.Period.Microseconds())
}

// peek is the penalty step of an [OpPeek] at now, the mirror of the peek function of
// lua/decide.lua: it reads the penalty as apply would see it and changes nothing. A cooldown
// in force denies and shows what is left of it; Violations is the number of violations
// that count at max(now, the newest violation) — at most Capacity, the newest ones, as
// apply keeps them under a policy that keeps fewer — whether or not the request is denied.
func (p *PenaltyPolicy) peek(ks *KeyState, now int64, res *Result) {
	ps := ks.penalty()
	if ps == nil {
		return
	}
	t := max(now, ps.log.newest())
	counted := min(ps.log.len()-ps.log.unitsThrough(t-p.Period.Microseconds()), int64(p.Capacity()))
	res.Violations = int(counted)
	if left := ps.until - t; left > 0 {
		res.Allowed = false
		res.Cooldown = micros(left)
	}
}
