package drill

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"github.com/alpha-orion/runbook/plugins/contract/artifact"
	"github.com/alpha-orion/runbook/plugins/contract/chain"
	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
)

// The variables the drill points the contract plugin at: the key that
// sends (and pays gas), and the Safe owners' key files, PATH-style.
const (
	keyFileEnv   = "RUNBOOK_DRILL_CONTRACT_KEY_FILE"
	ownerKeysEnv = "RUNBOOK_DRILL_SAFE_OWNER_KEY_FILES"
)

// The incident's Safe: owners and threshold; the drill stages the keys of
// exactly threshold owners (one owner is unreachable).
const (
	safeOwners    = 3
	safeThreshold = 2
)

func init() {
	register(&Scenario{
		Runbook: "contract-emergency",
		Setup:   setupContractEmergency,
		Verify:  verifyContractEmergency,
	})
}

// contractState is what the contract scenario remembers.
type contractState struct {
	old, multisig common.Address
	funds         *big.Int
	tokens        []common.Address
	symbols       []string // of tokens
	tokenFunds    *big.Int // of each token
	v1, v2, token string
	safeArt       string
}

func setupContractEmergency(ctx context.Context, w *World) (*Stage, error) {
	c, err := w.Chain(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := writeFixtures(contractFixtures, "fixtures/contract", filepath.Join(w.Dir, "artifacts"))
	if err != nil {
		return nil, err
	}
	art := func(name string) string { return filepath.Join(dir, name+".json") }
	load := func(name string) (*artifact.Artifact, error) { return artifact.Load(art(name)) }

	// The owner is a Safe (2 of 3); its owners' key files are on disk,
	// unfunded: they only sign. An ops key sends and pays the gas.
	var owners []common.Address
	var keyFiles []string
	for i := range safeOwners {
		o, err := c.NewSigner(ctx, w.Dir, nil)
		if err != nil {
			return nil, err
		}
		owners = append(owners, o.Address)
		if i < safeThreshold {
			keyFiles = append(keyFiles, o.KeyFile)
		}
	}
	safeArt, err := load("Safe")
	if err != nil {
		return nil, err
	}
	proxyArt, err := load("SafeProxy")
	if err != nil {
		return nil, err
	}
	safe, err := c.DeploySafe(ctx, safeArt, proxyArt, owners, safeThreshold)
	if err != nil {
		return nil, err
	}
	ops, err := c.NewSigner(ctx, w.Dir, chain.Ether(10))
	if err != nil {
		return nil, err
	}

	// FlashLoanArbitrage, owned by the Safe, its cold wallet the Safe,
	// holding ether and two tokens.
	v1, err := load("FlashLoanArbitrage")
	if err != nil {
		return nil, err
	}
	old, err := c.Deploy(ctx, nil, v1, safe, safe)
	if err != nil {
		return nil, fmt.Errorf("deploy FlashLoanArbitrage: %w", err)
	}
	funds := chain.Ether(25)
	if err := c.Fund(ctx, old, funds); err != nil {
		return nil, fmt.Errorf("fund the contract: %w", err)
	}
	tokenArt, err := load("TestToken")
	if err != nil {
		return nil, err
	}
	tokenFunds := chain.Ether(250_000) // 250000 tokens of 18 decimals
	var tokens []common.Address
	var tokenList []string
	symbols := []string{"TUSD", "TWETH"}
	for _, sym := range symbols {
		tok, err := c.Deploy(ctx, nil, tokenArt, "Test "+sym, sym, old, tokenFunds)
		if err != nil {
			return nil, fmt.Errorf("deploy token %s: %w", sym, err)
		}
		tokens = append(tokens, tok)
		tokenList = append(tokenList, tok.Hex())
	}

	render, err := w.Render()
	if err != nil {
		return nil, err
	}
	ao, err := render.SeedAlphaOrion("")
	if err != nil {
		return nil, err
	}
	// The backend watches the exploited contract, and both services are
	// running: each has read the address at its start.
	if err := putGroupVar(ctx, render, ao.Production.ID, "FLASH_LOAN_CONTRACT_ADDRESS", old.Hex()); err != nil {
		return nil, err
	}
	app, err := w.App()
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"user-api-service", "blockchain-monitor"} {
		if code, body := drillGet(ctx, app.ContractURL(name)); code != 200 || !strings.Contains(strings.ToLower(body), strings.ToLower(old.Hex())) {
			return nil, fmt.Errorf("drill: before the incident %s should watch %s, got %d %s", name, old.Hex(), code, body)
		}
	}

	// The gas spike: from now on the node's miner takes no transaction
	// tipping under 20 times what it took so far, as in an exploit when
	// everyone bids for inclusion. The node still suggests the old tip, so
	// the runbook's first transactions wait in the pool until replaced.
	before := c.MinerTip()
	spike := new(big.Int).Mul(before, big.NewInt(20))
	c.SetMinerTip(spike)

	w.remember("contract", contractState{old: old, multisig: safe, funds: funds, tokens: tokens, symbols: symbols, tokenFunds: tokenFunds,
		v1: art("FlashLoanArbitrage"), v2: art("FlashLoanArbitrageV2"), token: art("TestToken"), safeArt: art("Safe")})
	return &Stage{
		Params: map[string]string{
			"contract": old.Hex(), "multisig": safe.Hex(), "owner": safe.Hex(), "owner_safe": safe.Hex(),
			"tokens": strings.Join(tokenList, ","), "chain_id": c.ChainID().String(),
			"abi": art("FlashLoanArbitrage"), "fixed": art("FlashLoanArbitrageV2"),
			// Production waits a minute before replacing; a drill has no minute to spare.
			"bump_after": "200ms", "bump_percent": "100",
		},
		Secrets: map[string]string{"ETH_RPC_URL": c.URL(), "RENDER_API_KEY": render.APIKey()},
		// The plugin reads the key files from the variables the drill names.
		Env: map[string]string{keyFileEnv: ops.KeyFile, ownerKeysEnv: strings.Join(keyFiles, string(os.PathListSeparator))},
		Overrides: map[string]map[string]any{
			"contract": {"key_file_env": keyFileEnv, "safe_owner_keys_env": ownerKeysEnv, "state_dir": filepath.Join(w.Dir, "contract-state")},
			"render":   {"base_url": render.URL(), "poll_interval": "50ms", "retry_delay": "50ms"},
		},
		Notes: []string{
			fmt.Sprintf("simulated chain %s: FlashLoanArbitrage at %s holds 25 ETH and 250000 each of TUSD %s and TWETH %s", c.ChainID(), old.Hex(), tokens[0].Hex(), tokens[1].Hex()),
			fmt.Sprintf("its owner and cold wallet is the Safe %s (%d of %d owners; the keys of %d staged); the ops key %s sends", safe.Hex(), safeThreshold, safeOwners, safeThreshold, ops.Address.Hex()),
			fmt.Sprintf("gas spike: the miner's minimum tip went from %s to %s wei, above what the node suggests", before, spike),
			"incident: a vulnerability in executeArbitrage (anyone may call it); the multisig holds nothing",
		},
	}, nil
}

func verifyContractEmergency(ctx context.Context, w *World, _ *Stage) []Check {
	cs, _ := w.recall("contract").(contractState)
	c, _ := w.Chain(ctx)
	var out []Check
	paused, err := callBool(ctx, c, cs.v1, cs.old, "paused")
	out = append(out, check("old contract paused", err == nil && paused, "paused() = %v %s", paused, errText(err)))
	left, _ := c.Balance(ctx, cs.old)
	out = append(out, check("old contract drained of ether", left != nil && left.Sign() == 0, "%s wei left", left))
	got, _ := c.Balance(ctx, cs.multisig)
	out = append(out, check("ether in the multisig", got != nil && got.Cmp(cs.funds) == 0, "multisig holds %s wei (want %s)", got, cs.funds))
	for i, tok := range cs.tokens {
		sym := cs.symbols[i]
		left, lerr := callUint(ctx, c, cs.token, tok, "balanceOf", cs.old)
		held, herr := callUint(ctx, c, cs.token, tok, "balanceOf", cs.multisig)
		out = append(out, check("old contract drained of "+sym, lerr == nil && left.Sign() == 0, "%s.balanceOf(old) = %s %s", tok.Hex(), left, errText(lerr)))
		out = append(out, check(sym+" in the multisig", herr == nil && held.Cmp(cs.tokenFunds) == 0, "%s.balanceOf(multisig) = %s (want %s) %s", tok.Hex(), held, cs.tokenFunds, errText(herr)))
	}
	// The Safe made the owner's calls: pause, withdraw, withdrawTokens.
	nonce, nerr := callUint(ctx, c, cs.safeArt, cs.multisig, "nonce")
	out = append(out, check("the Safe executed the owner's calls", nerr == nil && nonce.Cmp(big.NewInt(3)) == 0, "Safe nonce() = %s (want 3) %s", nonce, errText(nerr)))

	render, _ := w.Render()
	app, _ := w.App()
	addr, gerr := renderGroupVar(ctx, render, "production", "FLASH_LOAN_CONTRACT_ADDRESS")
	code, err := c.Client().CodeAt(ctx, common.HexToAddress(addr), nil)
	out = append(out, check("backend points at the new contract (Render API)", gerr == nil && common.IsHexAddress(addr) && common.HexToAddress(addr) != cs.old && err == nil && len(code) > 0,
		"FLASH_LOAN_CONTRACT_ADDRESS=%s (%d bytes of code there) %s", addr, len(code), errText(gerr)))
	version, err := callString(ctx, c, cs.v2, common.HexToAddress(addr), "VERSION")
	out = append(out, check("new contract is the patched version", err == nil && strings.HasPrefix(version, "2."), "VERSION() = %q %s", version, errText(err)))
	owner, oerr := callAddress(ctx, c, cs.v2, common.HexToAddress(addr), "owner")
	wallet, werr := callAddress(ctx, c, cs.v2, common.HexToAddress(addr), "coldWallet")
	out = append(out, check("new contract owned by the multisig, its cold wallet", common.HexToAddress(addr) != cs.old && oerr == nil && werr == nil && owner == cs.multisig && wallet == cs.multisig,
		"at %s: owner() = %s, coldWallet() = %s (want %s) %s%s", addr, owner.Hex(), wallet.Hex(), cs.multisig.Hex(), errText(oerr), errText(werr)))
	// A service reads the address when it starts: only a restarted one
	// watches the new contract.
	for _, name := range []string{"user-api-service", "blockchain-monitor"} {
		code, body := drillGet(ctx, app.ContractURL(name))
		got := strings.TrimPrefix(strings.TrimSpace(body), "contract=")
		out = append(out, check(name+" watches the new contract", code == 200 && common.IsHexAddress(got) && common.HexToAddress(got) == common.HexToAddress(addr) && common.HexToAddress(got) != cs.old,
			"GET %s/contract: %d %s", name, code, strings.TrimSpace(body)))
	}
	return out
}

func call(ctx context.Context, c *chain.Chain, artifactPath string, addr common.Address, method string, args ...any) ([]any, error) {
	a, err := artifact.Load(artifactPath)
	if err != nil {
		return nil, err
	}
	data, err := a.ABI.Pack(method, args...)
	if err != nil {
		return nil, err
	}
	res, err := c.Client().CallContract(ctx, ethereum.CallMsg{To: &addr, Data: data}, nil)
	if err != nil {
		return nil, err
	}
	return a.ABI.Unpack(method, res)
}

func callBool(ctx context.Context, c *chain.Chain, artifactPath string, addr common.Address, method string) (bool, error) {
	out, err := call(ctx, c, artifactPath, addr, method)
	if err != nil || len(out) != 1 {
		return false, fmt.Errorf("%s(): %v", method, err)
	}
	b, _ := out[0].(bool)
	return b, nil
}

func callString(ctx context.Context, c *chain.Chain, artifactPath string, addr common.Address, method string) (string, error) {
	out, err := call(ctx, c, artifactPath, addr, method)
	if err != nil || len(out) != 1 {
		return "", fmt.Errorf("%s(): %v", method, err)
	}
	s, _ := out[0].(string)
	return s, nil
}

func callUint(ctx context.Context, c *chain.Chain, artifactPath string, addr common.Address, method string, args ...any) (*big.Int, error) {
	out, err := call(ctx, c, artifactPath, addr, method, args...)
	if err != nil || len(out) != 1 {
		return new(big.Int), fmt.Errorf("%s(): %v", method, err)
	}
	n, ok := out[0].(*big.Int)
	if !ok {
		return new(big.Int), fmt.Errorf("%s() returned %T", method, out[0])
	}
	return n, nil
}

func callAddress(ctx context.Context, c *chain.Chain, artifactPath string, addr common.Address, method string) (common.Address, error) {
	out, err := call(ctx, c, artifactPath, addr, method)
	if err != nil || len(out) != 1 {
		return common.Address{}, fmt.Errorf("%s(): %v", method, err)
	}
	a, _ := out[0].(common.Address)
	return a, nil
}
