package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/store"
)

// putTags sets tags on keys in one transaction.
func (f *fixture) putTags(t *testing.T, k store.Key, tags ...store.Tag) {
	t.Helper()
	f.update(t, func(tx store.Tx) error {
		for _, tag := range tags {
			if err := tx.PutTag(k.ProjectID, k.KeyID, tag.Key, tag.Value); err != nil {
				return err
			}
		}
		return nil
	})
}

// keyTags reads the tags of a key and fails the test when that fails.
func (f *fixture) keyTags(t *testing.T, k store.Key) []store.Tag {
	t.Helper()
	var tags []store.Tag
	f.view(t, func(tx store.Tx) (err error) {
		tags, err = tx.ListKeyTags(k.ProjectID, k.KeyID)
		return err
	})
	return tags
}

func testTags(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)
	k1, k2, k3 := f.key(p, 0), f.key(p, 1), f.key(p, 2)
	kq := f.key(q, 0)
	f.createKeys(t, k1, k2, k3, kq)

	t.Run("PutAndList", func(t *testing.T) {
		f.putTags(t, k1,
			store.Tag{Key: "team", Value: "payments"},
			store.Tag{Key: "env", Value: "test"},
			store.Tag{Key: "成本中心", Value: "研发-01"},
			store.Tag{Key: "empty", Value: ""},
		)
		f.putTags(t, k1, store.Tag{Key: "env", Value: "prod"}) // overwrites
		want := []store.Tag{{Key: "empty", Value: ""}, {Key: "env", Value: "prod"}, {Key: "team", Value: "payments"}, {Key: "成本中心", Value: "研发-01"}}
		diff(t, "ListKeyTags", f.keyTags(t, k1), want)
		diff(t, "ListKeyTags of an untagged key", f.keyTags(t, k2), []store.Tag(nil))
	})

	t.Run("Errors", func(t *testing.T) {
		f.runErrCases(t, []errCase{
			{"put on missing key", func(tx store.Tx) error { return tx.PutTag(p.ID, f.keyID(), "env", "prod") }, store.ErrNotFound},
			{"put on key of another project", func(tx store.Tx) error { return tx.PutTag(q.ID, k1.KeyID, "env", "prod") }, store.ErrNotFound},
			{"delete missing tag", func(tx store.Tx) error { return tx.DeleteTag(p.ID, k1.KeyID, "absent") }, store.ErrNotFound},
			{"delete tag of another key", func(tx store.Tx) error { return tx.DeleteTag(p.ID, k2.KeyID, "env") }, store.ErrNotFound},
			{"delete in another project", func(tx store.Tx) error { return tx.DeleteTag(q.ID, k1.KeyID, "env") }, store.ErrNotFound},
			{"list of missing key", func(tx store.Tx) error {
				_, err := tx.ListKeyTags(p.ID, f.keyID())
				return err
			}, store.ErrNotFound},
			{"list of key of another project", func(tx store.Tx) error {
				_, err := tx.ListKeyTags(q.ID, k1.KeyID)
				return err
			}, store.ErrNotFound},
		})
	})

	t.Run("Delete", func(t *testing.T) {
		f.update(t, func(tx store.Tx) error { return tx.DeleteTag(p.ID, k1.KeyID, "empty") })
		diff(t, "ListKeyTags after DeleteTag", f.keyTags(t, k1),
			[]store.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: "payments"}, {Key: "成本中心", Value: "研发-01"}})
		f.runErrCases(t, []errCase{
			{"delete again", func(tx store.Tx) error { return tx.DeleteTag(p.ID, k1.KeyID, "empty") }, store.ErrNotFound},
		})
	})

	t.Run("ListProjectTags", func(t *testing.T) {
		f.putTags(t, k2, store.Tag{Key: "env", Value: "staging"}, store.Tag{Key: "team", Value: "payments"})
		f.putTags(t, k3, store.Tag{Key: "env", Value: "prod"}, store.Tag{Key: "app", Value: "orders"})
		f.putTags(t, kq, store.Tag{Key: "env", Value: "dev"}, store.Tag{Key: "other", Value: "x"})
		empty := f.project(t, a.ID)
		f.view(t, func(tx store.Tx) error {
			got, err := tx.ListProjectTags(p.ID)
			diff(t, "ListProjectTags", got, []store.TagValues{
				{Key: "app", Values: []string{"orders"}},
				{Key: "env", Values: []string{"prod", "staging"}},
				{Key: "team", Values: []string{"payments"}},
				{Key: "成本中心", Values: []string{"研发-01"}},
			})
			if err != nil {
				return err
			}
			got, err = tx.ListProjectTags(empty.ID)
			diff(t, "ListProjectTags of a project without tags", got, []store.TagValues(nil))
			return err
		})
	})
}

// tagged is a key with its tags, for the reference matcher of
// testFindKeysByTags.
type tagged struct {
	key  store.Key
	tags map[string]string
}

// matches is the reference semantics of FindKeysByTags.
func (k tagged) matches(q store.TagQuery) bool {
	for _, tag := range q.Tags {
		v, ok := k.tags[tag.Key]
		if !ok || len(tag.Values) > 0 && !slices.Contains(tag.Values, v) {
			return false
		}
	}
	for _, m := range q.Matches {
		if !strings.Contains(strings.ToLower(k.key.Alias), strings.ToLower(m.Value)) {
			return false
		}
	}
	return true
}

func testFindKeysByTags(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)

	// 30 keys over 6 creation times, so that the key id breaks ties.
	var keys []tagged
	for i := range 30 {
		k := tagged{key: f.key(p, i%6), tags: map[string]string{}}
		switch i % 3 {
		case 0:
			k.key.Alias = fmt.Sprintf("app/Orders-%d", i)
		case 1:
			k.key.Alias = fmt.Sprintf("svc/payments_%d", i)
		}
		k.tags["env"] = []string{"prod", "staging", "dev"}[i%3]
		switch {
		case i%2 == 0:
			k.tags["team"] = "blue"
		case i%5 == 0:
			k.tags["team"] = "red"
		}
		if i%4 == 0 {
			k.tags["owner"] = ""
		}
		keys = append(keys, k)
	}
	// Another project's keys carry the same tags and never match.
	var others []tagged
	for i := range 3 {
		k := tagged{key: f.key(q, i), tags: map[string]string{"env": "prod", "team": "blue", "owner": ""}}
		k.key.Alias = fmt.Sprintf("app/orders-%d", i)
		others = append(others, k)
	}
	for _, k := range append(slices.Clone(keys), others...) {
		f.createKeys(t, k.key)
		var tags []store.Tag
		for key, value := range k.tags {
			tags = append(tags, store.Tag{Key: key, Value: value})
		}
		f.putTags(t, k.key, tags...)
	}
	slices.SortFunc(keys, func(a, b tagged) int { return keyOrder(a.key, b.key) })

	tv := func(key string, values ...string) store.TagValues { return store.TagValues{Key: key, Values: values} }
	name := func(v string) store.Tag { return store.Tag{Key: store.MatchResourceName, Value: v} }
	for _, tc := range []struct {
		name  string
		query store.TagQuery
	}{
		{"empty query", store.TagQuery{}},
		{"tag with any value", store.TagQuery{Tags: []store.TagValues{tv("team")}}},
		{"tag with one value", store.TagQuery{Tags: []store.TagValues{tv("env", "prod")}}},
		{"values are OR-ed", store.TagQuery{Tags: []store.TagValues{tv("env", "prod", "dev")}}},
		{"tags are AND-ed", store.TagQuery{Tags: []store.TagValues{tv("env", "prod", "staging"), tv("team", "blue")}}},
		{"three tags", store.TagQuery{Tags: []store.TagValues{tv("env"), tv("team", "blue", "red"), tv("owner")}}},
		{"empty value", store.TagQuery{Tags: []store.TagValues{tv("owner", "")}}},
		{"same tag twice", store.TagQuery{Tags: []store.TagValues{tv("env", "prod", "dev"), tv("env", "dev", "staging")}}},
		{"unknown tag", store.TagQuery{Tags: []store.TagValues{tv("absent")}}},
		{"unknown value", store.TagQuery{Tags: []store.TagValues{tv("env", "qa")}}},
		{"name ignores case", store.TagQuery{Matches: []store.Tag{name("orders")}}},
		{"name in the middle", store.TagQuery{Matches: []store.Tag{name("DERS-1")}}},
		{"name has no wildcards", store.TagQuery{Matches: []store.Tag{name("app/%")}}},
		{"name underscore is literal", store.TagQuery{Matches: []store.Tag{name("s_2")}}},
		{"empty name matches every key", store.TagQuery{Matches: []store.Tag{name("")}}},
		{"tags and name", store.TagQuery{Tags: []store.TagValues{tv("team", "blue")}, Matches: []store.Tag{name("payments")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []store.Key
			for _, k := range keys {
				if k.matches(tc.query) {
					want = append(want, k.key)
				}
			}
			var got []store.Key
			var total int
			f.view(t, func(tx store.Tx) (err error) {
				got, total, err = tx.FindKeysByTags(p.ID, tc.query, 0, 0)
				return err
			})
			if total != len(want) {
				t.Errorf("total: got %d, want %d", total, len(want))
			}
			diff(t, "FindKeysByTags", got, want)

			// Pages of 4.
			var all []store.Key
			for offset := 0; offset <= len(want); offset += 4 {
				var page []store.Key
				f.view(t, func(tx store.Tx) (err error) {
					page, total, err = tx.FindKeysByTags(p.ID, tc.query, offset, 4)
					return err
				})
				if total != len(want) {
					t.Errorf("total of page at %d: got %d, want %d", offset, total, len(want))
				}
				if n := min(4, len(want)-offset); len(page) != n {
					t.Errorf("page at %d: got %d keys, want %d", offset, len(page), n)
				}
				all = append(all, page...)
			}
			diff(t, "pages of FindKeysByTags", all, want)
		})
	}

	// The table must exercise both outcomes, or it proves little.
	t.Run("Selective", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			_, total, err := tx.FindKeysByTags(p.ID, store.TagQuery{
				Tags:    []store.TagValues{tv("env", "prod", "staging"), tv("team", "blue")},
				Matches: []store.Tag{name("orders")},
			}, 0, 0)
			if total == 0 || total == len(keys) {
				t.Errorf("total: got %d, want some but not all of %d keys", total, len(keys))
			}
			return err
		})
	})

	t.Run("UnsupportedMatch", func(t *testing.T) {
		err := f.s.View(t.Context(), func(tx store.Tx) error {
			_, _, err := tx.FindKeysByTags(p.ID, store.TagQuery{Matches: []store.Tag{{Key: "resource_id", Value: "x"}}}, 0, 10)
			return err
		})
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("FindKeysByTags with an unsupported match key: got %v, want a non-sentinel error", err)
		}
	})
}
