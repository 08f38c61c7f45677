package sqlite

import (
	"context"
	"fmt"
)

// KeyStateCounts returns the number of keys in each state (the store's
// State constants), across all projects. It reads the counters that the
// triggers of migration 0006 keep, never the keys.
func (s *Store) KeyStateCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT state, n FROM key_state_counts")
	if err != nil {
		return nil, fmt.Errorf("sqlite: key state counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("sqlite: key state counts: %w", err)
		}
		out[state] = n
	}
	return out, rows.Err()
}
