package api

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
)

// requestIDs makes request ids: 32 hex digits that AES-128, under a key
// drawn once per Handler, makes of a counter. They are unique within the
// process (AES is a permutation and the counter never repeats), collide
// across processes with negligible probability (the keys are random), and
// reveal neither the order nor the number of requests; an id costs one
// block encryption, not a system call for fresh randomness.
type requestIDs struct {
	mu      sync.Mutex
	block   cipher.Block
	n       uint64
	in, out [aes.BlockSize]byte
}

func newRequestIDs() *requestIDs {
	key := make([]byte, 16)
	_, _ = rand.Read(key) // Never fails; see crypto/rand.Read.
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 16-byte key is always valid
	}
	return &requestIDs{block: block}
}

func (g *requestIDs) next() string {
	var id [2 * aes.BlockSize]byte
	g.mu.Lock()
	g.n++
	binary.BigEndian.PutUint64(g.in[8:], g.n)
	g.block.Encrypt(g.out[:], g.in[:])
	hex.Encode(id[:], g.out[:])
	g.mu.Unlock()
	return string(id[:])
}
