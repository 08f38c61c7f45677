//go:build race

package auth

// raceEnabled is set under the race detector, whose sync.Pool drops items
// at random, so allocation counts are meaningless.
const raceEnabled = true
