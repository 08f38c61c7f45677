package store

import "testing"

// TestBlockSeek finds every offset of a list of blocks from either end,
// against the block each offset lies in.
func TestBlockSeek(t *testing.T) {
	counts := []int{3, 1, 4, 1, 5}
	total := 14
	for offset := range total {
		want, start := 0, 0 // index of the block holding offset, and its start
		for i, sum := 0, 0; i < len(counts); i++ {
			if offset < sum+counts[i] {
				want, start = i, sum
				break
			}
			sum += counts[i]
		}
		s := NewBlockSeek(offset, total)
		got := -1
		for k := range counts {
			i := k
			if !s.Forward() {
				i = len(counts) - 1 - k
			}
			if s.Next(counts[i]) {
				got = i
				break
			}
		}
		if got != want || s.Before() != start {
			t.Errorf("offset %d: block %d starting at %d, want block %d starting at %d (forward %v)", offset, got, s.Before(), want, start, s.Forward())
		}
	}
	s := NewBlockSeek(6, 10) // from the end, one block counting more than the total
	if !s.Next(20) || s.Before() >= 0 {
		t.Errorf("Before() = %d after blocks counting more than the total, want < 0", s.Before())
	}
}
