package contract_test

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/plugins/contract/artifact"
	"github.com/alpha-orion/runbook/plugins/contract/chain"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum/common"
)

// The Safe's published artifacts (build.sh copies them) and the test token.
var (
	safeArtifact  = filepath.Join("testdata", "Safe.json")
	proxyArtifact = filepath.Join("testdata", "SafeProxy.json")
	tokenArtifact = filepath.Join("testdata", "TestToken.json")
)

// safeWorld is a real Safe (2 of 3 owners) owning a funded
// FlashLoanArbitrage that holds ether and a token, with the Safe as its
// cold wallet.
type safeWorld struct {
	owners    []*chain.Signer
	safe      common.Address
	contract  common.Address
	token     common.Address
	ether     *big.Int
	tokens    *big.Int
	submitter *chain.Signer
}

func newSafeWorld(t *testing.T, f *fixture) *safeWorld {
	t.Helper()
	ctx := context.Background()
	c := f.chain
	w := &safeWorld{ether: chain.Ether(3), tokens: chain.Ether(1_000_000)}
	var addrs []common.Address
	for range 3 {
		o := f.signer(nil)
		w.owners = append(w.owners, o)
		addrs = append(addrs, o.Address)
	}
	safeArt, err := artifact.Load(safeArtifact)
	if err != nil {
		t.Fatal(err)
	}
	proxyArt, err := artifact.Load(proxyArtifact)
	if err != nil {
		t.Fatal(err)
	}
	if w.safe, err = c.DeploySafe(ctx, safeArt, proxyArt, addrs, 2); err != nil {
		t.Fatal(err)
	}
	if w.contract, err = c.DeployArtifact(ctx, v1Artifact, w.safe, w.safe); err != nil {
		t.Fatal(err)
	}
	if err := c.Fund(ctx, w.contract, w.ether); err != nil {
		t.Fatal(err)
	}
	if w.token, err = c.DeployArtifact(ctx, tokenArtifact, "Test USD", "TUSD", w.contract, w.tokens); err != nil {
		t.Fatal(err)
	}
	// The submitter pays the gas of execTransaction; it is no owner.
	w.submitter = f.signer(chain.Ether(10))
	f.useSigner(w.submitter)
	return w
}

// ownerKeys puts the key files of keys, PATH-style, in a fresh variable
// and returns its name, for safe_owner_keys_env.
func ownerKeys(t *testing.T, keys ...*chain.Signer) string {
	t.Helper()
	var paths []string
	for _, k := range keys {
		paths = append(paths, k.KeyFile)
	}
	name := fmt.Sprintf("CONTRACT_TEST_OWNER_KEYS_%d", envSeq.Add(1))
	os.Setenv(name, strings.Join(paths, string(os.PathListSeparator)))
	t.Cleanup(func() { os.Unsetenv(name) })
	return name
}

// TestSafeOwner runs the emergency when the contract's owner is a Safe:
// the owners' keys sign, one key submits, and the contract's ether and
// tokens end in the Safe.
func TestSafeOwner(t *testing.T) {
	t.Parallel()
	c := sharedChain(t)
	f := newFixture(t, c, nil, nil)
	w := newSafeWorld(t, f)
	// Keys of owners 0 and 2 (threshold 2), then a second process.
	f.conf["safe_owner_keys_env"] = ownerKeys(t, w.owners[0], w.owners[2])
	f.start()

	viaSafe := func(method string, args ...any) map[string]any {
		return map[string]any{"address": w.contract.Hex(), "abi": v1Artifact, "method": method, "args": args, "safe": w.safe.Hex()}
	}
	read := func(addr common.Address, abi, method string, args ...any) any {
		return f.must("read", map[string]any{"address": addr.Hex(), "abi": abi, "method": method, "args": args}, "")["result"]
	}

	// The signer alone is not the owner: a direct pause reverts, unsent.
	n := f.nonce(w.submitter.Address)
	r := f.exec("call", map[string]any{"address": w.contract.Hex(), "abi": v1Artifact, "method": "pause"}, "run-s/direct")
	plugintest.WantKind(t, r.err, sdk.KindPermissionDenied, "OwnableUnauthorizedAccount", "nothing was sent")

	out := f.must("call", viaSafe("pause"), "run-s/pause")
	if read(w.contract, v1Artifact, "paused") != true {
		t.Fatal("paused() is false after the Safe's pause")
	}
	want := []string{w.owners[0].Address.Hex(), w.owners[2].Address.Hex()}
	sort.Slice(want, func(i, j int) bool {
		return bytes.Compare(common.HexToAddress(want[i]).Bytes(), common.HexToAddress(want[j]).Bytes()) < 0
	})
	if out["safe_nonce"] != 0 || fmt.Sprint(out["signers"]) != fmt.Sprint([]any{want[0], want[1]}) || out["from"] != w.submitter.Address.Hex() {
		t.Fatalf("pause through the Safe: outputs %v; want Safe nonce 0, signers %v sorted, sent by %s", out, want, w.submitter.Address.Hex())
	}
	if len(out["safe_tx_hash"].(string)) != 66 {
		t.Fatalf("safe_tx_hash = %v", out["safe_tx_hash"])
	}
	if got := f.nonce(w.submitter.Address); got != n+1 {
		t.Fatalf("submitter's nonce %d -> %d, want one transaction", n, got)
	}

	// Every asset to the cold wallet, which is the Safe.
	f.must("call", viaSafe("withdraw"), "run-s/withdraw")
	tok := f.must("call", viaSafe("withdrawTokens", []any{w.token.Hex()}), "run-s/withdraw-tokens")
	if tok["safe_nonce"] != 2 {
		t.Errorf("the third Safe transaction used Safe nonce %v, want 2", tok["safe_nonce"])
	}
	if got := f.must("balance", map[string]any{"address": w.safe.Hex()}, ""); got["wei"] != w.ether.String() {
		t.Errorf("Safe's ether = %v, want %s wei", got["wei"], w.ether)
	}
	if got := read(w.token, tokenArtifact, "balanceOf", w.safe.Hex()); got != w.tokens.String() {
		t.Errorf("Safe's tokens = %v, want %s", got, w.tokens)
	}
	bal := f.must("balance", map[string]any{"address": w.safe.Hex(), "tokens": []any{strings.ToLower(w.token.Hex())}}, "")
	units, _ := bal["token_units"].(map[string]any)
	whole, _ := bal["tokens"].(map[string]any)
	if units[w.token.Hex()] != w.tokens.String() || num(whole[w.token.Hex()]) != 1e6 {
		t.Errorf("balance with tokens = %v, want %s units = 1000000 tokens (18 decimals) under the checksummed address", bal, w.tokens)
	}
	if got := read(w.token, tokenArtifact, "balanceOf", w.contract.Hex()); got != "0" {
		t.Errorf("contract's tokens after withdrawToken = %v, want 0", got)
	}
	// Nothing left: the contract's own error, as the Safe would meet it.
	r = f.exec("call", viaSafe("withdraw"), "run-s/withdraw-again")
	plugintest.WantKind(t, r.err, sdk.KindConflict, "NothingToWithdraw()", "nothing was signed")
}

// TestSafeRefusals: too few owner keys, a key that is not an owner's and
// no keys at all are refused before anything is signed or sent.
func TestSafeRefusals(t *testing.T) {
	t.Parallel()
	c := sharedChain(t)
	f := newFixture(t, c, nil, nil)
	w := newSafeWorld(t, f)
	stranger := f.signer(nil)
	pause := map[string]any{"address": w.contract.Hex(), "abi": v1Artifact, "method": "pause", "safe": w.safe.Hex()}
	cases := []struct {
		name string
		keys []*chain.Signer
		kind sdk.Kind
		want []string
	}{
		{"below threshold", []*chain.Signer{w.owners[1]}, sdk.KindPermissionDenied, []string{"needs 2 owner signatures", "threshold 2 of 3 owners", "only 1 owner key", "nothing was signed"}},
		{"same owner twice", []*chain.Signer{w.owners[1], w.owners[1]}, sdk.KindPermissionDenied, []string{"only 1 owner key"}},
		{"non-owner key", []*chain.Signer{w.owners[0], stranger}, sdk.KindPermissionDenied, []string{stranger.Address.Hex(), "not an owner of the Safe", "nothing was signed"}},
		{"no keys", nil, sdk.KindUnauthenticated, []string{"no owner keys", "set CONTRACT_TEST_OWNER_KEYS_"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.conf["safe_owner_keys_env"] = ownerKeys(t, tc.keys...)
			f.start()
			n := f.nonce(w.submitter.Address)
			r := f.exec("call", pause, fmt.Sprintf("run-r/pause-%d", i))
			plugintest.WantKind(t, r.err, tc.kind, tc.want...)
			if f.nonce(w.submitter.Address) != n {
				t.Errorf("a refused Safe call sent a transaction")
			}
		})
	}
	if got := f.must("read", map[string]any{"address": w.contract.Hex(), "abi": v1Artifact, "method": "paused"}, ""); got["result"] != false {
		t.Fatalf("paused() = %v after refusals, want false", got["result"])
	}
}

// num reads a number output, which the plugin protocol may carry as an int.
func num(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	return -1
}
