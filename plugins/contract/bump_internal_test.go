package contract

import (
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestReplacementRule checks raise and replaces against geth's rule: a
// replacement must be strictly higher and at least old*110/100 (integer
// division), for the max fee and the tip alike.
func TestReplacementRule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		old, next int64
		ok        bool
	}{
		{100, 110, true},
		{100, 109, false},
		{100, 100, false},
		{1, 1, false},
		{1, 2, true}, // 1*110/100 = 1: strictly higher is enough
		{9, 10, true},
		{10, 11, true},
		{1_000_000_000, 1_099_999_999, false},
		{1_000_000_000, 1_100_000_000, true},
	} {
		if got := replaces(big.NewInt(tc.next), big.NewInt(tc.old)); got != tc.ok {
			t.Errorf("replaces(%d, %d) = %v, want %v", tc.next, tc.old, got, tc.ok)
		}
	}
	for _, tc := range []struct {
		x, percent, want int64
	}{
		{100, 10, 110},
		{100, 100, 200},
		{1, 10, 2}, // at least one wei more
		{0, 20, 1},
		{1_000_000_000, 25, 1_250_000_000},
	} {
		if got := raise(big.NewInt(tc.x), tc.percent); got.Int64() != tc.want {
			t.Errorf("raise(%d, %d%%) = %s, want %d", tc.x, tc.percent, got, tc.want)
		}
		if got := raise(big.NewInt(tc.x), tc.percent); tc.percent >= minBumpPercent && !replaces(got, big.NewInt(tc.x)) && tc.x > 0 {
			t.Errorf("raise(%d, %d%%) = %s would not replace it in a geth pool", tc.x, tc.percent, got)
		}
	}
}

func TestParseFeePolicy(t *testing.T) {
	t.Parallel()
	gwei := func(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e9)) }
	for _, tc := range []struct {
		name    string
		in      map[string]any
		maxFee  *big.Int
		after   time.Duration
		percent int64
		err     string
	}{
		{"none", map[string]any{}, nil, 0, defaultBumpPercent, ""},
		{"cap only", map[string]any{"max_fee_gwei": 150}, gwei(150), 0, defaultBumpPercent, ""},
		{"fractional cap", map[string]any{"max_fee_gwei": 0.5}, big.NewInt(500_000_000), 0, defaultBumpPercent, ""},
		{"bumping", map[string]any{"max_fee_gwei": 80.0, "bump_after": time.Minute, "bump_percent": 10}, gwei(80), time.Minute, 10, ""},
		{"bump without cap", map[string]any{"bump_after": time.Minute}, nil, 0, 0, "needs max_fee_gwei"},
		{"bump too small", map[string]any{"max_fee_gwei": 1, "bump_percent": 9}, nil, 0, 0, "refuses less than 10%"},
		{"zero cap", map[string]any{"max_fee_gwei": 0}, nil, 0, 0, "positive"},
		{"cap not a number", map[string]any{"max_fee_gwei": "fast"}, nil, 0, 0, "number of gwei"},
		{"negative wait", map[string]any{"max_fee_gwei": 1, "bump_after": -time.Second}, nil, 0, 0, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseFeePolicy(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (p.maxFee == nil) != (tc.maxFee == nil) || p.maxFee != nil && p.maxFee.Cmp(tc.maxFee) != 0 || p.after != tc.after || p.percent != tc.percent {
				t.Fatalf("policy = %+v, want cap %v after %s percent %d", p, tc.maxFee, tc.after, tc.percent)
			}
		})
	}
}
