package auth

import (
	"testing"
	"time"
)

func TestReplayCache(t *testing.T) {
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	c := NewReplayCache(3)
	sig := []byte{1, 2, 3}
	if !c.first("AK", sig, now, now) {
		t.Fatal("a new signature was refused")
	}
	if c.first("AK", sig, now, now.Add(time.Minute)) {
		t.Error("a replay within the window was accepted")
	}
	if !c.first("AK2", sig, now, now) {
		t.Error("the same signature bytes of another AK were refused")
	}
	// Once the date has left the window, the request is refused by the
	// date check anyway; the cache forgets it.
	later := now.Add(MaxClockSkew + time.Second)
	if !c.first("AK", sig, now, later) {
		t.Error("an expired entry was still refused")
	}
	// Bounded: a fourth signature evicts the oldest.
	c = NewReplayCache(3)
	for i := range byte(4) {
		if !c.first("AK", []byte{i}, now, now) {
			t.Fatalf("signature %d refused", i)
		}
	}
	if c.Len() != 3 {
		t.Errorf("cache holds %d entries, want its capacity 3", c.Len())
	}
	if !c.first("AK", []byte{0}, now, now) {
		t.Error("the evicted oldest signature was still refused")
	}
	if c.first("AK", []byte{3}, now, now) {
		t.Error("the newest signature was accepted twice")
	}
}
