package kms

import (
	"testing"
	"time"
)

// TestSpaceIDsIncrease checks that ids made within one millisecond, and
// past the 4 096 a millisecond's counter holds, still sort in the order
// they were made, and carry the version and variant bits of RFC 9562.
func TestSpaceIDsIncrease(t *testing.T) {
	var g spaceIDs
	now := time.UnixMilli(1_700_000_000_000)
	prev := ""
	for i := range 10_000 {
		id := g.next(now)
		if id <= prev {
			t.Fatalf("id %d %s does not sort after %s", i, id, prev)
		}
		if id[14] != '7' || (id[19] != '8' && id[19] != '9' && id[19] != 'a' && id[19] != 'b') {
			t.Fatalf("id %s lacks the version 7 and variant bits", id)
		}
		if !spaceIDRE.MatchString(id) {
			t.Fatalf("id %s does not match the accepted id shape", id)
		}
		prev = id
	}
	if later := g.next(now.Add(time.Hour)); later <= prev {
		t.Fatalf("an id an hour later, %s, sorts before %s", later, prev)
	}
}
