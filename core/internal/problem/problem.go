// Package problem is the typed list of configuration problems that package config, its
// loader configfile, and the clientip and jwtauth sections all report in, so that a
// section's problems reach the configuration's error unchanged, each with its key path.
package problem

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Problem is one invalid setting: Key is the key path ("endpoints[2].window"), Value the
// bad value as the configuration gave it ("0s"; "" when the problem is not one value's,
// such as a missing key), and Message what is wrong, quoting the value as it ends in
// "got <value>".
type Problem struct{ Key, Value, Message string }

// String returns the problem as "key: message", or the message alone when it has no key.
func (p Problem) String() string {
	if p.Key == "" {
		return p.Message
	}
	return p.Key + ": " + p.Message
}

// Error returns the problem as "key: message", so that each problem of a [List] is an
// error of its own (see [List.Unwrap]).
func (p Problem) Error() string { return p.String() }

// List is the problems found so far. A non-empty List is an error whose text is one
// "key: message" line per problem, as a section (clientip, jwtauth) reports them.
type List []Problem

// Add appends a problem at key. The message is format and args as fmt.Sprintf makes it;
// the argument of its "got %…" verb, when it has one, is the problem's Value (its
// ProblemValue() when it has that method, for values the message shows decorated).
func (l *List) Add(key, format string, args ...any) {
	p := Problem{Key: key, Message: fmt.Sprintf(format, args...)}
	if i := gotArg(format); i >= 0 && i < len(args) {
		if v, ok := args[i].(interface{ ProblemValue() string }); ok {
			p.Value = v.ProblemValue()
		} else {
			p.Value = fmt.Sprint(args[i])
		}
	}
	*l = append(*l, p)
}

// gotArg returns the index of the argument that the verb after "got " in format formats,
// or -1 when format has no "got %" clause.
func gotArg(format string) int {
	at := strings.Index(format, "got %")
	if at < 0 {
		return -1
	}
	n := 0
	for i := 0; i < at; i++ {
		if format[i] != '%' {
			continue
		}
		if i+1 < len(format) && format[i+1] == '%' {
			i++ // a literal %
			continue
		}
		n++
	}
	return n
}

// AddAll appends the problems of err, a List returned by a section, with each key put
// under prefix ("client_ip"); any other non-nil error is one problem at prefix.
func (l *List) AddAll(prefix string, err error) {
	var sub List
	switch {
	case err == nil:
	case errors.As(err, &sub):
		for _, p := range sub {
			p.Key = JoinPath(prefix, p.Key)
			*l = append(*l, p)
		}
	default:
		*l = append(*l, Problem{Key: prefix, Message: err.Error()})
	}
}

// Err returns l as an error, or nil when it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Error returns one "key: message" line per problem.
func (l List) Error() string {
	lines := make([]string, len(l))
	for i, p := range l {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, one error each.
func (l List) Unwrap() []error {
	errs := make([]error, len(l))
	for i, p := range l {
		errs[i] = p
	}
	return errs
}

// JoinPath puts key path sub under prefix: "client_ip" and "trusted_proxies[0]" make
// "client_ip.trusted_proxies[0]"; either may be empty.
func JoinPath(prefix, sub string) string {
	switch {
	case prefix == "":
		return sub
	case sub == "":
		return prefix
	}
	return prefix + "." + sub
}

// JoinKey appends a table key to a key path, quoting it as TOML does when it is not a bare
// key: tiers.premium, tiers."gold plus".
func JoinKey(path, key string) string {
	bare := key != ""
	for i := 0; i < len(key) && bare; i++ {
		c := key[i]
		bare = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	if !bare {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// NoLimits is the problem of a rule or tier without limit, window or windows; the loader
// recognises it to drop it where a misspelt key is the real problem.
const NoLimits = "no limits: set limit and window, or windows"
