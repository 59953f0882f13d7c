package neonemu

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
)

var (
	adjectives = []string{"aged", "autumn", "billowing", "bitter", "black", "blue", "bold", "broad", "cold",
		"cool", "crimson", "damp", "dark", "dawn", "delicate", "divine", "dry", "empty", "falling", "floral",
		"fragrant", "frosty", "gentle", "green", "hidden", "holy", "icy", "late", "lingering", "little",
		"lively", "long", "misty", "morning", "muddy", "nameless", "old", "patient", "plain", "polished",
		"proud", "purple", "quiet", "rapid", "raspy", "red", "restless", "rough", "round", "royal", "shiny",
		"shy", "silent", "small", "snowy", "soft", "solitary", "sparkling", "spring", "still", "summer",
		"sweet", "throbbing", "tight", "tiny", "twilight", "wandering", "weathered", "white", "wild",
		"winter", "wispy", "withered", "yellow", "young"}
	nouns = []string{"art", "band", "bar", "base", "bird", "block", "boat", "bonus", "bread", "breeze",
		"brook", "bush", "butterfly", "cake", "cell", "cherry", "cloud", "credit", "darkness", "dawn",
		"dew", "disk", "dream", "dust", "feather", "field", "fire", "firefly", "flower", "fog", "forest",
		"frog", "frost", "glade", "glitter", "grass", "hall", "hat", "haze", "heart", "hill", "king",
		"lab", "lake", "leaf", "limit", "math", "meadow", "mode", "moon", "morning", "mountain", "mouse",
		"mud", "night", "paper", "pine", "poetry", "pond", "queen", "rain", "recipe", "resonance", "rice",
		"river", "salad", "scene", "sea", "shadow", "shape", "silence", "sky", "smoke", "snow",
		"snowflake", "sound", "star", "sun", "sunset", "surf", "term", "thunder", "tooth", "tree", "truth",
		"union", "unit", "violet", "voice", "water", "waterfall", "wave", "wildflower", "wind", "wood"}
)

// randInt returns a uniform random number in [0, n).
func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return int(v.Int64())
}

// wordID returns an ID in Neon's style: prefix-adjective-noun-123456.
func wordID(prefix string) string {
	id := fmt.Sprintf("%s-%s-%06d", adjectives[randInt(len(adjectives))], nouns[randInt(len(nouns))], randInt(1000000))
	if prefix == "" {
		return id
	}
	return prefix + "-" + id
}

// uuid returns a random version 4 UUID, the form of operation and request IDs.
func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// token returns n random lower-case hex characters.
func token(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
