package contract_test

import (
	"context"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/plugins/contract/chain"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

func gweis(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e9)) }

// TestFeeBump raises the node's minimum tip (geth's miner.gasprice) as in
// a gas spike: a transaction tipping less waits in the pool. The plugin
// replaces it on the same nonce with higher fees until it is mined, and
// when max_fee_gwei leaves no higher fee it fails naming every hash sent;
// one of those may still be mined, and the next attempt finds it.
func TestFeeBump(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := ownChain(t, chain.Options{})
	f := newFixture(t, c, nil, nil)
	owner := f.signer(chain.Ether(10))
	f.useSigner(owner)
	addr := deployV1(t, c, owner)
	defaultTip := c.MinerTip()
	c.SetMinerTip(gweis(5))

	call := func(method string, maxFee float64) map[string]any {
		return map[string]any{"address": addr.Hex(), "abi": v1Artifact, "method": method,
			"bump_after": 100 * time.Millisecond, "bump_percent": 100, "max_fee_gwei": maxFee}
	}
	r := f.exec("call", call("pause", 1000), "run-b/pause")
	if r.err != nil {
		t.Fatalf("pause in a spike: %v\n%s", r.err, r.log())
	}
	hashes, _ := r.out["tx_hashes"].([]any)
	if len(hashes) < 2 || hashes[len(hashes)-1] != r.out["tx_hash"] || !strings.Contains(r.log(), "replacing it (nonce") {
		t.Fatalf("pause outputs %v: want replacements, the last one mined\n%s", r.out, r.log())
	}
	if fee, _ := r.out["max_fee_gwei"].(float64); fee < 5 || fee > 1000 {
		t.Errorf("mined with max fee %v gwei; the miner takes no tip under 5 and the cap is 1000", fee)
	}
	if got := f.must("read", map[string]any{"address": addr.Hex(), "abi": v1Artifact, "method": "paused"}, ""); got["result"] != true {
		t.Fatalf("paused() = %v", got["result"])
	}

	// A cap under the spike: replacements stop at it, the step fails.
	n := f.nonce(owner.Address)
	r = f.exec("call", call("unpause", 2), "run-b/unpause")
	plugintest.WantKind(t, r.err, sdk.KindPermanent, "max_fee_gwei 2", "may still be mined", "raise max_fee_gwei")
	var sent []string
	for _, w := range strings.Fields(strings.NewReplacer(",", " ").Replace(r.err.Error())) {
		if strings.HasPrefix(w, "0x") && len(w) == 66 {
			sent = append(sent, w)
		}
	}
	if len(sent) < 2 {
		t.Fatalf("the error names %d hashes, want the first and its replacements: %v", len(sent), r.err)
	}

	// A new process, the spike still on: Reconcile cannot tell yet.
	f.start()
	short, cancel := context.WithTimeout(ctx, time.Second)
	if rec := f.reconcile(short, "call", call("unpause", 2), "run-b/unpause"); rec.State != sdk.Unknown {
		t.Errorf("Reconcile while every hash is pending = %s, want unknown", rec.State)
	}
	cancel()
	// The spike ends: the last replacement is mined, on the same nonce.
	c.SetMinerTip(defaultTip)
	rec := f.reconcile(ctx, "call", call("unpause", 2), "run-b/unpause")
	if rec.State != sdk.Applied || !slices.Contains(sent, rec.Outputs["tx_hash"].(string)) {
		t.Fatalf("Reconcile after the spike = %s %v; want applied with one of %v", rec.State, rec.Outputs, sent)
	}
	if got := f.nonce(owner.Address); got != n+1 {
		t.Fatalf("nonce %d -> %d: want exactly one of the replacements mined", n, got)
	}
	again := f.exec("call", call("unpause", 2), "run-b/unpause")
	if again.err != nil || again.out["tx_hash"] != rec.Outputs["tx_hash"] || !strings.Contains(again.log(), "not sending another") {
		t.Fatalf("Execute after the spike = %v, %v\n%s", again.out, again.err, again.log())
	}
}

// TestFeePolicyInputs: bad fee inputs are refused before anything is sent.
func TestFeePolicyInputs(t *testing.T) {
	t.Parallel()
	c := sharedChain(t)
	f := newFixture(t, c, nil, nil)
	owner := f.signer(chain.Ether(1))
	f.useSigner(owner)
	addr, err := c.DeployArtifact(context.Background(), v1Artifact, owner.Address, coldWallet)
	if err != nil {
		t.Fatal(err)
	}
	base := func(kv ...any) map[string]any {
		in := map[string]any{"address": addr.Hex(), "abi": v1Artifact, "method": "pause"}
		for i := 0; i < len(kv); i += 2 {
			in[kv[i].(string)] = kv[i+1]
		}
		return in
	}
	cases := []struct {
		name string
		in   map[string]any
		kind sdk.Kind
		want string
	}{
		{"bump without cap", base("bump_after", time.Second), sdk.KindBadInput, "bump_after needs max_fee_gwei"},
		{"bump below the node's rule", base("bump_after", time.Second, "max_fee_gwei", 10, "bump_percent", 5), sdk.KindBadInput, "geth node refuses less than 10%"},
		{"negative cap", base("max_fee_gwei", -1.5), sdk.KindBadInput, "positive"},
		{"cap under the base fee", base("max_fee_gwei", 0.000000001), sdk.KindConflict, "below the current base fee"},
	}
	n := f.nonce(owner.Address)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.exec("call", tc.in, "run-f/"+string(rune('a'+i)))
			plugintest.WantKind(t, r.err, tc.kind, tc.want)
		})
	}
	if f.nonce(owner.Address) != n {
		t.Fatal("a refused step sent a transaction")
	}
}

// TestNonceLock runs two plugin processes sending from one key with one
// state folder, on a chain that seals only when told: the second waits for
// the first's transaction to be mined before it picks a nonce.
func TestNonceLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := ownChain(t, chain.Options{BlockPeriod: -1})
	state := filepath.Join(t.TempDir(), "shared-state")
	a := newFixture(t, c, nil, map[string]any{"state_dir": state})
	owner := a.signer(chain.Ether(10))
	a.useSigner(owner)
	b := newFixture(t, c, nil, map[string]any{"state_dir": state})
	b.useSigner(owner)
	x := deployV1(t, c, owner)
	y := deployV1(t, c, owner)
	n := a.nonce(owner.Address)
	pending := func() uint64 {
		p, err := c.Client().PendingNonceAt(ctx, owner.Address)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	var wg sync.WaitGroup
	var ra, rb result
	wg.Add(1)
	go func() {
		defer wg.Done()
		ra = a.exec("call", map[string]any{"address": x.Hex(), "abi": v1Artifact, "method": "pause"}, "run-a/pause")
	}()
	for pending() == n { // a's transaction reaches the pool
		time.Sleep(10 * time.Millisecond)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		rb = b.exec("call", map[string]any{"address": y.Hex(), "abi": v1Artifact, "method": "pause"}, "run-b/pause")
	}()
	// While a's transaction is unmined, b sends nothing.
	time.Sleep(500 * time.Millisecond)
	if got := pending(); got != n+1 {
		t.Fatalf("pending nonce %d while the first transaction is unmined: the second run sent without the lock", got)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		c.Commit()
		select {
		case <-done:
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	if ra.err != nil || rb.err != nil {
		t.Fatalf("a: %v\nb: %v\n%s", ra.err, rb.err, rb.log())
	}
	if ra.out["nonce"] != int(n) || rb.out["nonce"] != int(n)+1 {
		t.Fatalf("nonces a=%v b=%v, want %d and %d", ra.out["nonce"], rb.out["nonce"], n, n+1)
	}
	if !strings.Contains(rb.log(), "waiting for the nonce lock of "+owner.Address.Hex()) || !strings.Contains(rb.log(), "step call") {
		t.Errorf("b's log does not say it waited, and for whom:\n%s", rb.log())
	}
}
