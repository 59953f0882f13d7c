// Package contract is the runbook plugin for smart-contract emergencies, the
// DR plan's section 5.2: pause the contract, withdraw its funds to the
// multisig, deploy the fixed contract. It talks JSON-RPC to any Ethereum
// node with go-ethereum's ethclient.
//
// Actions: call (a state-changing function, waiting for the receipt), read
// (a view function), deploy (an artifact's bytecode) and balance (ether,
// and ERC-20 tokens' balanceOf).
//
// A call may go through a Safe multisig that owns the contract (input
// safe): the owners' keys, from the files listed in the variable named by
// safe_owner_keys_env, sign the Safe transaction's EIP-712 hash once the
// plugin has read the Safe's owners and threshold and checked the keys
// against them; the signer then sends execTransaction and pays the gas.
//
// Fees: with bump_after and max_fee_gwei, a transaction not mined in time
// is replaced on its nonce with a higher tip (geth's pool needs both fees
// 10% higher), up to max_fee_gwei; then the step fails naming every hash
// sent. A nonce lock per chain and sender in state_dir, held from choosing
// the nonce until the transaction is mined, keeps two runs off one nonce.
//
// The signer never comes from YAML: the environment variable named by
// key_file_env holds the path of a key file, either 64 hex digits or a
// keystore (V3 JSON) whose password is in the variable named by
// password_env. The key is read on the first transaction, never logged and
// never part of an error.
//
// Idempotency: before a transaction leaves the process, its signed bytes,
// hash and nonce are written to a record in state_dir named after the
// step's idempotency key, and so is every replacement before it is sent. Another attempt of the step (after a crash, a
// timeout or a lost answer) finds the record and never signs a second
// transaction while the first can still be mined: a mined transaction is
// reported as the step's result, a pending one is waited for, and one the
// node has lost is re-sent byte for byte (same nonce, same hash). Only when
// the recorded transaction reverted, or its nonce went to another
// transaction, is a new one signed. Reconcile answers from the same record.
package contract

import (
	"context"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/contract/contractspec"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum/ethclient"
)

// config is the plugin's parsed configuration.
type config struct {
	rpcURL      string
	chainID     *big.Int
	keyFileEnv  string
	passwordEnv string
	stateDir    string
	// ownerKeysEnv names the variable holding the Safe owners' key files'
	// paths; ownerPasswordEnv the one holding their keystores' password.
	ownerKeysEnv     string
	ownerPasswordEnv string
}

// Plugin is the contract plugin. It is safe for concurrent use.
type Plugin struct {
	sdk.Base

	mu      sync.Mutex
	cfg     *config
	client  *ethclient.Client
	checked bool    // the node's chain id matched cfg.chainID
	signer  *signer // loaded on the first transaction

	// sendMu serialises choosing a nonce, recording and sending, so two
	// steps signing at once do not take the same nonce.
	sendMu sync.Mutex
}

// New returns an unconfigured contract plugin.
func New() sdk.Plugin { return &Plugin{} }

// Configure checks the configuration; it connects to nothing and reads no
// key, so a runbook that only reads needs no signer.
func (p *Plugin) Configure(_ context.Context, raw map[string]any) error {
	cfg := &config{keyFileEnv: contractspec.DefaultKeyFileEnv, passwordEnv: contractspec.DefaultPasswordEnv}
	cfg.rpcURL, _ = raw["rpc_url"].(string)
	u, err := url.Parse(cfg.rpcURL)
	if err != nil || u.Host == "" {
		return sdk.BadInput("contract: rpc_url is not a URL (http://, https://, ws:// or wss://)")
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return sdk.BadInput("contract: rpc_url %s: scheme %q is not one of http, https, ws, wss", redactURL(cfg.rpcURL), u.Scheme)
	}
	id, _ := raw["chain_id"].(int)
	if id <= 0 {
		return sdk.BadInput("contract: chain_id must be a positive chain id (1 is mainnet), not %d", id)
	}
	cfg.chainID = big.NewInt(int64(id))
	if s, _ := raw["key_file_env"].(string); s != "" {
		cfg.keyFileEnv = s
	}
	if s, _ := raw["password_env"].(string); s != "" {
		cfg.passwordEnv = s
	}
	cfg.ownerKeysEnv, cfg.ownerPasswordEnv = contractspec.DefaultOwnerKeysEnv, contractspec.DefaultOwnerPasswordEnv
	if s, _ := raw["safe_owner_keys_env"].(string); s != "" {
		cfg.ownerKeysEnv = s
	}
	if s, _ := raw["safe_owner_password_env"].(string); s != "" {
		cfg.ownerPasswordEnv = s
	}
	cfg.stateDir, _ = raw["state_dir"].(string)
	if cfg.stateDir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return sdk.BadInput("contract: no user cache folder for the transaction records (%v): set state_dir", err)
		}
		cfg.stateDir = filepath.Join(cache, "runbook", "contract")
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		p.client.Close()
	}
	p.cfg, p.client, p.checked, p.signer = cfg, nil, false, nil
	return nil
}

func (p *Plugin) config() (*config, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg == nil {
		return nil, sdk.BadInput("contract: the plugin is not configured: add a plugins.contract block with rpc_url and chain_id")
	}
	return p.cfg, nil
}

// Plan checks the inputs offline (address, ABI, method, arguments) and says
// what the step would do.
func (p *Plugin) Plan(_ context.Context, req sdk.Request) (sdk.Plan, error) {
	cfg, err := p.config()
	if err != nil {
		return sdk.Plan{}, err
	}
	var summary string
	switch req.Action {
	case "call", "read":
		c, err := parseCall(req.Inputs, req.Action == "call")
		if err != nil {
			return sdk.Plan{}, err
		}
		if req.Action == "read" {
			summary = fmt.Sprintf("would read %s from %s on chain %s", c.display(), c.to.Hex(), cfg.chainID)
			break
		}
		if _, err := parseFeePolicy(req.Inputs); err != nil {
			return sdk.Plan{}, err
		}
		safe, err := parseSafe(req.Inputs)
		if err != nil {
			return sdk.Plan{}, err
		}
		summary = fmt.Sprintf("would send %s to %s%s on chain %s", c.display(), c.to.Hex(), withValue(c.value), cfg.chainID)
		if safe != nil {
			summary = fmt.Sprintf("would have the Safe %s call %s on %s%s on chain %s, signed by the owner keys in %s", safe.Hex(), c.display(), c.to.Hex(), withValue(c.value), cfg.chainID, cfg.ownerKeysEnv)
		}
	case "deploy":
		d, err := parseDeploy(req.Inputs)
		if err != nil {
			return sdk.Plan{}, err
		}
		if _, err := parseFeePolicy(req.Inputs); err != nil {
			return sdk.Plan{}, err
		}
		summary = fmt.Sprintf("would deploy %s (%d bytes of code)%s on chain %s", d.display(), len(d.art.Bytecode), withValue(d.value), cfg.chainID)
	case "balance":
		addr, err := parseAddress("address", req.Inputs["address"])
		if err != nil {
			return sdk.Plan{}, err
		}
		tokens, err := parseTokens(req.Inputs["tokens"])
		if err != nil {
			return sdk.Plan{}, err
		}
		summary = fmt.Sprintf("would read the balance of %s on chain %s", addr.Hex(), cfg.chainID)
		if len(tokens) > 0 {
			summary += fmt.Sprintf(", and of %d token(s)", len(tokens))
		}
	default:
		return sdk.Plan{}, sdk.Errorf(sdk.KindUnimplemented, "contract: no action %q", req.Action)
	}
	return sdk.Plan{Summary: summary}, nil
}

// Execute runs one attempt of a step.
func (p *Plugin) Execute(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	cfg, err := p.config()
	if err != nil {
		return nil, err
	}
	var out map[string]any
	switch req.Action {
	case "call":
		out, err = p.call(ctx, req, log)
	case "read":
		out, err = p.read(ctx, req)
	case "deploy":
		out, err = p.deploy(ctx, req, log)
	case "balance":
		out, err = p.balance(ctx, req)
	default:
		err = sdk.Errorf(sdk.KindUnimplemented, "contract: no action %q", req.Action)
	}
	return out, scrub(cfg, err)
}

// Reconcile answers from the step's transaction record: Applied with the
// outputs once the recorded transaction is mined, NotApplied when there is
// no record (nothing was ever signed for the step), when it reverted or
// when the node no longer has it (Execute would re-send the same signed
// bytes, which cannot be mined twice). A pending transaction is waited for.
// read and balance change nothing, so running them again is always safe.
func (p *Plugin) Reconcile(ctx context.Context, req sdk.Request) (sdk.Reconciliation, error) {
	cfg, err := p.config()
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	switch req.Action {
	case "read", "balance":
		return sdk.Reconciliation{State: sdk.NotApplied}, nil
	case "call", "deploy":
	default:
		return sdk.Reconciliation{}, sdk.Errorf(sdk.KindUnimplemented, "contract: no action %q", req.Action)
	}
	if req.IdempotencyKey == "" {
		return sdk.Reconciliation{State: sdk.Unknown}, nil
	}
	rec, err := p.reconcile(ctx, cfg, req)
	return rec, scrub(cfg, err)
}

func withValue(v *big.Int) string {
	if v.Sign() == 0 {
		return ""
	}
	return " with " + formatEther(v) + " ether"
}

// redactURL names an RPC endpoint by its host: provider URLs carry their
// API key in the path, the query or the user info, and the SDK masks the
// whole URL (a secret) wherever it appears.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "the rpc_url"
	}
	s := u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		s += "/…"
	}
	return s
}

// scrub replaces the RPC URL, which error texts from the HTTP client quote,
// with its redacted form; the error keeps its kind.
func scrub(cfg *config, err error) error {
	if err == nil || cfg == nil || !strings.Contains(err.Error(), cfg.rpcURL) {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), cfg.rpcURL, redactURL(cfg.rpcURL))
	return sdk.Errorf(sdk.KindOf(err), "%s", msg)
}

// Name is the name the plugin is served under.
const Name = contractspec.Name

// Spec is the plugin's catalogue entry. It lives in contractspec so that the
// runbook core can link it without this package's dependencies.
var Spec = contractspec.Spec

// Spec returns the catalogue entry.
func (*Plugin) Spec() catalog.Plugin { return Spec }
