// Package chain runs a throwaway Ethereum chain for tests and drills: a
// go-ethereum node on the dev chain (chain id 1337) sealed by catalyst's
// simulated beacon, as go-ethereum's simulated backend does, serving real
// JSON-RPC over HTTP on 127.0.0.1 so a plugin in another process can dial it
// like a node. The node is assembled here rather than through
// ethclient/simulated so that SetMinerTip can reach its miner.
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
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
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
	backend *backend
	client  *ethclient.Client
	url     string
	manual  bool
	faucet  *ecdsa.PrivateKey

	sendMu sync.Mutex // orders the nonces of the helper's own transactions

	tipMu    sync.Mutex
	minerTip *big.Int // SetMinerTip's; nil is geth's default

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

	var backend *backend
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
		client:  backend.client,
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

// backend is the node: go-ethereum's simulated backend, assembled by hand
// (ethclient/simulated.NewBackend does the same) to keep the eth service.
type backend struct {
	node   *node.Node
	eth    *eth.Ethereum
	beacon *catalyst.SimulatedBeacon
	client *ethclient.Client
}

// newBackend starts a dev-chain node with HTTP on port, sealed on demand
// by a simulated beacon.
func newBackend(alloc types.GenesisAlloc, port int) (*backend, error) {
	nodeConf := node.DefaultConfig
	nodeConf.DataDir = ""
	nodeConf.P2P = p2p.Config{NoDiscovery: true}
	nodeConf.HTTPHost = "127.0.0.1"
	nodeConf.HTTPPort = port
	nodeConf.HTTPModules = []string{"eth", "net", "web3"}
	nodeConf.HTTPVirtualHosts = []string{"localhost", "127.0.0.1"}

	genesisAlloc := core.SystemContractAllocs()
	for addr, acc := range alloc {
		genesisAlloc[addr] = acc
	}
	ethConf := ethconfig.Defaults
	ethConf.Genesis = &core.Genesis{Config: params.AllDevChainProtocolChanges, GasLimit: ethconfig.Defaults.Miner.GasCeil, Alloc: genesisAlloc}
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.TxPool.NoLocals = true
	ethConf.LogNoHistory = true

	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, err
	}
	e, err := eth.New(stack, &ethConf)
	if err != nil {
		stack.Close()
		return nil, err
	}
	fs := filters.NewFilterSystem(e.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(fs)}})
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, err
	}
	beacon, err := catalyst.NewSimulatedBeacon(0, common.Address{}, e)
	if err == nil {
		err = beacon.Fork(e.BlockChain().GetCanonicalHash(0))
	}
	if err != nil {
		stack.Close()
		return nil, err
	}
	return &backend{node: stack, eth: e, beacon: beacon, client: ethclient.NewClient(stack.Attach())}, nil
}

func (b *backend) Commit()   { b.beacon.Commit() }
func (b *backend) Rollback() { b.beacon.Rollback() }

func (b *backend) Close() error {
	b.client.Close()
	return errors.Join(b.beacon.Stop(), b.node.Close())
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("chain: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// seal commits a block whenever the pending transactions change, and at
// least every period. Transactions the miner will not take (a tip below
// SetMinerTip's) stay pending; they do not make the sealer spin.
func (c *Chain) seal(period time.Duration) {
	defer close(c.done)
	tick := time.NewTicker(pollPeriod)
	defer tick.Stop()
	last := time.Now()
	held := uint(0) // pending after the last block
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		pending, _ := c.backend.eth.TxPool().Stats()
		if (pending > 0 && uint(pending) != held) || time.Since(last) >= period {
			c.backend.Commit()
			last = time.Now()
			p, _ := c.backend.eth.TxPool().Stats()
			held = uint(p)
		}
	}
}

// SetMinerTip sets the smallest priority fee (tip per gas, wei) the node's
// miner includes, geth's --miner.gasprice: a transaction tipping less stays
// in the pool, pending, until it is replaced with a higher fee or the tip
// falls again. That is what a sender sees in a gas spike. The pool keeps
// accepting such transactions (its own price limit is unchanged).
func (c *Chain) SetMinerTip(wei *big.Int) {
	_ = c.backend.eth.Miner().SetGasTip(new(big.Int).Set(wei))
	c.tipMu.Lock()
	c.minerTip = new(big.Int).Set(wei)
	c.tipMu.Unlock()
}

// MinerTip is the smallest tip the miner includes (SetMinerTip).
func (c *Chain) MinerTip() *big.Int {
	c.tipMu.Lock()
	defer c.tipMu.Unlock()
	if c.minerTip == nil {
		return new(big.Int).Set(ethconfig.Defaults.Miner.GasPrice)
	}
	return new(big.Int).Set(c.minerTip)
}

// URL is the JSON-RPC endpoint, http://127.0.0.1:PORT.
func (c *Chain) URL() string { return c.url }

// ChainID returns the chain id, 1337.
func (c *Chain) ChainID() *big.Int { return big.NewInt(ChainID) }

// Client returns an in-process client of the chain.
func (c *Chain) Client() simulated.Client { return c.client }

var _ simulated.Client = (*ethclient.Client)(nil)

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
	if min := c.MinerTip(); tip.Cmp(min) < 0 {
		tip = min // the helper's own transactions pay through a spike
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
