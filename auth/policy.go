package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrInvalidPolicy is wrapped by ParsePolicy's errors.
var ErrInvalidPolicy = errors.New("invalid policy document")

// Policy is a parsed CAM policy document:
//
//	{"version":"2.0","statement":[{"effect":"allow","action":["kms:Encrypt"],
//	  "resource":["qcs::kms:local:uin/100000000001:key/*"],
//	  "condition":{"ip_equal":{"qcs:ip":["10.0.0.0/8"]}}}]}
type Policy struct {
	Statements []Statement
}

// Statement is one rule of a policy. Actions and Resources are patterns in
// which '*' matches any run of characters; a statement applies when one
// action pattern and one resource pattern match and every condition holds.
type Statement struct {
	Allow      bool
	Actions    []string
	Resources  []string
	Conditions []Condition
}

// Condition tests one request attribute: Operator is string_equal,
// string_not_equal, string_like, string_not_like ('*' matches any run of
// characters), ip_equal or ip_not_equal (addresses or CIDR ranges);
// Key a condition key such as kms:alias, qcs:resource_tag (values
// "key&value"), qcs:ip or kms:encryption_context/NAME. It holds when any of
// Values matches any of the request's values for Key (for the *_not_*
// operators: when none does).
type Condition struct {
	Operator string
	Key      string
	Values   []string
	prefixes []netip.Prefix
}

// Request is what a caller asks to do, as policies see it.
type Request struct {
	Action   string              // "kms:Encrypt"
	Resource string              // "qcs::kms:local:uin/100000000001:key/<KeyId>"
	Context  map[string][]string // condition key → the request's values
}

// Decision is the outcome of evaluating policies.
type Decision int

// Decisions. Only Allow permits the request.
const (
	ImplicitDeny Decision = iota // no statement applies
	Allow                        // an allow statement applies and no deny does
	ExplicitDeny                 // a deny statement applies: it wins
)

func (d Decision) String() string {
	return [...]string{"implicit deny", "allow", "explicit deny"}[d]
}

// Evaluate decides a request against a principal's policies: an applicable
// deny wins, otherwise an applicable allow permits, otherwise it is denied.
// It is a pure function.
func Evaluate(policies []*Policy, req Request) Decision {
	d := ImplicitDeny
	for _, p := range policies {
		for i := range p.Statements {
			s := &p.Statements[i]
			if !s.applies(req) {
				continue
			}
			if !s.Allow {
				return ExplicitDeny
			}
			d = Allow
		}
	}
	return d
}

func (s *Statement) applies(req Request) bool {
	if !matchAny(s.Actions, req.Action, true) || !matchAny(s.Resources, req.Resource, false) {
		return false
	}
	for i := range s.Conditions {
		if !s.Conditions[i].holds(req.Context[s.Conditions[i].Key]) {
			return false
		}
	}
	return true
}

func matchAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, s, fold) {
			return true
		}
	}
	return false
}

// glob matches s against a pattern in which '*' matches any run of
// characters (including '/' and ':').
func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

func (c *Condition) holds(actual []string) bool {
	negate := strings.Contains(c.Operator, "_not_")
	any := false
	for _, a := range actual {
		if c.matches(a) {
			any = true
			break
		}
	}
	if negate {
		return !any
	}
	return any
}

func (c *Condition) matches(actual string) bool {
	switch c.Operator {
	case "ip_equal", "ip_not_equal":
		addr, err := netip.ParseAddr(actual)
		if err != nil {
			return false
		}
		for _, p := range c.prefixes {
			if p.Contains(addr.Unmap()) {
				return true
			}
		}
		return false
	case "string_like", "string_not_like":
		for _, v := range c.Values {
			if glob(v, actual, false) {
				return true
			}
		}
		return false
	}
	for _, v := range c.Values {
		if v == actual {
			return true
		}
	}
	return false
}

// stringList reads a JSON string or array of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or an array of strings")
	}
	*l = many
	return nil
}

var operators = map[string]bool{
	"string_equal": true, "string_not_equal": true, "string_like": true, "string_not_like": true,
	"ip_equal": true, "ip_not_equal": true,
}

// ParsePolicy parses a CAM policy document. Unknown fields, operators, a
// version other than "2.0", an effect other than allow/deny, a statement
// without actions or resources, and malformed IP ranges are errors wrapping
// ErrInvalidPolicy, so that nothing written is silently ignored.
func ParsePolicy(doc []byte) (*Policy, error) {
	var raw struct {
		Version   string `json:"version"`
		Statement []struct {
			Effect    string                           `json:"effect"`
			Action    stringList                       `json:"action"`
			Resource  stringList                       `json:"resource"`
			Condition map[string]map[string]stringList `json:"condition"`
		} `json:"statement"`
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPolicy, err)
	}
	if raw.Version != "2.0" {
		return nil, fmt.Errorf("%w: version must be \"2.0\"", ErrInvalidPolicy)
	}
	if len(raw.Statement) == 0 {
		return nil, fmt.Errorf("%w: no statement", ErrInvalidPolicy)
	}
	p := &Policy{}
	for i, rs := range raw.Statement {
		s := Statement{Actions: rs.Action, Resources: rs.Resource}
		switch strings.ToLower(rs.Effect) {
		case "allow":
			s.Allow = true
		case "deny":
		default:
			return nil, fmt.Errorf("%w: statement %d: effect must be allow or deny", ErrInvalidPolicy, i)
		}
		if len(s.Actions) == 0 || len(s.Resources) == 0 {
			return nil, fmt.Errorf("%w: statement %d needs an action and a resource", ErrInvalidPolicy, i)
		}
		for op, keys := range rs.Condition {
			if !operators[op] {
				return nil, fmt.Errorf("%w: statement %d: unknown condition operator %q", ErrInvalidPolicy, i, op)
			}
			for key, values := range keys {
				c := Condition{Operator: op, Key: key, Values: values}
				if strings.HasPrefix(op, "ip_") {
					for _, v := range values {
						pr, err := parsePrefix(v)
						if err != nil {
							return nil, fmt.Errorf("%w: statement %d: %q is not an IP address or CIDR range", ErrInvalidPolicy, i, v)
						}
						c.prefixes = append(c.prefixes, pr)
					}
				}
				s.Conditions = append(s.Conditions, c)
			}
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}
