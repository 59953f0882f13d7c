package contract_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/contract"
	"github.com/alpha-orion/runbook/plugins/contract/chain"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/hashicorp/go-plugin"
)

// The test binary serves the plugin when the host re-executes it, as the
// runbook binary serves its built-ins: every action test goes through a
// real plugin process talking JSON-RPC over HTTP to a simulated chain.
func TestMain(m *testing.M) {
	plugintest.ServeIfPlugin(map[string]func() sdk.Plugin{contract.Name: contract.New})
	code := m.Run()
	plugin.CleanupClients()
	if shared != nil {
		_ = shared.Close()
	}
	os.Exit(code)
}

// The artifacts build.sh compiles.
var (
	v1Artifact = filepath.Join("testdata", "FlashLoanArbitrage.json")
	v2Artifact = filepath.Join("testdata", "FlashLoanArbitrageV2.json")
)

var testCatalog = catalog.MustNew(contract.Spec)

// coldWallet is the cold wallet of contracts whose withdrawals a test does
// not follow.
var coldWallet = common.HexToAddress("0x000000000000000000000000000000000000c01D")

var (
	sharedOnce sync.Once
	shared     *chain.Chain
	sharedErr  error
)

// sharedChain returns the chain the tests share (auto-sealing); each test
// uses its own signers and contracts on it.
func sharedChain(t *testing.T) *chain.Chain {
	t.Helper()
	sharedOnce.Do(func() {
		shared, sharedErr = chain.Start(context.Background(), chain.Options{})
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// ownChain starts a chain for one test alone (for tests that change how
// it seals or what its miner takes) and closes it when the test ends.
func ownChain(t *testing.T, opts chain.Options) *chain.Chain {
	t.Helper()
	c, err := chain.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// deployV1 deploys FlashLoanArbitrage owned by owner, its cold wallet coldWallet.
func deployV1(t *testing.T, c *chain.Chain, owner *chain.Signer) common.Address {
	t.Helper()
	addr, err := c.DeployArtifact(context.Background(), v1Artifact, owner.Address, coldWallet)
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// envSeq makes the environment variable names of each fixture unique, so
// parallel tests do not see each other's signers.
var envSeq atomic.Int64

// fixture is a chain and a plugin process configured for it.
type fixture struct {
	t       *testing.T
	chain   *chain.Chain
	dir     string
	conf    map[string]any
	mgr     *host.Manager
	hostLog *plugintest.Buffer
	secrets plugintest.Canaries // values that must never be printed
	keyEnv  string
	passEnv string
}

// newFixture configures the plugin for c with signer s (nil: none) and the
// configuration cfg over the test defaults. It starts no process yet.
func newFixture(t *testing.T, c *chain.Chain, s *chain.Signer, cfg map[string]any) *fixture {
	t.Helper()
	n := envSeq.Add(1)
	f := &fixture{t: t, chain: c, dir: t.TempDir(),
		keyEnv: fmt.Sprintf("CONTRACT_TEST_KEY_FILE_%d", n), passEnv: fmt.Sprintf("CONTRACT_TEST_KEY_PASSWORD_%d", n)}
	t.Cleanup(func() { os.Unsetenv(f.keyEnv); os.Unsetenv(f.passEnv) })
	if s != nil {
		f.useSigner(s)
	}
	f.conf = map[string]any{
		"rpc_url": c.URL(), "chain_id": chain.ChainID, "key_file_env": f.keyEnv, "password_env": f.passEnv,
		"state_dir": filepath.Join(f.dir, "state"),
	}
	for k, v := range cfg {
		f.conf[k] = v
	}
	f.start()
	return f
}

// useSigner points the fixture's key variable at s's key file; it takes
// effect in the next plugin process.
func (f *fixture) useSigner(s *chain.Signer) {
	f.secret(s)
	os.Setenv(f.keyEnv, s.KeyFile)
}

// secret adds s's private key, in every spelling, to the canaries.
func (f *fixture) secret(s *chain.Signer) {
	h := hex.EncodeToString(crypto.FromECDSA(s.Key))
	f.secrets.Add(h, strings.ToUpper(h))
}

// start starts a new manager (so a new plugin process on first use),
// closing the old one: to the plugin, a crash and a restart.
func (f *fixture) start() {
	if f.mgr != nil {
		_ = f.mgr.Close()
	}
	exe, err := os.Executable()
	if err != nil {
		f.t.Fatal(err)
	}
	f.hostLog = &plugintest.Buffer{}
	f.mgr = host.New(host.Options{Executable: exe, Builtins: []string{contract.Name},
		Config: map[string]map[string]any{contract.Name: f.conf}, Catalog: testCatalog, Log: f.hostLog})
	m := f.mgr
	f.t.Cleanup(func() { _ = m.Close() })
}

// result is one call's answer and what it printed.
type result struct {
	out   map[string]any
	err   error
	lines []string
}

func (r result) log() string { return strings.Join(r.lines, "\n") }

// exec runs action through the plugin process with idempotency key key.
func (f *fixture) exec(action string, in map[string]any, key string) result {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var lines []string
	req := sdk.Request{RunID: "run-1", StepID: action, Action: action, Inputs: in, IdempotencyKey: key, Attempt: 1}
	out, err := f.mgr.Execute(ctx, contract.Name, req, func(l sdk.LogLine) {
		mu.Lock()
		lines = append(lines, l.Level.String()+": "+l.Message)
		mu.Unlock()
	})
	mu.Lock()
	defer mu.Unlock()
	r := result{out: out, err: err, lines: lines}
	f.noLeaks(r)
	return r
}

// must runs action and fails the test on an error.
func (f *fixture) must(action string, in map[string]any, key string) map[string]any {
	f.t.Helper()
	r := f.exec(action, in, key)
	if r.err != nil {
		f.t.Fatalf("%s: %v\nlog:\n%s", action, r.err, r.log())
	}
	return r.out
}

// reconcile asks the plugin process whether the step with key took effect.
func (f *fixture) reconcile(ctx context.Context, action string, in map[string]any, key string) sdk.Reconciliation {
	f.t.Helper()
	rec, err := f.mgr.Reconcile(ctx, contract.Name, sdk.Request{RunID: "run-1", StepID: action, Action: action, Inputs: in, IdempotencyKey: key, Attempt: 2})
	f.noLeaks(result{err: err, out: rec.Outputs})
	if err != nil {
		f.t.Fatalf("Reconcile %s: %v", action, err)
	}
	return rec
}

// plan asks the plugin process what a step would do.
func (f *fixture) plan(action string, in map[string]any) (sdk.Plan, error) {
	f.t.Helper()
	p, err := f.mgr.Plan(context.Background(), contract.Name, sdk.Request{RunID: "run-1", StepID: action, Action: action, Inputs: in})
	f.noLeaks(result{err: err})
	return p, err
}

// noLeaks fails the test when a private key shows in an error, a log
// line, an output or the plugin's own log.
func (f *fixture) noLeaks(r result) {
	f.t.Helper()
	texts := append([]string{f.hostLog.String(), fmt.Sprint(r.out)}, r.lines...)
	if r.err != nil {
		texts = append(texts, r.err.Error())
	}
	f.secrets.Check(f.t, texts...)
}

// signer makes a fresh signer with its key file in the fixture's folder.
func (f *fixture) signer(wei *big.Int) *chain.Signer {
	f.t.Helper()
	s, err := f.chain.NewSigner(context.Background(), f.dir, wei)
	if err != nil {
		f.t.Fatal(err)
	}
	f.secret(s)
	return s
}

// nonce is the number of transactions addr has had mined.
func (f *fixture) nonce(addr common.Address) uint64 {
	f.t.Helper()
	n, err := f.chain.Client().NonceAt(context.Background(), addr, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}
