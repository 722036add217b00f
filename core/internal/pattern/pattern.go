// Package pattern parses the endpoint patterns of rules ("/a/b", "/a/*", "/users/{id}",
// "/users/:id") and matches request paths against them. Package config validates
// patterns with it and core matches requests with it; docs/rules.md is the syntax.
package pattern

import (
	"fmt"
	"regexp"
	"strings"
)

// Name is the form of rule, tier and limiter names: they appear in headers and metric
// labels.
var Name = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// segmentKind is what one segment of a pattern matches.
type segmentKind uint8

const (
	literalSegment segmentKind = iota // the same text
	paramSegment                      // any one segment: {id} or :id
	restSegment                       // one or more trailing segments: *
)

type segment struct {
	kind segmentKind
	text string // literal text; empty for the other kinds
}

// Pattern is a parsed endpoint pattern. See docs/rules.md.
type Pattern struct {
	raw      string
	segments []segment
	// literalPrefix is the length of the text before the first param or rest segment; it
	// orders wildcard patterns by specificity.
	literalPrefix int
	exact         bool // no param or rest segment
}

// Parse parses "/a/b", "/a/*", "/a/{id}/b" or "/a/:id/b".
func Parse(raw string) (Pattern, error) {
	if !strings.HasPrefix(raw, "/") {
		return Pattern{}, fmt.Errorf("must start with \"/\"")
	}
	if strings.ContainsAny(raw, "?# \t") {
		return Pattern{}, fmt.Errorf("must be a path without query, fragment or spaces")
	}
	p := Pattern{raw: raw, exact: true, literalPrefix: len(raw)}
	parts := strings.Split(raw[1:], "/")
	if raw == "/" {
		parts = nil
	}
	for i, part := range parts {
		s, err := parseSegment(part, i == len(parts)-1)
		if err != nil {
			return Pattern{}, err
		}
		if s.kind != literalSegment && p.exact {
			p.exact = false
			p.literalPrefix = len("/" + strings.Join(parts[:i], "/"))
		}
		p.segments = append(p.segments, s)
	}
	return p, nil
}

func parseSegment(part string, last bool) (segment, error) {
	switch {
	case part == "":
		return segment{}, fmt.Errorf("has an empty segment")
	case part == "." || part == "..":
		return segment{}, fmt.Errorf("has a %q segment (paths are matched cleaned)", part)
	case part == "*":
		if !last {
			return segment{}, fmt.Errorf("\"*\" must be the last segment")
		}
		return segment{kind: restSegment}, nil
	case strings.HasPrefix(part, ":"):
		if len(part) == 1 {
			return segment{}, fmt.Errorf("parameter %q has no name", part)
		}
		return segment{kind: paramSegment}, nil
	case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
		if len(part) == 2 {
			return segment{}, fmt.Errorf("parameter %q has no name", part)
		}
		return segment{kind: paramSegment}, nil
	case strings.ContainsAny(part, "{}*"):
		return segment{}, fmt.Errorf("segment %q mixes a parameter or \"*\" with text", part)
	}
	return segment{kind: literalSegment, text: part}, nil
}

// Match reports whether path, decoded (url.URL.Path) or a route template, matches the
// pattern. Empty and "." segments of path are ignored, so "/a//b/" and "/a/./b" match
// "/a/b" as routers that clean paths serve them. It does not allocate.
func (p *Pattern) Match(path string) bool { return p.match(path, false) }

// MatchEscaped reports whether path, escaped as sent (url.URL.EscapedPath), matches the
// pattern, seeing its segments as net/http's ServeMux routes them: path is split on "/"
// first and each segment is unescaped after, so "/users/a%2Fb" is the one segment "a/b"
// after "users" and matches "/users/{id}". (chi and echo compare the escaped segments
// undecoded: Match on the escaped path reads a path as they do.) Empty and "." segments are
// ignored as by Match; an escaped dot ("%2e") is a segment, as routers clean only the
// literal ones. A segment with a malformed escape ("%zz", which net/http's server answers
// 400 before any handler) is compared as it is. It does not allocate.
func (p *Pattern) MatchEscaped(path string) bool { return p.match(path, true) }

func (p *Pattern) match(path string, escaped bool) bool {
	rest := path
	for i, s := range p.segments {
		seg, tail, ok := nextSegment(rest)
		if !ok {
			return false
		}
		switch s.kind {
		case literalSegment:
			if !sameSegment(seg, s.text, escaped) {
				return false
			}
		case restSegment:
			return i == len(p.segments)-1
		}
		rest = tail
	}
	_, _, more := nextSegment(rest)
	return !more
}

// sameSegment reports whether the path segment seg is the literal text lit: seg is
// unescaped first when escaped is set and it holds only well-formed escapes.
func sameSegment(seg, lit string, escaped bool) bool {
	if !escaped || !wellEscaped(seg) {
		return seg == lit
	}
	j := 0
	for i := 0; i < len(seg); i, j = i+1, j+1 {
		c := seg[i]
		if c == '%' {
			c = unhex(seg[i+1])<<4 | unhex(seg[i+2])
			i += 2
		}
		if j == len(lit) || lit[j] != c {
			return false
		}
	}
	return j == len(lit)
}

// wellEscaped reports whether seg holds a '%' and each '%' starts an escape "%XX" of two
// hexadecimal digits.
func wellEscaped(seg string) bool {
	n := strings.IndexByte(seg, '%')
	if n < 0 {
		return false // nothing to unescape
	}
	for i := n; i < len(seg); i++ {
		if seg[i] != '%' {
			continue
		}
		if i+2 >= len(seg) || !ishex(seg[i+1]) || !ishex(seg[i+2]) {
			return false
		}
		i += 2
	}
	return true
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// nextSegment returns the first non-empty, non-"." segment of path and what follows it.
func nextSegment(path string) (seg, tail string, ok bool) {
	for path != "" {
		if path[0] == '/' {
			path = path[1:]
			continue
		}
		end := strings.IndexByte(path, '/')
		if end < 0 {
			end = len(path)
		}
		seg, path = path[:end], path[end:]
		if seg != "." {
			return seg, path, true
		}
	}
	return "", "", false
}

// MoreSpecificThan orders two patterns that both match: an exact pattern beats a wildcard,
// and among wildcards the longer literal prefix wins. Equal patterns are not more specific,
// so the rule listed first keeps its place.
func (p *Pattern) MoreSpecificThan(q *Pattern) bool {
	if p.exact != q.exact {
		return p.exact
	}
	return p.literalPrefix > q.literalPrefix
}

// Slug turns a pattern into a default rule name: "/api/v1/users/{id}" → "api-v1-users-id",
// "/api/v1/admin/*" → "api-v1-admin-any".
func Slug(raw string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ReplaceAll(raw, "*", "any") {
		alnum := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z'
		if !alnum {
			dash = b.Len() > 0
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "root"
	}
	return b.String()
}

// Raw returns the pattern as written.
func (p *Pattern) Raw() string { return p.raw }

// Canonical writes the pattern with its parameters unnamed, so that "/users/{id}" and
// "/users/:uid" compare equal.
func (p *Pattern) Canonical() string {
	var b strings.Builder
	for _, s := range p.segments {
		b.WriteByte('/')
		switch s.kind {
		case literalSegment:
			b.WriteString(s.text)
		case paramSegment:
			b.WriteString("{}")
		case restSegment:
			b.WriteString("*")
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}
