// Package chain runs a throwaway Ethereum chain for tests and drills: the
// go-ethereum simulated backend (chain id 1337) serving real JSON-RPC over
// HTTP on 127.0.0.1, so a plugin in another process can dial it like a node.
//
// Blocks are sealed by a goroutine: as soon as transactions are pending, and
// otherwise every BlockPeriod so that confirmations advance. The chain holds
// a funded faucet account that pays for Fund, DeployArtifact and the signers
// NewSigner writes to disk.
//
//	c, err := chain.Start(ctx, chain.Options{})
//	defer c.Close()
//	signer, err := c.NewSigner(ctx, dir, chain.Ether(10))
//	addr, err := c.DeployArtifact(ctx, "testdata/FlashLoanArbitrage.json", signer.Address)
package chain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/plugins/contract/artifact"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
)

// ChainID is the simulated backend's chain id.
const ChainID = 1337

// DefaultBlockPeriod is how often a block is sealed when nothing is pending.
const DefaultBlockPeriod = 200 * time.Millisecond

// pollPeriod is how often the sealer looks for pending transactions.
const pollPeriod = 20 * time.Millisecond

// faucetBalance is what the faucet starts with: a million ether.
var faucetBalance = Ether(1_000_000)

// Options configures Start.
type Options struct {
	// Alloc funds (or places code at) accounts in the genesis block.
	Alloc types.GenesisAlloc
	// BlockPeriod is the longest time between two blocks: pending
	// transactions are sealed within about 20 ms, and an empty block is
	// sealed every BlockPeriod. 0 means DefaultBlockPeriod; negative means
	// blocks are sealed only by Commit.
	BlockPeriod time.Duration
	// Port is the HTTP port; 0 picks a free one.
	Port int
}

// Chain is a running simulated chain. Its methods are safe for concurrent use.
type Chain struct {
	backend *simulated.Backend
	client  simulated.Client
	url     string
	manual  bool
	faucet  *ecdsa.PrivateKey

	sendMu sync.Mutex // orders the nonces of the helper's own transactions

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Start starts a chain and its JSON-RPC server (eth, net, web3 over HTTP).
func Start(ctx context.Context, opts Options) (*Chain, error) {
	faucet, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	alloc := types.GenesisAlloc{}
	for addr, acc := range opts.Alloc {
		alloc[addr] = acc
	}
	alloc[crypto.PubkeyToAddress(faucet.PublicKey)] = types.Account{Balance: faucetBalance}

	var backend *simulated.Backend
	var url string
	for try := 0; ; try++ {
		port := opts.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				return nil, err
			}
		}
		backend, err = newBackend(alloc, port)
		if err == nil {
			url = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			break
		}
		// Another process may have taken the port between our probe and
		// the node's listen; try another unless the caller chose it.
		if opts.Port != 0 || try == 4 || ctx.Err() != nil {
			return nil, fmt.Errorf("chain: start simulated backend: %w", err)
		}
	}
	c := &Chain{
		backend: backend,
		client:  backend.Client(),
		url:     url,
		manual:  opts.BlockPeriod < 0,
		faucet:  faucet,
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	period := opts.BlockPeriod
	if period == 0 {
		period = DefaultBlockPeriod
	}
	if c.manual {
		close(c.done)
	} else {
		go c.seal(period)
	}
	return c, nil
}

// newBackend starts the simulated backend with HTTP on port; NewBackend
// panics when the node cannot start (e.g. the port is taken).
func newBackend(alloc types.GenesisAlloc, port int) (b *simulated.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return simulated.NewBackend(alloc, func(nc *node.Config, _ *ethconfig.Config) {
		nc.HTTPHost = "127.0.0.1"
		nc.HTTPPort = port
		nc.HTTPModules = []string{"eth", "net", "web3"}
		nc.HTTPVirtualHosts = []string{"localhost", "127.0.0.1"}
	}), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("chain: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// seal commits a block whenever transactions are pending, and at least
// every period.
func (c *Chain) seal(period time.Duration) {
	defer close(c.done)
	tick := time.NewTicker(pollPeriod)
	defer tick.Stop()
	last := time.Now()
	counter, _ := c.client.(interface {
		PendingTransactionCount(context.Context) (uint, error)
	})
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		pending := uint(0)
		if counter != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			pending, _ = counter.PendingTransactionCount(ctx)
			cancel()
		}
		if pending > 0 || time.Since(last) >= period {
			c.backend.Commit()
			last = time.Now()
		}
	}
}

// URL is the JSON-RPC endpoint, http://127.0.0.1:PORT.
func (c *Chain) URL() string { return c.url }

// ChainID returns the chain id, 1337.
func (c *Chain) ChainID() *big.Int { return big.NewInt(ChainID) }

// Client returns an in-process client of the chain.
func (c *Chain) Client() simulated.Client { return c.client }

// Faucet is the address that pays for Fund and the helper's deployments.
func (c *Chain) Faucet() common.Address { return crypto.PubkeyToAddress(c.faucet.PublicKey) }

// Commit seals a block now.
func (c *Chain) Commit() { c.backend.Commit() }

// Rollback drops the pending transactions, like a node that lost them
// (restarted, or evicted them from its pool).
func (c *Chain) Rollback() { c.backend.Rollback() }

// Close stops sealing, the JSON-RPC server and the chain.
func (c *Chain) Close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		err = c.backend.Close()
	})
	return err
}

// Balance returns addr's balance at the latest block, in wei.
func (c *Chain) Balance(ctx context.Context, addr common.Address) (*big.Int, error) {
	return c.client.BalanceAt(ctx, addr, nil)
}

// Fund sends wei from the faucet to addr and waits until it is mined.
func (c *Chain) Fund(ctx context.Context, addr common.Address, wei *big.Int) error {
	_, err := c.Transact(ctx, nil, &addr, wei, nil)
	if err != nil {
		return fmt.Errorf("chain: fund %s: %w", addr.Hex(), err)
	}
	return nil
}

// DeployArtifact deploys the contract in the artifact file at path from the
// faucet, with the constructor's arguments as Go values (common.Address,
// *big.Int, …), and returns its address once it is mined.
func (c *Chain) DeployArtifact(ctx context.Context, path string, args ...any) (common.Address, error) {
	a, err := artifact.Load(path)
	if err != nil {
		return common.Address{}, fmt.Errorf("chain: deploy: %w", err)
	}
	return c.Deploy(ctx, nil, a, args...)
}

// Deploy deploys a from the account of key (nil: the faucet) and returns
// the contract's address once it is mined.
func (c *Chain) Deploy(ctx context.Context, key *ecdsa.PrivateKey, a *artifact.Artifact, args ...any) (common.Address, error) {
	if len(a.Bytecode) == 0 {
		return common.Address{}, fmt.Errorf("chain: deploy %s: the artifact has no bytecode", a.Name)
	}
	ctorArgs, err := a.ABI.Pack("", args...)
	if err != nil {
		return common.Address{}, fmt.Errorf("chain: deploy %s: constructor arguments: %w", a.Name, err)
	}
	data := append(append([]byte(nil), a.Bytecode...), ctorArgs...)
	r, err := c.Transact(ctx, key, nil, nil, data)
	if err != nil {
		return common.Address{}, fmt.Errorf("chain: deploy %s: %w", a.Name, err)
	}
	return r.ContractAddress, nil
}

// ErrReverted is returned by Transact for a transaction mined with status 0.
var ErrReverted = errors.New("transaction reverted")

// Transact sends a transaction from key's account (nil: the faucet) to to
// (nil: a contract creation) and waits for its receipt.
func (c *Chain) Transact(ctx context.Context, key *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte) (*types.Receipt, error) {
	if key == nil {
		key = c.faucet
	}
	if value == nil {
		value = new(big.Int)
	}
	tx, err := c.send(ctx, key, to, value, data)
	if err != nil {
		return nil, err
	}
	r, err := c.WaitMined(ctx, tx.Hash())
	if err != nil {
		return nil, err
	}
	if r.Status != types.ReceiptStatusSuccessful {
		return r, fmt.Errorf("%w: %s", ErrReverted, tx.Hash().Hex())
	}
	return r, nil
}

func (c *Chain) send(ctx context.Context, key *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte) (*types.Transaction, error) {
	from := crypto.PubkeyToAddress(key.PublicKey)
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	nonce, err := c.client.PendingNonceAt(ctx, from)
	if err != nil {
		return nil, err
	}
	gas, err := c.client.EstimateGas(ctx, ethereum.CallMsg{From: from, To: to, Value: value, Data: data})
	if err != nil {
		return nil, fmt.Errorf("estimate gas: %w", err)
	}
	tip, err := c.client.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, err
	}
	head, err := c.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, err
	}
	feeCap := new(big.Int).Add(tip, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(c.ChainID()), &types.DynamicFeeTx{
		ChainID:   c.ChainID(),
		Nonce:     nonce,
		GasTipCap: tip,
		GasFeeCap: feeCap,
		Gas:       gas * 5 / 4,
		To:        to,
		Value:     value,
		Data:      data,
	})
	if err != nil {
		return nil, err
	}
	if err := c.client.SendTransaction(ctx, tx); err != nil {
		return nil, err
	}
	if c.manual {
		c.backend.Commit()
	}
	return tx, nil
}

// WaitMined waits for the receipt of the transaction with hash.
func (c *Chain) WaitMined(ctx context.Context, hash common.Hash) (*types.Receipt, error) {
	tick := time.NewTicker(pollPeriod)
	defer tick.Stop()
	for {
		r, err := c.client.TransactionReceipt(ctx, hash)
		if err == nil {
			return r, nil
		}
		if !NotYet(err) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// NotYet reports whether a receipt lookup failed only because the node has
// no receipt yet: not found, or the node is still indexing transactions.
func NotYet(err error) bool {
	return errors.Is(err, ethereum.NotFound) || strings.Contains(err.Error(), "indexing is in progress")
}

// Ether returns n ether in wei.
func Ether(n int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18))
}
