package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalidPolicy is wrapped by every error of [ParsePolicy].
var ErrInvalidPolicy = errors.New("auth: invalid policy")

// PolicyVersion is the only policy language version accepted: Huawei IAM's
// role/policy syntax.
const PolicyVersion = "1.1"

// Policy is a Huawei IAM permission document, e.g.
//
//	{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:get","kms:cmk:list"]}]}
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one Allow or Deny rule of a [Policy].
//
// Resource and Condition are kept but not evaluated; [Allowed] treats them
// conservatively (see there).
type Statement struct {
	Effect    string          `json:"Effect"`
	Action    []string        `json:"Action"`
	Resource  []string        `json:"Resource,omitempty"`
	Condition json.RawMessage `json:"Condition,omitempty"`
}

// Statement effects.
const (
	EffectAllow = "Allow"
	EffectDeny  = "Deny"
)

// maxPolicySize bounds the input of ParsePolicy (Huawei custom policies are
// limited to 6,144 characters; leave room for whitespace).
const maxPolicySize = 64 << 10

// ParsePolicy parses and validates a policy document strictly: JSON keys
// must be spelled exactly as Huawei does (Version, Statement, Effect,
// Action, Resource, Condition) and no other keys may appear; Version must be
// "1.1"; there must be at least one statement; Effect must be "Allow" or
// "Deny"; Action must be non-empty and each action shaped
// service:resource:action, where service and action are non-empty, resource
// may be empty (identity-policy names such as "kms::getInstance"), and every
// part holds only ASCII letters, digits, '-', '_' and the '*' wildcard.
// Errors wrap [ErrInvalidPolicy].
func ParsePolicy(b []byte) (Policy, error) {
	if len(b) > maxPolicySize {
		return Policy{}, fmt.Errorf("%w: larger than %d bytes", ErrInvalidPolicy, maxPolicySize)
	}
	// encoding/json matches field names case-insensitively; check the exact
	// spelling of every key first.
	var top map[string]json.RawMessage
	if err := decodeStrict(b, &top); err != nil {
		return Policy{}, fmt.Errorf("%w: %v", ErrInvalidPolicy, err)
	}
	if err := checkKeys(top, "Version", "Statement"); err != nil {
		return Policy{}, err
	}
	if _, ok := top["Statement"]; !ok {
		return Policy{}, fmt.Errorf("%w: no Statement", ErrInvalidPolicy)
	}
	var stmts []map[string]json.RawMessage
	if err := decodeStrict(top["Statement"], &stmts); err != nil {
		return Policy{}, fmt.Errorf("%w: Statement: %v", ErrInvalidPolicy, err)
	}
	for _, s := range stmts {
		if err := checkKeys(s, "Effect", "Action", "Resource", "Condition"); err != nil {
			return Policy{}, err
		}
	}
	var p Policy
	if err := decodeStrict(b, &p); err != nil {
		return Policy{}, fmt.Errorf("%w: %v", ErrInvalidPolicy, err)
	}
	if p.Version != PolicyVersion {
		return Policy{}, fmt.Errorf("%w: Version %q, want %q", ErrInvalidPolicy, p.Version, PolicyVersion)
	}
	if len(p.Statement) == 0 {
		return Policy{}, fmt.Errorf("%w: no Statement", ErrInvalidPolicy)
	}
	for i, s := range p.Statement {
		if s.Effect != EffectAllow && s.Effect != EffectDeny {
			return Policy{}, fmt.Errorf("%w: statement %d: Effect %q, want Allow or Deny", ErrInvalidPolicy, i, s.Effect)
		}
		if len(s.Action) == 0 {
			return Policy{}, fmt.Errorf("%w: statement %d: no Action", ErrInvalidPolicy, i)
		}
		for _, a := range s.Action {
			if !validAction(a) {
				return Policy{}, fmt.Errorf("%w: statement %d: bad action %q", ErrInvalidPolicy, i, a)
			}
		}
		if len(s.Condition) > 0 && !bytes.HasPrefix(bytes.TrimSpace(s.Condition), []byte("{")) {
			return Policy{}, fmt.Errorf("%w: statement %d: Condition is not an object", ErrInvalidPolicy, i)
		}
	}
	return p, nil
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

func checkKeys(m map[string]json.RawMessage, allowed ...string) error {
	for k := range m {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("%w: unknown field %q", ErrInvalidPolicy, k)
		}
	}
	return nil
}

// validAction reports whether a is service:resource:action (see
// ParsePolicy).
func validAction(a string) bool {
	parts := strings.Split(a, ":")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return false
	}
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '*') {
				return false
			}
		}
	}
	return true
}

// System role names (reference auth.md §8).
const (
	RoleKMSAdministrator     = "KMS Administrator"
	RoleKMSCMKFullAccess     = "KMS CMKFullAccess"
	RoleKMSCMKReadOnlyAccess = "KMS CMKReadOnlyAccess"
)

// systemRoles are the built-in KMS roles. SystemRole returns copies.
var systemRoles = map[string][]string{
	RoleKMSAdministrator: {"kms:*:*"},
	RoleKMSCMKFullAccess: {
		"kms:cmk:*", "kms:dek:*", "kms:grant:*", "kms:cmkTag:*", "kms:alias:*", "kms::*",
	},
	// Read-only: no operation that changes state or returns key material.
	// kms:cmk:getMaterial is left out: it creates an import token.
	RoleKMSCMKReadOnlyAccess: {
		"kms:cmk:get", "kms:cmk:list", "kms:cmk:getInstance", "kms:cmk:getQuota", "kms:cmk:getRotation",
		"kms:grant:list", "kms:cmkTag:list", "kms:cmkTag:listInstance", "kms:alias:list",
		"kms::getInstance", "kms::getQuota",
	},
}

// SystemRole returns the policy of a built-in KMS role by its exact name.
// The policy is the caller's to modify.
func SystemRole(name string) (Policy, bool) {
	actions, ok := systemRoles[name]
	if !ok {
		return Policy{}, false
	}
	return Policy{
		Version:   PolicyVersion,
		Statement: []Statement{{Effect: EffectAllow, Action: slices.Clone(actions)}},
	}, true
}

// SystemRoleNames returns the names of the built-in roles, sorted.
func SystemRoleNames() []string {
	names := make([]string, 0, len(systemRoles))
	for n := range systemRoles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// actionAliases groups the names one operation's permission goes by: the
// role/policy name and the identity-policy name (reference auth.md §8 "Two
// naming schemes"). The published documents pair only these two; every
// other operation has a single name.
var actionAliases = [][]string{
	{"kms:cmk:getInstance", "kms::getInstance"},
	{"kms:cmk:getQuota", "kms::getQuota"},
}

// ActionNames returns action followed by every other name of the same
// permission, e.g. "kms:cmk:getInstance" → ["kms:cmk:getInstance",
// "kms::getInstance"]. Names are compared case-insensitively. The result is
// a new slice; for an action without aliases it is just [action].
func ActionNames(action string) []string { return appendActionNames(nil, action) }

// appendActionNames appends ActionNames(action) to dst.
func appendActionNames(dst []string, action string) []string {
	names := append(dst, action)
	for _, group := range actionAliases {
		if !slices.ContainsFunc(group, func(n string) bool { return strings.EqualFold(n, action) }) {
			continue
		}
		for _, n := range group {
			if !strings.EqualFold(n, action) {
				names = append(names, n)
			}
		}
	}
	return names
}

// Allowed reports whether policies grant action: some Allow statement
// matches one of ActionNames(action) and no Deny statement matches any of
// them (Deny wins).
//
// A pattern matches a name when both have three colon-separated parts and
// each pattern part matches the name's part case-insensitively, '*' standing
// for any run of characters (possibly empty) within the part: "kms:*:*"
// matches every KMS action, "kms::getInstance" too; "kms:cmk:get*" matches
// kms:cmk:get and kms:cmk:getRotation.
//
// Resource and Condition are not evaluated, so they are read to deny rather
// than grant: a Deny statement applies whatever they say, and an Allow
// statement grants nothing if it has a Condition or a Resource list without
// an all-wildcard entry ("*" or "kms:*:*:*:*").
func Allowed(policies []Policy, action string) bool {
	var buf [4]string
	names := appendActionNames(buf[:0], action)
	allowed := false
	for _, p := range policies {
		for _, s := range p.Statement {
			if !statementMatches(s, names) {
				continue
			}
			switch s.Effect {
			case EffectDeny:
				return false
			case EffectAllow:
				if unrestricted(s) {
					allowed = true
				}
			}
		}
	}
	return allowed
}

func statementMatches(s Statement, names []string) bool {
	for _, pat := range s.Action {
		for _, n := range names {
			if matchAction(pat, n) {
				return true
			}
		}
	}
	return false
}

// unrestricted reports whether an Allow statement's Resource and Condition
// leave it applying to everything.
func unrestricted(s Statement) bool {
	if c := bytes.TrimSpace(s.Condition); len(c) > 0 && !bytes.Equal(c, []byte("null")) && !bytes.Equal(c, []byte("{}")) {
		return false
	}
	if len(s.Resource) == 0 {
		return true
	}
	for _, r := range s.Resource {
		// "*", or any service followed only by wildcard parts.
		parts := strings.Split(r, ":")
		if r == "*" || len(parts) > 1 && !slices.ContainsFunc(parts[1:], func(p string) bool { return p != "*" }) {
			return true
		}
	}
	return false
}

// matchAction matches an action pattern against a name, part by part.
// It runs on every authorized request, so for ASCII (every name ParsePolicy
// accepts) it compares in place; other text is lower-cased by Unicode rules
// first.
func matchAction(pattern, name string) bool {
	if !isASCII(pattern) || !isASCII(name) {
		pp := strings.Split(pattern, ":")
		np := strings.Split(name, ":")
		if len(pp) != 3 || len(np) != 3 {
			return false
		}
		for i := range pp {
			if !matchPart(strings.ToLower(pp[i]), strings.ToLower(np[i])) {
				return false
			}
		}
		return true
	}
	for i := range 3 {
		p, restP, okP := strings.Cut(pattern, ":")
		n, restN, okN := strings.Cut(name, ":")
		// The first two parts end at a colon, the third at the end.
		if last := i == 2; okP == last || okN == last || !matchPart(p, n) {
			return false
		}
		pattern, name = restP, restN
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// lowerASCII lower-cases an ASCII letter.
func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// matchPart matches a glob with '*' against s, ignoring the case of ASCII
// letters. It runs in O(len(p)·len(s)) at worst.
func matchPart(p, s string) bool {
	// Greedy matching with backtracking to the last star.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] != '*' && lowerASCII(p[pi]) == lowerASCII(s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
