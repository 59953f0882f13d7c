package chain_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/plugins/contract/artifact"
	"github.com/alpha-orion/runbook/plugins/contract/chain"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

const v1 = "../testdata/FlashLoanArbitrage.json"

func TestChainOverHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := chain.Start(ctx, chain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.HasPrefix(c.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL = %s", c.URL())
	}

	dir := t.TempDir()
	owner, err := c.NewSigner(ctx, dir, chain.Ether(1))
	if err != nil {
		t.Fatal(err)
	}
	key, err := crypto.LoadECDSA(owner.KeyFile)
	if err != nil || crypto.PubkeyToAddress(key.PublicKey) != owner.Address {
		t.Fatalf("key file does not hold the signer's key: %v", err)
	}
	addr, err := c.DeployArtifact(ctx, v1, owner.Address, owner.Address)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Fund(ctx, addr, chain.Ether(3)); err != nil {
		t.Fatal(err)
	}

	// A client in the same process but over HTTP, as a plugin would dial.
	ec, err := ethclient.DialContext(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	id, err := ec.ChainID(ctx)
	if err != nil || id.Int64() != chain.ChainID {
		t.Fatalf("chain id = %v, %v", id, err)
	}
	bal, err := ec.BalanceAt(ctx, addr, nil)
	if err != nil || bal.Cmp(chain.Ether(3)) != 0 {
		t.Fatalf("contract balance = %v, %v; want 3 ether", bal, err)
	}

	a, err := artifact.Load(v1)
	if err != nil {
		t.Fatal(err)
	}
	pause, _ := a.ABI.Pack("pause")
	if _, err := c.Transact(ctx, owner.Key, &addr, nil, pause); err != nil {
		t.Fatal(err)
	}
	paused, _ := a.ABI.Pack("paused")
	out, err := ec.CallContract(ctx, ethereum.CallMsg{To: &addr, Data: paused}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := common.BytesToHash(out).Big().Int64(); got != 1 {
		t.Fatalf("paused() = %d, want 1", got)
	}

	// Blocks keep coming while nothing is pending.
	n1, _ := ec.BlockNumber(ctx)
	time.Sleep(3 * chain.DefaultBlockPeriod)
	if n2, _ := ec.BlockNumber(ctx); n2 <= n1 {
		t.Fatalf("no empty blocks: %d then %d", n1, n2)
	}
}

func TestManualAndKeystore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := chain.Start(ctx, chain.Options{BlockPeriod: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewKeystoreSigner(ctx, t.TempDir(), "pw", chain.Ether(2))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(s.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keystore.DecryptKey(data, "pw")
	if err != nil || k.Address != s.Address {
		t.Fatalf("keystore: %v", err)
	}
	if bal, _ := c.Balance(ctx, s.Address); bal.Cmp(chain.Ether(2)) != 0 {
		t.Fatalf("balance = %v, want 2 ether", bal)
	}
	// A transaction that would revert is refused when its gas is estimated.
	a, _ := artifact.Load(v1)
	addr, err := c.Deploy(ctx, s.Key, a, s.Address, s.Address)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := a.ABI.Pack("withdraw")
	if _, err := c.Transact(ctx, s.Key, &addr, nil, w); err == nil || !strings.Contains(err.Error(), "execution reverted") {
		t.Fatalf("withdraw with nothing to withdraw: %v, want execution reverted", err)
	}
}
