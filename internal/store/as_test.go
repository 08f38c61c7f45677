package store_test

import (
	"context"
	"testing"

	"github.com/kmsd/kmsd/internal/store"
)

// backend is a Store that implements one optional interface.
type backend struct{ store.Store }

func (backend) KeyRevision(context.Context, string, string) (int64, error) { return 7, nil }

// decorator wraps a Store the way the server's store-error counter does.
type decorator struct{ store.Store }

func (d decorator) Unwrap() store.Store { return d.Store }

func TestAsSeesThroughWrappers(t *testing.T) {
	var s store.Store = decorator{decorator{backend{}}}
	if _, ok := s.(store.Revisioner); ok {
		t.Fatal("the decorator itself implements Revisioner; the test proves nothing")
	}
	r, ok := store.As[store.Revisioner](s)
	if !ok {
		t.Fatal("As did not find the wrapped backend's Revisioner")
	}
	if rev, _ := r.KeyRevision(t.Context(), "p", "k"); rev != 7 {
		t.Fatalf("got revision %d, want 7", rev)
	}
	if _, ok := store.As[store.Exclusive](s); ok {
		t.Fatal("As found an Exclusive that no store in the chain implements")
	}
	if _, ok := store.As[store.Revisioner](nil); ok {
		t.Fatal("As found an interface in a nil store")
	}
}
