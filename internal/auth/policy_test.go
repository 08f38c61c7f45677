package auth

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func allow(actions ...string) Policy {
	return Policy{Version: PolicyVersion, Statement: []Statement{{Effect: EffectAllow, Action: actions}}}
}

func deny(actions ...string) Policy {
	return Policy{Version: PolicyVersion, Statement: []Statement{{Effect: EffectDeny, Action: actions}}}
}

func TestMatchAction(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"kms:cmk:get", "kms:cmk:get", true},
		{"kms:cmk:get", "kms:cmk:getRotation", false},
		{"kms:cmk:get*", "kms:cmk:get", true},
		{"kms:cmk:get*", "kms:cmk:getRotation", true},
		{"kms:cmk:get*", "kms:cmk:list", false},
		{"kms:cmk:*", "kms:cmk:create", true},
		{"kms:cmk:*", "kms:dek:create", false},
		{"kms:*:*", "kms:dek:crypto", true},
		{"kms:*:*", "kms::getInstance", true},
		{"kms:*:*", "obs:bucket:get", false},
		{"*:*:*", "obs:bucket:get", true},
		{"kms::*", "kms::getQuota", true},
		{"kms::*", "kms:cmk:getQuota", false},
		{"kms::getInstance", "kms::getInstance", true},
		{"kms::getInstance", "kms:cmk:getInstance", false},
		{"KMS:CMK:GET", "kms:cmk:get", true},
		{"kms:cmk:get", "KMS:Cmk:Get", true},
		{"kms:cmk:*Rotation", "kms:cmk:enableRotation", true},
		{"kms:cmk:*Rotation", "kms:cmk:enableRotationX", false},
		{"kms:cmk:*a*e*", "kms:cmk:generate", true},
		{"kms:cmk:g*t*", "kms:cmk:getQuota", true},
		{"kms:cmk:g*t", "kms:cmk:getQuota", false},
		{"kms:c*:get", "kms:cmkTag:get", true},
		{"kms:*", "kms:cmk:get", false},
		{"kms:cmk:get:x", "kms:cmk:get:x", false},
		{"kms:cmk:get", "kms:cmk", false},
		// Only three-part names match; '*' never crosses a colon.
		{"kms:*", "kms:cmk", false},
		{"kms:cmk*", "kms:cmk:get", false},
		{"kms:cmk:*", "kms:cmk:get:extra", false},
	}
	for _, tt := range tests {
		if got := matchAction(tt.pattern, tt.name); got != tt.want {
			t.Errorf("matchAction(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestMatchPart(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"**", "abc", true},
		{"a*", "a", true},
		{"*a", "ba", true},
		{"*a", "ab", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"a*a*a", "aaaa", true},
		{"a*a*a", "aa", false},
		{strings.Repeat("*a", 20) + "b", strings.Repeat("a", 60), false},
	}
	for _, tt := range tests {
		if got := matchPart(tt.p, tt.s); got != tt.want {
			t.Errorf("matchPart(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
	}
}

func TestActionNames(t *testing.T) {
	tests := []struct {
		action string
		want   []string
	}{
		{"kms:cmk:getInstance", []string{"kms:cmk:getInstance", "kms::getInstance"}},
		{"kms::getInstance", []string{"kms::getInstance", "kms:cmk:getInstance"}},
		{"kms:cmk:getQuota", []string{"kms:cmk:getQuota", "kms::getQuota"}},
		{"kms::getQuota", []string{"kms::getQuota", "kms:cmk:getQuota"}},
		{"KMS:CMK:GETQUOTA", []string{"KMS:CMK:GETQUOTA", "kms::getQuota"}},
		{"kms:cmk:get", []string{"kms:cmk:get"}},
		{"kms:alias:create", []string{"kms:alias:create"}},
	}
	for _, tt := range tests {
		got := ActionNames(tt.action)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ActionNames(%q) (-want +got):\n%s", tt.action, diff)
		}
	}
	// The result is the caller's.
	ActionNames("kms:cmk:getInstance")[1] = "changed"
	if got := ActionNames("kms:cmk:getInstance"); got[1] != "kms::getInstance" {
		t.Errorf("ActionNames shares its result: %v", got)
	}
}

func TestAllowed(t *testing.T) {
	conditional := allow("kms:cmk:get")
	conditional.Statement[0].Condition = json.RawMessage(`{"StringEquals":{"kms:KeyOrigin":["kms"]}}`)
	scoped := allow("kms:cmk:get")
	scoped.Statement[0].Resource = []string{"KMS:*:*:KeyId:0d0466b0-e727-4d9c-b35d-f84bb474a37f"}
	wildResource := allow("kms:cmk:get")
	wildResource.Statement[0].Resource = []string{"KMS:*:*:KeyId:0d04*", "kms:*:*:*:*"}
	starResource := allow("kms:cmk:get")
	starResource.Statement[0].Resource = []string{"*"}
	denyConditional := deny("kms:cmk:get")
	denyConditional.Statement[0].Condition = json.RawMessage(`{"Bool":{"g:MFAPresent":["false"]}}`)
	mixed := Policy{Version: PolicyVersion, Statement: []Statement{
		{Effect: EffectAllow, Action: []string{"kms:*:*"}},
		{Effect: EffectDeny, Action: []string{"kms:cmk:create", "kms:cmk:update"}},
	}}

	tests := []struct {
		name     string
		policies []Policy
		action   string
		want     bool
	}{
		{"no policies", nil, "kms:cmk:get", false},
		{"exact", []Policy{allow("kms:cmk:get")}, "kms:cmk:get", true},
		{"other action", []Policy{allow("kms:cmk:get")}, "kms:cmk:list", false},
		{"wildcard", []Policy{allow("kms:cmk:*")}, "kms:cmk:crypto", true},
		{"wildcard other resource", []Policy{allow("kms:cmk:*")}, "kms:dek:crypto", false},
		{"prefix wildcard", []Policy{allow("kms:cmk:get*")}, "kms:cmk:getRotation", true},
		{"case-insensitive", []Policy{allow("KMS:CMK:Get")}, "kms:cmk:get", true},
		{"deny only", []Policy{deny("kms:*:*")}, "kms:cmk:get", false},
		{"deny wins same policy", []Policy{mixed}, "kms:cmk:create", false},
		{"deny other action", []Policy{mixed}, "kms:cmk:get", true},
		{"deny wins across policies", []Policy{allow("kms:*:*"), deny("kms:cmk:get")}, "kms:cmk:get", false},
		{"deny wins in any order", []Policy{deny("kms:cmk:*"), allow("kms:cmk:get")}, "kms:cmk:get", false},
		{"deny by wildcard", []Policy{allow("kms:cmk:get"), deny("*:*:*")}, "kms:cmk:get", false},
		{"alias: identity name grants role name", []Policy{allow("kms::getInstance")}, "kms:cmk:getInstance", true},
		{"alias: role name grants identity name", []Policy{allow("kms:cmk:getInstance")}, "kms::getInstance", true},
		{"alias: quota", []Policy{allow("kms::getQuota")}, "kms:cmk:getQuota", true},
		{"alias: deny by the other name", []Policy{allow("kms:*:*"), deny("kms::getInstance")}, "kms:cmk:getInstance", false},
		{"alias: deny by the other name reversed", []Policy{allow("kms:*:*"), deny("kms:cmk:getQuota")}, "kms::getQuota", false},
		{"no alias for other actions", []Policy{allow("kms::get")}, "kms:cmk:get", false},
		{"condition is not evaluated: no grant", []Policy{conditional}, "kms:cmk:get", false},
		{"resource is not evaluated: no grant", []Policy{scoped}, "kms:cmk:get", false},
		{"all-wildcard resource grants", []Policy{wildResource}, "kms:cmk:get", true},
		{"star resource grants", []Policy{starResource}, "kms:cmk:get", true},
		{"conditional deny still denies", []Policy{allow("kms:*:*"), denyConditional}, "kms:cmk:get", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Allowed(tt.policies, tt.action); got != tt.want {
				t.Errorf("Allowed(%q) = %v, want %v", tt.action, got, tt.want)
			}
		})
	}
}

func TestSystemRoles(t *testing.T) {
	if diff := cmp.Diff([]string{"KMS Administrator", "KMS CMKFullAccess", "KMS CMKReadOnlyAccess"}, SystemRoleNames()); diff != "" {
		t.Errorf("SystemRoleNames (-want +got):\n%s", diff)
	}
	role := func(name string) []Policy {
		p, ok := SystemRole(name)
		if !ok {
			t.Fatalf("SystemRole(%q) not found", name)
		}
		// A system role is a valid policy document.
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParsePolicy(b); err != nil {
			t.Errorf("SystemRole(%q) does not parse: %v", name, err)
		}
		return []Policy{p}
	}
	admin, full, ro := role(RoleKMSAdministrator), role(RoleKMSCMKFullAccess), role(RoleKMSCMKReadOnlyAccess)

	tests := []struct {
		action          string
		admin, full, ro bool
	}{
		{"kms:cmk:create", true, true, false},
		{"kms:cmk:get", true, true, true},
		{"kms:cmk:list", true, true, true},
		{"kms:cmk:crypto", true, true, false},
		{"kms:cmk:update", true, true, false},
		{"kms:cmk:getInstance", true, true, true},
		{"kms::getInstance", true, true, true},
		{"kms:cmk:getQuota", true, true, true},
		{"kms::getQuota", true, true, true},
		{"kms:cmk:getRotation", true, true, true},
		{"kms:cmk:enableRotation", true, true, false},
		{"kms:cmk:getMaterial", true, true, false},
		{"kms:cmk:importMaterial", true, true, false},
		{"kms:cmk:generate", true, true, false},
		{"kms:dek:create", true, true, false},
		{"kms:dek:crypto", true, true, false},
		{"kms:grant:create", true, true, false},
		{"kms:grant:list", true, true, true},
		{"kms:cmkTag:list", true, true, true},
		{"kms:cmkTag:listInstance", true, true, true},
		{"kms:cmkTag:create", true, true, false},
		{"kms:alias:list", true, true, true},
		{"kms:alias:create", true, true, false},
		{"kms:keystore:create", true, false, false},
		{"obs:bucket:get", false, false, false},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			name string
			p    []Policy
			want bool
		}{{RoleKMSAdministrator, admin, tt.admin}, {RoleKMSCMKFullAccess, full, tt.full}, {RoleKMSCMKReadOnlyAccess, ro, tt.ro}} {
			if got := Allowed(c.p, tt.action); got != c.want {
				t.Errorf("%s: Allowed(%q) = %v, want %v", c.name, tt.action, got, c.want)
			}
		}
	}

	if _, ok := SystemRole("kms administrator"); ok {
		t.Error("SystemRole matched a differently cased name")
	}
	if _, ok := SystemRole("Tenant Administrator"); ok {
		t.Error("SystemRole found an unknown role")
	}
	// Callers get their own copy.
	p, _ := SystemRole(RoleKMSCMKReadOnlyAccess)
	p.Statement[0].Action[0] = "kms:*:*"
	if Allowed(role(RoleKMSCMKReadOnlyAccess), "kms:cmk:create") {
		t.Error("changing a returned role changed the system role")
	}
}

func TestParsePolicy(t *testing.T) {
	good := `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:dek:crypto","kms:cmk:get","kms:cmk:crypto","kms:cmk:generate","kms:cmk:list"]}]}`
	p, err := ParsePolicy([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := allow("kms:dek:crypto", "kms:cmk:get", "kms:cmk:crypto", "kms:cmk:generate", "kms:cmk:list")
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("ParsePolicy (-want +got):\n%s", diff)
	}

	valid := []string{
		good,
		`{"Version":"1.1","Statement":[{"Effect":"Deny","Action":["kms:*:*"]},{"Effect":"Allow","Action":["kms::getInstance"]}]}`,
		`{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:get*"],"Resource":["KMS:*:*:KeyId:*"],"Condition":{"StringEquals":{"kms:KeyOrigin":["kms"]}}}]}`,
		` {"Statement":[{"Action":["*:*:*"],"Effect":"Allow"}],"Version":"1.1"} `,
	}
	for _, s := range valid {
		if _, err := ParsePolicy([]byte(s)); err != nil {
			t.Errorf("ParsePolicy(%s): %v", s, err)
		}
	}

	invalid := map[string]string{
		"not JSON":              `{`,
		"array":                 `[]`,
		"empty object":          `{}`,
		"bad version":           `{"Version":"1.0","Statement":[{"Effect":"Allow","Action":["kms:cmk:get"]}]}`,
		"identity version":      `{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["kms:cmk:get"]}]}`,
		"no version":            `{"Statement":[{"Effect":"Allow","Action":["kms:cmk:get"]}]}`,
		"numeric version":       `{"Version":1.1,"Statement":[{"Effect":"Allow","Action":["kms:cmk:get"]}]}`,
		"no statement":          `{"Version":"1.1"}`,
		"null statement":        `{"Version":"1.1","Statement":null}`,
		"empty statement":       `{"Version":"1.1","Statement":[]}`,
		"null statement entry":  `{"Version":"1.1","Statement":[null]}`,
		"bad effect":            `{"Version":"1.1","Statement":[{"Effect":"Permit","Action":["kms:cmk:get"]}]}`,
		"lower-case effect":     `{"Version":"1.1","Statement":[{"Effect":"allow","Action":["kms:cmk:get"]}]}`,
		"no effect":             `{"Version":"1.1","Statement":[{"Action":["kms:cmk:get"]}]}`,
		"unknown top field":     `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:get"]}],"Depends":[]}`,
		"unknown stmt field":    `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:get"],"Sid":"x"}]}`,
		"lower-case key":        `{"version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:get"]}]}`,
		"lower-case stmt key":   `{"Version":"1.1","Statement":[{"effect":"Allow","Action":["kms:cmk:get"]}]}`,
		"empty action list":     `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":[]}]}`,
		"no action":             `{"Version":"1.1","Statement":[{"Effect":"Allow"}]}`,
		"action string":         `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":"kms:cmk:get"}]}`,
		"empty action":          `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":[""]}]}`,
		"two parts":             `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:get"]}]}`,
		"four parts":            `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:get:x"]}]}`,
		"empty service":         `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":[":cmk:get"]}]}`,
		"empty operation":       `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:"]}]}`,
		"bare star":             `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["*"]}]}`,
		"space in action":       `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:get key"]}]}`,
		"question mark":         `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:ge?"]}]}`,
		"condition not object":  `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:get"],"Condition":"x"}]}`,
		"resource not list":     `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:get"],"Resource":"*"}]}`,
		"trailing data":         good + `{}`,
		"trailing garbage":      good + `x`,
		"oversized":             `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:get"]}]}` + strings.Repeat(" ", maxPolicySize),
		"statement not objects": `{"Version":"1.1","Statement":["x"]}`,
	}
	for name, s := range invalid {
		t.Run(name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(s))
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Errorf("ParsePolicy(%s) = %v, want ErrInvalidPolicy", s, err)
			}
		})
	}
}

// FuzzParsePolicy checks that every accepted policy survives a
// marshal/parse round trip unchanged.
func FuzzParsePolicy(f *testing.F) {
	for _, name := range SystemRoleNames() {
		p, _ := SystemRole(name)
		b, err := json.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Version":"1.1","Statement":[{"Effect":"Deny","Action":["kms:cmk:*"],"Resource":["*"],"Condition":{"a":{"b":["c"]}}}]}`))
	f.Add([]byte(`{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms::getInstance"]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Errorf("ParsePolicy = %v, want ErrInvalidPolicy", err)
			}
			return
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := ParsePolicy(out)
		if err != nil {
			t.Fatalf("ParsePolicy(Marshal(p)): %v\n%s", err, out)
		}
		if diff := cmp.Diff(p, p2, cmp.Comparer(func(a, b json.RawMessage) bool {
			var x, y any
			return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && cmp.Equal(x, y) || len(a) == 0 && len(b) == 0
		})); diff != "" {
			t.Errorf("round trip (-first +second):\n%s", diff)
		}
		// Allowed never panics on an accepted policy.
		for _, a := range []string{"kms:cmk:get", "kms::getInstance"} {
			_ = Allowed([]Policy{p}, a)
		}
	})
}
