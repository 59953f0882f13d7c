package contract_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/lint"
	"github.com/alpha-orion/runbook/plugins/contract/chain"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestEmergency walks the DR plan's section 5.2 through the plugin: deploy
// and fund the contract, pause it, withdraw to the multisig, deploy the fix.
func TestEmergency(t *testing.T) {
	t.Parallel()
	c := sharedChain(t)
	f := newFixture(t, c, nil, nil)
	owner := f.signer(chain.Ether(10))
	f.useSigner(owner)
	multisig := f.signer(nil).Address // a fresh cold wallet, empty

	dep := f.must("deploy", map[string]any{"artifact": v1Artifact, "args": []any{owner.Address.Hex(), multisig.Hex()}}, "run-1/deploy")
	addr, _ := dep["address"].(string)
	if !common.IsHexAddress(addr) || dep["status"] != "success" || dep["block"].(int) == 0 || dep["from"] != owner.Address.Hex() {
		t.Fatalf("deploy outputs = %v", dep)
	}
	call := func(method string, args ...any) map[string]any {
		return map[string]any{"address": addr, "abi": v1Artifact, "method": method, "args": args}
	}

	// Fund it through its payable deposit(), with a value and a unit.
	in := call("deposit")
	in["value"] = "2.5 ether"
	f.must("call", in, "run-1/deposit")
	if got := f.must("balance", map[string]any{"address": addr}, ""); got["wei"] != "2500000000000000000" || got["ether"] != 2.5 {
		t.Fatalf("contract balance = %v, want 2.5 ether", got)
	}
	if got := f.must("read", call("paused"), ""); got["result"] != false {
		t.Fatalf("paused() before = %v", got)
	}

	r := f.exec("call", call("pause"), "run-1/pause")
	if r.err != nil {
		t.Fatalf("pause: %v\n%s", r.err, r.log())
	}
	if h, _ := r.out["tx_hash"].(string); len(h) != 66 || r.out["status"] != "success" || r.out["gas_used"].(int) == 0 {
		t.Fatalf("pause outputs = %v", r.out)
	}
	if !strings.Contains(r.log(), "sending call pause() on "+addr) {
		t.Errorf("pause log does not say what it sends:\n%s", r.log())
	}
	if got := f.must("read", call("paused"), ""); got["result"] != true || len(got["results"].([]any)) != 1 {
		t.Fatalf("paused() after pause = %v, want true", got)
	}
	if got := f.must("read", call("owner"), ""); got["result"] != owner.Address.Hex() {
		t.Fatalf("owner() = %v, want %s", got["result"], owner.Address.Hex())
	}
	if got := f.must("read", call("deposits", owner.Address.Hex()), ""); got["result"] != "2500000000000000000" {
		t.Fatalf("deposits(owner) = %#v, want the wei as a string", got["result"])
	}

	// The emergency path: withdraw is allowed while paused, and sends
	// everything to the cold wallet fixed at deployment.
	if got := f.must("read", call("coldWallet"), ""); got["result"] != multisig.Hex() {
		t.Fatalf("coldWallet() = %v, want %s", got["result"], multisig.Hex())
	}
	in = call("withdraw")
	in["confirmations"] = 2
	w := f.must("call", in, "run-1/withdraw")
	if w["status"] != "success" {
		t.Fatalf("withdraw outputs = %v", w)
	}
	if got := f.must("balance", map[string]any{"address": multisig.Hex()}, ""); got["wei"] != "2500000000000000000" || got["ether"] != 2.5 {
		t.Fatalf("multisig balance = %v, want 2.5 ether", got)
	}
	if got := f.must("balance", map[string]any{"address": addr}, ""); got["wei"] != "0" {
		t.Fatalf("contract balance after withdraw = %v, want 0", got)
	}

	// A token it holds goes the same way, signed by the one owner key.
	tok, err := c.DeployArtifact(context.Background(), tokenArtifact, "Test USD", "TUSD", common.HexToAddress(addr), chain.Ether(500))
	if err != nil {
		t.Fatal(err)
	}
	f.must("call", call("withdrawTokens", []any{tok.Hex()}), "run-1/withdraw-tokens")
	bal := f.must("balance", map[string]any{"address": multisig.Hex(), "tokens": []any{tok.Hex()}}, "")
	if units, _ := bal["token_units"].(map[string]any); units[tok.Hex()] != chain.Ether(500).String() {
		t.Fatalf("multisig's tokens after withdrawTokens = %v, want 500 tokens", bal)
	}

	// Pausing again reverts before anything is sent, with OpenZeppelin's
	// custom error decoded from the ABI.
	n := f.nonce(owner.Address)
	r = f.exec("call", call("pause"), "run-1/pause-again")
	plugintest.WantKind(t, r.err, sdk.KindConflict, "pause()", addr, "reverted: EnforcedPause()", "nothing was sent")
	if f.nonce(owner.Address) != n {
		t.Errorf("a reverting pause sent a transaction")
	}
	// A second withdraw has nothing left: the contract's own error.
	r = f.exec("call", call("withdraw"), "run-1/withdraw-again")
	plugintest.WantKind(t, r.err, sdk.KindConflict, "NothingToWithdraw()")

	// Deploy the fix, and check it is the fixed one.
	v2 := f.must("deploy", map[string]any{"artifact": v2Artifact, "args": []any{owner.Address.Hex(), multisig.Hex()}, "confirmations": 2}, "run-1/deploy-fix")
	if v2["address"] == addr || !common.IsHexAddress(v2["address"].(string)) {
		t.Fatalf("deploy V2 outputs = %v", v2)
	}
	got := f.must("read", map[string]any{"address": v2["address"], "abi": v2Artifact, "method": "VERSION"}, "")
	if got["result"] != "2.0.0" {
		t.Fatalf("VERSION() = %v", got)
	}
}

// TestReconcileAfterCrash sends through one plugin process, then asks a new
// one: Reconcile reports the transaction, and Execute with the same key
// sends nothing new.
func TestReconcileAfterCrash(t *testing.T) {
	t.Parallel()
	c := sharedChain(t)
	f := newFixture(t, c, nil, nil)
	owner := f.signer(chain.Ether(10))
	f.useSigner(owner)
	addr, err := c.DeployArtifact(context.Background(), v1Artifact, owner.Address, coldWallet)
	if err != nil {
		t.Fatal(err)
	}
	pause := map[string]any{"address": addr.Hex(), "abi": v1Artifact, "method": "pause"}
	ctx := context.Background()

	if rec := f.reconcile(ctx, "call", pause, "run-7/pause"); rec.State != sdk.NotApplied {
		t.Fatalf("Reconcile before anything was sent = %s, want not_applied", rec.State)
	}
	first := f.must("call", pause, "run-7/pause")
	dep := f.must("deploy", map[string]any{"artifact": v2Artifact, "args": []any{owner.Address.Hex(), coldWallet.Hex()}}, "run-7/deploy")

	f.start() // the plugin process "crashes"; a new one starts
	n := f.nonce(owner.Address)
	rec := f.reconcile(ctx, "call", pause, "run-7/pause")
	if rec.State != sdk.Applied || rec.Outputs["tx_hash"] != first["tx_hash"] || rec.Outputs["block"] != first["block"] {
		t.Fatalf("Reconcile = %s %v, want applied with %v", rec.State, rec.Outputs, first)
	}
	rec = f.reconcile(ctx, "deploy", map[string]any{"artifact": v2Artifact}, "run-7/deploy")
	if rec.State != sdk.Applied || rec.Outputs["address"] != dep["address"] {
		t.Fatalf("Reconcile deploy = %s %v, want applied at %v", rec.State, rec.Outputs, dep["address"])
	}

	// Without Reconcile, a second Execute with the key sends nothing: it
	// answers with the mined transaction (a new pause() would revert).
	r := f.exec("call", pause, "run-7/pause")
	if r.err != nil || r.out["tx_hash"] != first["tx_hash"] {
		t.Fatalf("second Execute = %v, %v; want the first transaction %v\n%s", r.out, r.err, first["tx_hash"], r.log())
	}
	if !strings.Contains(r.log(), "not sending another") {
		t.Errorf("second Execute's log does not say it sent nothing:\n%s", r.log())
	}
	if got := f.nonce(owner.Address); got != n {
		t.Fatalf("signer's nonce went from %d to %d: a second transaction was sent", n, got)
	}
	// Read-only actions are always safe to run again.
	if rec := f.reconcile(ctx, "read", pause, "run-7/read"); rec.State != sdk.NotApplied {
		t.Errorf("Reconcile read = %s", rec.State)
	}
}

// TestPendingLostReplaced runs on a chain that seals only when told, to
// catch the transaction while pending, after the node lost it, and after
// its nonce went to another transaction.
func TestPendingLostReplaced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := ownChain(t, chain.Options{BlockPeriod: -1})
	f := newFixture(t, c, nil, nil)
	owner := f.signer(chain.Ether(10))
	f.useSigner(owner)
	addr := deployV1(t, c, owner)
	pause := map[string]any{"address": addr.Hex(), "abi": v1Artifact, "method": "pause", "wait": false}
	const key = "run-9/pause"

	sent := f.must("call", pause, key)
	if sent["status"] != "pending" || sent["block"] != 0 {
		t.Fatalf("wait: false outputs = %v", sent)
	}
	short, cancel := context.WithTimeout(ctx, time.Second)
	if rec := f.reconcile(short, "call", pause, key); rec.State != sdk.Unknown {
		t.Errorf("Reconcile while pending = %s, want unknown", rec.State)
	}
	cancel()
	again := f.exec("call", pause, key)
	if again.err != nil || again.out["tx_hash"] != sent["tx_hash"] || !strings.Contains(again.log(), "pending") {
		t.Fatalf("Execute while pending = %v, %v; want the same pending transaction\n%s", again.out, again.err, again.log())
	}

	// The node loses it: Reconcile says not applied, and Execute re-sends
	// the very same signed bytes.
	c.Rollback()
	if rec := f.reconcile(ctx, "call", pause, key); rec.State != sdk.NotApplied {
		t.Errorf("Reconcile after the node lost it = %s, want not_applied", rec.State)
	}
	again = f.exec("call", pause, key)
	if again.err != nil || again.out["tx_hash"] != sent["tx_hash"] || !strings.Contains(again.log(), "re-sent") {
		t.Fatalf("Execute after the node lost it = %v, %v\n%s", again.out, again.err, again.log())
	}
	c.Commit()
	rec := f.reconcile(ctx, "call", pause, key)
	if rec.State != sdk.Applied || rec.Outputs["tx_hash"] != sent["tx_hash"] || rec.Outputs["block"].(int) == 0 {
		t.Fatalf("Reconcile after mining = %s %v", rec.State, rec.Outputs)
	}

	// Another transaction takes the nonce of a lost one: a new one is signed.
	unpause := map[string]any{"address": addr.Hex(), "abi": v1Artifact, "method": "unpause", "wait": false}
	lost := f.must("call", unpause, "run-9/unpause")
	c.Rollback()
	if _, err := c.Transact(ctx, owner.Key, &owner.Address, nil, nil); err != nil { // a transfer to itself, same nonce
		t.Fatal(err)
	}
	if rec := f.reconcile(ctx, "call", unpause, "run-9/unpause"); rec.State != sdk.NotApplied {
		t.Errorf("Reconcile after the nonce was taken = %s, want not_applied", rec.State)
	}
	again = f.exec("call", unpause, "run-9/unpause")
	if again.err != nil || again.out["tx_hash"] == lost["tx_hash"] || !strings.Contains(again.log(), "went to another transaction") {
		t.Fatalf("Execute after the nonce was taken = %v, %v\n%s", again.out, again.err, again.log())
	}
}

// TestFaults checks that each failure is a clear error of the right kind,
// and that the ones that cannot be fixed by retrying are not retryable.
func TestFaults(t *testing.T) {
	t.Parallel()
	c := sharedChain(t)
	ctx := context.Background()
	f := newFixture(t, c, nil, nil)
	owner := f.signer(chain.Ether(10))
	stranger := f.signer(chain.Ether(1))
	broke := f.signer(nil)
	owned := deployV1(t, c, owner)
	brokeOwned, err := c.DeployArtifact(ctx, v1Artifact, broke.Address, coldWallet)
	if err != nil {
		t.Fatal(err)
	}
	pause := func(a common.Address) map[string]any {
		return map[string]any{"address": a.Hex(), "abi": v1Artifact, "method": "pause"}
	}

	t.Run("unfunded signer", func(t *testing.T) {
		g := newFixture(t, c, broke, nil)
		r := g.exec("call", pause(brokeOwned), "k")
		plugintest.WantKind(t, r.err, sdk.KindPermanent, "insufficient funds", broke.Address.Hex(), "has 0 ether (0 wei)", "nothing was sent")
	})
	t.Run("not the owner", func(t *testing.T) {
		g := newFixture(t, c, stranger, nil)
		r := g.exec("call", pause(owned), "k")
		plugintest.WantKind(t, r.err, sdk.KindPermissionDenied, "OwnableUnauthorizedAccount("+stranger.Address.Hex()+")")
	})
	t.Run("wrong chain id", func(t *testing.T) {
		g := newFixture(t, c, owner, map[string]any{"chain_id": 1})
		n := g.nonce(owner.Address)
		for _, action := range []string{"call", "read"} {
			r := g.exec(action, pause(owned), "k")
			plugintest.WantKind(t, r.err, sdk.KindBadInput, "wrong chain", "chain id 1337", "chain_id is 1")
		}
		if g.nonce(owner.Address) != n {
			t.Errorf("a transaction was sent to the wrong chain")
		}
	})
	t.Run("unreachable node", func(t *testing.T) {
		g := newFixture(t, c, owner, map[string]any{"rpc_url": "http://127.0.0.1:1/v3/canary-api-key"})
		g.secrets.Add("canary-api-key")
		for _, action := range []string{"call", "read"} {
			r := g.exec(action, pause(owned), "k")
			plugintest.WantKind(t, r.err, sdk.KindRetryable, "connection refused")
		}
		r := g.exec("balance", map[string]any{"address": owner.Address.Hex()}, "")
		plugintest.WantKind(t, r.err, sdk.KindRetryable, "127.0.0.1:1")
	})
	t.Run("no contract", func(t *testing.T) {
		g := newFixture(t, c, owner, nil)
		r := g.exec("call", pause(stranger.Address), "k")
		plugintest.WantKind(t, r.err, sdk.KindNotFound, "no contract at "+stranger.Address.Hex())
		r = g.exec("read", map[string]any{"address": stranger.Address.Hex(), "abi": v1Artifact, "method": "paused"}, "")
		plugintest.WantKind(t, r.err, sdk.KindNotFound, "no contract")
	})
	t.Run("no signer", func(t *testing.T) {
		g := newFixture(t, c, nil, nil)
		r := g.exec("call", pause(owned), "k")
		plugintest.WantKind(t, r.err, sdk.KindUnauthenticated, g.keyEnv)
		// Reading needs no signer.
		if got := g.must("read", map[string]any{"address": owned.Hex(), "abi": v1Artifact, "method": "paused"}, ""); got["result"] != false {
			t.Fatalf("paused() = %v", got)
		}
	})
	t.Run("garbage key file", func(t *testing.T) {
		g := newFixture(t, c, nil, nil)
		// The owner's real key with one bad digit: not a key, and never echoed.
		h := hexOf(owner)
		bad := filepath.Join(g.dir, "bad.key")
		if err := os.WriteFile(bad, []byte("0x"+h[:63]+"g\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		g.secrets.Add(h[:63], h[8:40])
		os.Setenv(g.keyEnv, bad)
		r := g.exec("call", pause(owned), "k")
		plugintest.WantKind(t, r.err, sdk.KindUnauthenticated, "bad.key", "neither a private key")
	})
	t.Run("keystore", func(t *testing.T) {
		g := newFixture(t, c, nil, nil)
		ks, err := c.NewKeystoreSigner(ctx, g.dir, "correct horse", chain.Ether(1))
		if err != nil {
			t.Fatal(err)
		}
		g.secret(ks)
		g.secrets.Add("correct horse")
		own, err := c.DeployArtifact(ctx, v1Artifact, ks.Address, coldWallet)
		if err != nil {
			t.Fatal(err)
		}
		os.Setenv(g.keyEnv, ks.KeyFile)
		r := g.exec("call", pause(own), "k")
		plugintest.WantKind(t, r.err, sdk.KindUnauthenticated, g.passEnv)

		os.Setenv(g.passEnv, "wrong")
		g.start()
		r = g.exec("call", pause(own), "k")
		plugintest.WantKind(t, r.err, sdk.KindUnauthenticated, "does not open it")

		os.Setenv(g.passEnv, "correct horse")
		g.start()
		out := g.must("call", pause(own), "k")
		if out["from"] != ks.Address.Hex() {
			t.Fatalf("signed by %v, want the keystore's %s", out["from"], ks.Address.Hex())
		}
	})
}

// TestBadInputs checks inputs through Plan, which works offline, and Execute.
func TestBadInputs(t *testing.T) {
	t.Parallel()
	c := sharedChain(t)
	f := newFixture(t, c, nil, nil)
	owner := f.signer(chain.Ether(1))
	f.useSigner(owner)
	addr := common.HexToAddress("0x1111111111111111111111111111111111111111").Hex()
	abiOnly := filepath.Join(t.TempDir(), "abi.json")
	if err := os.WriteFile(abiOnly, []byte(`[{"type":"function","name":"pause","inputs":[],"outputs":[],"stateMutability":"nonpayable"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	checksum := "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	badChecksum := "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"

	cases := []struct {
		name, action string
		in           map[string]any
		words        []string
	}{
		{"not an address", "call", map[string]any{"address": "0x123", "abi": v1Artifact, "method": "pause"}, []string{"not an address"}},
		{"bad checksum", "call", map[string]any{"address": badChecksum, "abi": v1Artifact, "method": "pause"}, []string{"bad checksum", checksum}},
		{"missing abi", "call", map[string]any{"address": addr, "abi": "testdata/none.json", "method": "pause"}, []string{"none.json"}},
		{"unknown method", "call", map[string]any{"address": addr, "abi": v1Artifact, "method": "pasue"}, []string{`no function "pasue"`, "pause()"}},
		{"view via call", "call", map[string]any{"address": addr, "abi": v1Artifact, "method": "paused"}, []string{"view function", "contract.read"}},
		{"argument count", "call", map[string]any{"address": addr, "abi": v1Artifact, "method": "withdrawToken"}, []string{"1 argument", "address token", "got 0"}},
		{"bad argument", "call", map[string]any{"address": addr, "abi": v1Artifact, "method": "withdrawToken", "args": []any{"usdc"}}, []string{"argument token (address)", "not an address"}},
		{"bad checksum argument", "call", map[string]any{"address": addr, "abi": v1Artifact, "method": "withdrawToken", "args": []any{badChecksum}}, []string{"bad checksum"}},
		{"value to non-payable", "call", map[string]any{"address": addr, "abi": v1Artifact, "method": "pause", "value": "1 ether"}, []string{"not payable"}},
		{"bad value", "call", map[string]any{"address": addr, "abi": v1Artifact, "method": "deposit", "value": "lots"}, []string{"not an amount"}},
		{"fractional wei", "call", map[string]any{"address": addr, "abi": v1Artifact, "method": "deposit", "value": "0.5"}, []string{"whole number of wei"}},
		{"int for an address", "read", map[string]any{"address": addr, "abi": v1Artifact, "method": "deposits", "args": []any{1}}, []string{"argument #1", "address"}},
		{"abi without bytecode", "deploy", map[string]any{"artifact": abiOnly}, []string{"no bytecode"}},
		{"constructor args", "deploy", map[string]any{"artifact": v1Artifact}, []string{"constructor", "2 argument", "address coldWallet_"}},
		{"balance of nothing", "balance", map[string]any{"address": "nobody"}, []string{"not an address"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.plan(tc.action, tc.in)
			plugintest.WantKind(t, err, sdk.KindBadInput, tc.words...)
			r := f.exec(tc.action, tc.in, "k-"+tc.name)
			plugintest.WantKind(t, r.err, sdk.KindBadInput, tc.words...)
		})
	}

	p, err := f.plan("call", map[string]any{"address": addr, "abi": v1Artifact, "method": "withdrawToken", "args": []any{checksum}})
	if err != nil || !strings.Contains(p.Summary, "withdrawToken("+checksum+")") || !strings.Contains(p.Summary, "chain 1337") {
		t.Fatalf("plan = %q, %v", p.Summary, err)
	}
}

// TestExampleRunbookLintsClean checks the example runbook against the
// catalogue entry, and that the linter refuses a literal rpc_url.
func TestExampleRunbookLintsClean(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "contract-emergency.yaml")
	src := plugintest.LintsClean(t, testCatalog, path)
	plugintest.RefusesLiteral(t, testCatalog, path, src, "${{ secrets.ETH_RPC_URL }}", "https://mainnet.example/v3/KEY", "rpc_url")
	// Without confirm, the destructive steps are flagged.
	unconfirmed := strings.ReplaceAll(string(src), "confirm:", "name:")
	_, diags := lint.Bytes(path, []byte(unconfirmed), testCatalog)
	if _, w := diags.Count(); w < 3 {
		t.Errorf("destructive steps without confirm: %d warnings, want 3:\n%v", w, diags.Err())
	}
}

func hexOf(s *chain.Signer) string {
	return strings.ToLower(common.Bytes2Hex(crypto.FromECDSA(s.Key)))
}

// TestRevertedOnChain sends transactions that fail once mined: with the
// estimate skipped (gas_limit given), a pause of a paused contract reverts
// on chain, and one with too little gas runs out of it.
func TestRevertedOnChain(t *testing.T) {
	t.Parallel()
	c := sharedChain(t)
	f := newFixture(t, c, nil, nil)
	owner := f.signer(chain.Ether(10))
	f.useSigner(owner)
	addr, err := c.DeployArtifact(context.Background(), v1Artifact, owner.Address, coldWallet)
	if err != nil {
		t.Fatal(err)
	}
	pause := map[string]any{"address": addr.Hex(), "abi": v1Artifact, "method": "pause", "gas_limit": 23000}
	r := f.exec("call", pause, "run-3/out-of-gas")
	plugintest.WantKind(t, r.err, sdk.KindPermanent, "reverted in block", "ran out of gas", "gas limit 23000")
	if rec := f.reconcile(context.Background(), "call", pause, "run-3/out-of-gas"); rec.State != sdk.NotApplied {
		t.Errorf("Reconcile of a reverted transaction = %s, want not_applied", rec.State)
	}

	pause["gas_limit"] = 100000
	f.must("call", pause, "run-3/pause")
	r = f.exec("call", pause, "run-3/pause-again")
	plugintest.WantKind(t, r.err, sdk.KindConflict, "reverted in block", "EnforcedPause()")
	if strings.Contains(r.err.Error(), "nothing was sent") {
		t.Errorf("a mined transaction is reported as not sent: %v", r.err)
	}
	// A new attempt of the reverted step signs a new transaction (which
	// reverts again, since the contract is still paused).
	n := f.nonce(owner.Address)
	r = f.exec("call", pause, "run-3/pause-again")
	plugintest.WantKind(t, r.err, sdk.KindConflict, "EnforcedPause()")
	if !strings.Contains(r.log(), "reverted in block") || f.nonce(owner.Address) != n+1 {
		t.Errorf("retry of a reverted step: nonce %d -> %d, log:\n%s", n, f.nonce(owner.Address), r.log())
	}
}
