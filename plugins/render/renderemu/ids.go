package renderemu

import (
	"crypto/rand"
	"encoding/hex"
)

// idAlphabet is what Render IDs are made of after their prefix.
const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// newID returns an ID in Render's style: prefix-<20 lower-case letters and digits>.
func newID(prefix string) string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + "-" + string(b)
}

// randomHex returns n random bytes as hex, for commit IDs and generated values.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
