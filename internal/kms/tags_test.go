package kms_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsd/kmsd/internal/kms"
)

func TestTagValidation(t *testing.T) {
	tests := []struct {
		name       string
		key, value string
		wantKey    error
		wantValue  error
	}{
		{"plain", "env", "prod", nil, nil},
		{"unicode at the limits", strings.Repeat("键", 36), strings.Repeat("值", 43), nil, nil},
		{"empty value", "env", "", nil, nil},
		{"spaces and punctuation", "cost center/a.b:c", "x y-z_@+", nil, nil},
		{"empty key", "", "v", kms.ErrTagKeyLength, nil},
		{"key too long", strings.Repeat("k", 37), "v", kms.ErrTagKeyLength, nil},
		{"value too long", "k", strings.Repeat("v", 44), nil, kms.ErrTagValueLength},
		{"key with *", "a*b", "v", kms.ErrInvalidTagKey, nil},
		{"key with <", "a<b", "v", kms.ErrInvalidTagKey, nil},
		{"key with >", "a>b", "v", kms.ErrInvalidTagKey, nil},
		{"key with backslash", `a\b`, "v", kms.ErrInvalidTagKey, nil},
		{"key with =", "a=b", "v", kms.ErrInvalidTagKey, nil},
		{"key with newline", "a\nb", "v", kms.ErrInvalidTagKey, nil},
		{"key with NUL", "a\x00b", "v", kms.ErrInvalidTagKey, nil},
		{"key with US (31)", "a\x1fb", "v", kms.ErrInvalidTagKey, nil},
		{"value with =", "k", "a=b", nil, kms.ErrInvalidTagValue},
		{"value with tab", "k", "a\tb", nil, kms.ErrInvalidTagValue},
		{"value with DEL (127) is allowed", "k", "a\x7fb", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := kms.ValidateTagKey(tt.key); !errors.Is(err, tt.wantKey) || (err == nil) != (tt.wantKey == nil) {
				t.Errorf("key %q: got %v, want %v", tt.key, err, tt.wantKey)
			}
			if err := kms.ValidateTagValue(tt.value); !errors.Is(err, tt.wantValue) || (err == nil) != (tt.wantValue == nil) {
				t.Errorf("value %q: got %v, want %v", tt.value, err, tt.wantValue)
			}
		})
	}
}

func (f *fixture) tags(t *testing.T, keyID string) []kms.Tag {
	t.Helper()
	tags, err := f.svc.KeyTags(t.Context(), project, keyID)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func TestKeyTags(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k := f.create(t, "tagged", "")
	if got := f.tags(t, k.KeyID); len(got) != 0 {
		t.Fatalf("a new key carries tags %v", got)
	}
	if err := f.svc.CreateTag(ctx, project, k.KeyID, kms.Tag{Key: "env", Value: "dev"}); err != nil {
		t.Fatal(err)
	}
	// A batch overwrites an existing tag key and adds new ones.
	if err := f.svc.PutTags(ctx, project, k.KeyID, []kms.Tag{{Key: "env", Value: "prod"}, {Key: "app", Value: ""}}); err != nil {
		t.Fatal(err)
	}
	want := []kms.Tag{{Key: "app", Value: ""}, {Key: "env", Value: "prod"}}
	if diff := cmp.Diff(want, f.tags(t, k.KeyID)); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}

	// Fill up to the limit: 2 + 18 = 20 tags; one more is refused and
	// changes nothing, also when it comes with an overwrite.
	var more []kms.Tag
	for i := range kms.MaxTagsPerKey - 2 {
		more = append(more, kms.Tag{Key: fmt.Sprintf("t%02d", i), Value: "v"})
	}
	if err := f.svc.PutTags(ctx, project, k.KeyID, more); err != nil {
		t.Fatalf("putting the 20th tag: %v", err)
	}
	if got := len(f.tags(t, k.KeyID)); got != kms.MaxTagsPerKey {
		t.Fatalf("got %d tags, want %d", got, kms.MaxTagsPerKey)
	}
	err := f.svc.PutTags(ctx, project, k.KeyID, []kms.Tag{{Key: "env", Value: "changed"}, {Key: "one-more", Value: "v"}})
	if !errors.Is(err, kms.ErrTooManyTags) {
		t.Fatalf("21st tag: got %v, want ErrTooManyTags", err)
	}
	if got := f.tags(t, k.KeyID); len(got) != kms.MaxTagsPerKey || got[1] != (kms.Tag{Key: "env", Value: "prod"}) {
		t.Errorf("a refused batch changed the tags: %v", got)
	}
	// Overwriting at the limit is fine.
	if err := f.svc.CreateTag(ctx, project, k.KeyID, kms.Tag{Key: "env", Value: "staging"}); err != nil {
		t.Errorf("overwrite at the limit: %v", err)
	}

	// Batch deletion skips absent tag keys; single deletion reports them.
	if err := f.svc.DeleteTags(ctx, project, k.KeyID, []string{"env", "no-such-tag"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteTag(ctx, project, k.KeyID, "app"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteTag(ctx, project, k.KeyID, "app"); !errors.Is(err, kms.ErrTagNotFound) {
		t.Errorf("deleting an absent tag: got %v, want ErrTagNotFound", err)
	}
	if got := len(f.tags(t, k.KeyID)); got != kms.MaxTagsPerKey-2 {
		t.Errorf("got %d tags after deleting two, want %d", got, kms.MaxTagsPerKey-2)
	}

	// Request shape errors come before the key is looked up.
	tooMany := make([]kms.Tag, kms.MaxTagsPerKey+1)
	for i := range tooMany {
		tooMany[i] = kms.Tag{Key: fmt.Sprintf("x%d", i)}
	}
	unknown := "00000000-0000-4000-8000-000000000000"
	second := f.create(t, "second", "")
	if err := f.svc.PutTags(ctx, project, second.KeyID, []kms.Tag{{Key: "k"}}); err != nil {
		t.Fatal(err)
	}
	errTests := []struct {
		name string
		fn   func() error
		want error
	}{
		{"empty batch", func() error { return f.svc.PutTags(ctx, project, k.KeyID, nil) }, kms.ErrTagListEmpty},
		{"empty delete batch", func() error { return f.svc.DeleteTags(ctx, project, k.KeyID, []string{}) }, kms.ErrTagListEmpty},
		{"batch too long", func() error { return f.svc.PutTags(ctx, project, k.KeyID, tooMany) }, kms.ErrTagListSize},
		{"duplicate key in a batch", func() error {
			return f.svc.PutTags(ctx, project, k.KeyID, []kms.Tag{{Key: "d", Value: "1"}, {Key: "d", Value: "2"}})
		}, kms.ErrInvalidTagList},
		{"duplicate key in a delete batch", func() error { return f.svc.DeleteTags(ctx, project, k.KeyID, []string{"d", "d"}) }, kms.ErrInvalidTagList},
		{"invalid key", func() error { return f.svc.CreateTag(ctx, project, k.KeyID, kms.Tag{Key: "a=b"}) }, kms.ErrInvalidTagKey},
		{"invalid value", func() error { return f.svc.CreateTag(ctx, project, k.KeyID, kms.Tag{Key: "a", Value: "<b>"}) }, kms.ErrInvalidTagValue},
		{"invalid key in a delete batch", func() error { return f.svc.DeleteTags(ctx, project, k.KeyID, []string{""}) }, kms.ErrTagKeyLength},
		{"unknown key", func() error { return f.svc.CreateTag(ctx, project, unknown, kms.Tag{Key: "a"}) }, kms.ErrKeyNotFound},
		{"malformed key id", func() error { return f.svc.CreateTag(ctx, project, "nope", kms.Tag{Key: "a"}) }, kms.ErrInvalidKeyID},
		{"another project's key", func() error { return f.svc.CreateTag(ctx, other, k.KeyID, kms.Tag{Key: "a"}) }, kms.ErrKeyNotFound},
		{"delete through another project", func() error { return f.svc.DeleteTag(ctx, other, second.KeyID, "k") }, kms.ErrKeyNotFound},
		{"delete on an unknown key", func() error { return f.svc.DeleteTag(ctx, project, unknown, "k") }, kms.ErrKeyNotFound},
		{"list an unknown key", func() error { _, err := f.svc.KeyTags(ctx, project, unknown); return err }, kms.ErrKeyNotFound},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.fn(); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}

	// Tags may change in every state.
	if _, err := f.svc.ScheduleKeyDeletion(ctx, project, second.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CreateTag(ctx, project, second.KeyID, kms.Tag{Key: "pending", Value: "yes"}); err != nil {
		t.Errorf("tagging a key pending deletion: %v", err)
	}
}

func TestProjectTags(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	a := f.create(t, "a", "")
	b := f.create(t, "b", "SM4")
	for _, p := range []struct {
		id   string
		tags []kms.Tag
	}{
		{a.KeyID, []kms.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: "x"}}},
		{b.KeyID, []kms.Tag{{Key: "env", Value: "dev"}, {Key: "team", Value: "x"}, {Key: "solo", Value: ""}}},
	} {
		if err := f.svc.PutTags(ctx, project, p.id, p.tags); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.svc.ProjectTags(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	want := []kms.TagValues{{Key: "env", Values: []string{"dev", "prod"}}, {Key: "solo", Values: []string{""}}, {Key: "team", Values: []string{"x"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("project tags (-want +got):\n%s", diff)
	}
	if got, err := f.svc.ProjectTags(ctx, other); err != nil || len(got) != 0 {
		t.Errorf("other project: got %v, %v; want no tags", got, err)
	}
}

func TestFindKeysByTags(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	// Keys in creation order; the clock moves so the order is defined.
	type spec struct {
		alias string
		tags  []kms.Tag
	}
	specs := []spec{
		{"Web-Prod", []kms.Tag{{Key: "env", Value: "prod"}, {Key: "app", Value: "web"}}},
		{"web-dev", []kms.Tag{{Key: "env", Value: "dev"}, {Key: "app", Value: "web"}}},
		{"db-prod", []kms.Tag{{Key: "env", Value: "prod"}, {Key: "app", Value: "db"}}},
		{"untagged", nil},
	}
	ids := map[string]string{}
	for _, s := range specs {
		k := f.create(t, s.alias, "")
		ids[s.alias] = k.KeyID
		if s.tags != nil {
			if err := f.svc.PutTags(ctx, project, k.KeyID, s.tags); err != nil {
				t.Fatal(err)
			}
		}
		f.now = f.now.Add(time.Millisecond)
	}
	tests := []struct {
		name string
		q    kms.TagQuery
		want []string
	}{
		{"everything", kms.TagQuery{}, []string{"Web-Prod", "web-dev", "db-prod", "untagged"}},
		{"one value", kms.TagQuery{Tags: []kms.TagValues{{Key: "env", Values: []string{"prod"}}}}, []string{"Web-Prod", "db-prod"}},
		{"values OR-ed", kms.TagQuery{Tags: []kms.TagValues{{Key: "env", Values: []string{"prod", "dev"}}}}, []string{"Web-Prod", "web-dev", "db-prod"}},
		{"any value", kms.TagQuery{Tags: []kms.TagValues{{Key: "app"}}}, []string{"Web-Prod", "web-dev", "db-prod"}},
		{"keys AND-ed", kms.TagQuery{Tags: []kms.TagValues{{Key: "env", Values: []string{"prod"}}, {Key: "app", Values: []string{"web"}}}}, []string{"Web-Prod"}},
		{"no match", kms.TagQuery{Tags: []kms.TagValues{{Key: "env", Values: []string{"test"}}}}, nil},
		{"name, any case", kms.TagQuery{Matches: []kms.Tag{{Key: kms.MatchResourceName, Value: "WEB"}}}, []string{"Web-Prod", "web-dev"}},
		{"name and tag", kms.TagQuery{Tags: []kms.TagValues{{Key: "env", Values: []string{"prod"}}}, Matches: []kms.Tag{{Key: kms.MatchResourceName, Value: "prod"}}}, []string{"Web-Prod", "db-prod"}},
		{"empty name", kms.TagQuery{Matches: []kms.Tag{{Key: kms.MatchResourceName}}}, []string{"Web-Prod", "web-dev", "db-prod", "untagged"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found, total, err := f.svc.FindKeysByTags(ctx, project, tt.q, 0, kms.MaxSearchLimit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range found {
				got = append(got, k.Alias)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("found (-want +got):\n%s", diff)
			}
			if total != len(tt.want) {
				t.Errorf("got total %d, want %d", total, len(tt.want))
			}
			n, err := f.svc.CountKeysByTags(ctx, project, tt.q)
			if err != nil || n != len(tt.want) {
				t.Errorf("count: got %d, %v; want %d", n, err, len(tt.want))
			}
		})
	}

	// Results carry their tags; pages cover the matches in order.
	found, total, err := f.svc.FindKeysByTags(ctx, project, kms.TagQuery{}, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if total != 4 || len(found) != 2 || found[0].KeyID != ids["web-dev"] || found[1].KeyID != ids["db-prod"] {
		t.Fatalf("page offset 1 limit 2: total %d, %d keys %v", total, len(found), found)
	}
	if diff := cmp.Diff([]kms.Tag{{Key: "app", Value: "web"}, {Key: "env", Value: "dev"}}, found[0].Tags); diff != "" {
		t.Errorf("tags of a result (-want +got):\n%s", diff)
	}
	if found, _, err := f.svc.FindKeysByTags(ctx, project, kms.TagQuery{}, 4, 10); err != nil || len(found) != 0 {
		t.Errorf("past the end: %v, %v", found, err)
	}
	if found, total, err := f.svc.FindKeysByTags(ctx, other, kms.TagQuery{}, 0, 10); err != nil || len(found) != 0 || total != 0 {
		t.Errorf("another project: %d keys, total %d, %v", len(found), total, err)
	}

	manyValues := make([]string, kms.MaxQueryTagValues+1)
	for i := range manyValues {
		manyValues[i] = fmt.Sprint(i)
	}
	manyKeys := make([]kms.TagValues, kms.MaxQueryTags+1)
	for i := range manyKeys {
		manyKeys[i] = kms.TagValues{Key: fmt.Sprint("k", i)}
	}
	errTests := []struct {
		name          string
		q             kms.TagQuery
		offset, limit int
		want          error
	}{
		{"limit 0", kms.TagQuery{}, 0, 0, kms.ErrInvalidLimit},
		{"limit 1001", kms.TagQuery{}, 0, 1001, kms.ErrInvalidLimit},
		{"negative offset", kms.TagQuery{}, -1, 10, kms.ErrInvalidOffset},
		{"empty tag key", kms.TagQuery{Tags: []kms.TagValues{{Key: ""}}}, 0, 10, kms.ErrTagKeyLength},
		{"invalid tag key", kms.TagQuery{Tags: []kms.TagValues{{Key: "a*"}}}, 0, 10, kms.ErrInvalidTagKey},
		{"invalid tag value", kms.TagQuery{Tags: []kms.TagValues{{Key: "a", Values: []string{"\\"}}}}, 0, 10, kms.ErrInvalidTagValue},
		{"tag key twice", kms.TagQuery{Tags: []kms.TagValues{{Key: "a"}, {Key: "a"}}}, 0, 10, kms.ErrInvalidTags},
		{"too many values", kms.TagQuery{Tags: []kms.TagValues{{Key: "a", Values: manyValues}}}, 0, 10, kms.ErrTooManyTagValues},
		{"too many tag keys", kms.TagQuery{Tags: manyKeys}, 0, 10, kms.ErrTagListSize},
		{"match key", kms.TagQuery{Matches: []kms.Tag{{Key: "resource_id", Value: "x"}}}, 0, 10, kms.ErrInvalidMatchKey},
		{"match value too long", kms.TagQuery{Matches: []kms.Tag{{Key: kms.MatchResourceName, Value: strings.Repeat("a", 256)}}}, 0, 10, kms.ErrInvalidMatchValue},
		{"match twice", kms.TagQuery{Matches: []kms.Tag{{Key: kms.MatchResourceName}, {Key: kms.MatchResourceName}}}, 0, 10, kms.ErrInvalidMatches},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := f.svc.FindKeysByTags(ctx, project, tt.q, tt.offset, tt.limit); !errors.Is(err, tt.want) {
				t.Errorf("find: got %v, want %v", err, tt.want)
			}
			if tt.limit > 0 && tt.limit <= kms.MaxSearchLimit && tt.offset >= 0 {
				if _, err := f.svc.CountKeysByTags(ctx, project, tt.q); !errors.Is(err, tt.want) {
					t.Errorf("count: got %v, want %v", err, tt.want)
				}
			}
		})
	}
}
