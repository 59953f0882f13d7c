package drill

import (
	"context"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"

	"github.com/alpha-orion/runbook/plugins/contract/artifact"
	"github.com/alpha-orion/runbook/plugins/contract/chain"
	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// keyFileEnv is the variable the drill points the contract plugin's signer at.
const keyFileEnv = "RUNBOOK_DRILL_CONTRACT_KEY_FILE"

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
	v1, v2        string
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
	v1, v2 := filepath.Join(dir, "FlashLoanArbitrage.json"), filepath.Join(dir, "FlashLoanArbitrageV2.json")
	owner, err := c.NewSigner(ctx, w.Dir, chain.Ether(10))
	if err != nil {
		return nil, err
	}
	a, err := artifact.Load(v1)
	if err != nil {
		return nil, err
	}
	old, err := c.Deploy(ctx, owner.Key, a, owner.Address)
	if err != nil {
		return nil, fmt.Errorf("deploy FlashLoanArbitrage: %w", err)
	}
	funds := chain.Ether(25)
	if err := c.Fund(ctx, old, funds); err != nil {
		return nil, fmt.Errorf("fund the contract: %w", err)
	}
	key, _ := crypto.GenerateKey()
	multisig := crypto.PubkeyToAddress(key.PublicKey)
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
	w.remember("contract", contractState{old: old, multisig: multisig, funds: funds, v1: v1, v2: v2})
	return &Stage{
		Params: map[string]string{
			"contract": old.Hex(), "multisig": multisig.Hex(), "owner": multisig.Hex(),
			"chain_id": c.ChainID().String(), "abi": v1, "fixed": v2,
		},
		Secrets: map[string]string{"ETH_RPC_URL": c.URL(), "RENDER_API_KEY": render.APIKey()},
		// The plugin reads the signer's key file from the variable the drill names.
		Env: map[string]string{keyFileEnv: owner.KeyFile},
		Overrides: map[string]map[string]any{
			"contract": {"key_file_env": keyFileEnv, "state_dir": filepath.Join(w.Dir, "contract-state")},
			"render":   {"base_url": render.URL(), "poll_interval": "50ms", "retry_delay": "50ms"},
		},
		Notes: []string{
			fmt.Sprintf("simulated chain %s: FlashLoanArbitrage deployed at %s holding 25 ETH, owner %s", c.ChainID(), old.Hex(), owner.Address.Hex()),
			"incident: a vulnerability in executeArbitrage (anyone may call it); the multisig " + multisig.Hex() + " is empty",
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
	out = append(out, check("old contract drained", left != nil && left.Sign() == 0, "%s wei left", left))
	got, _ := c.Balance(ctx, cs.multisig)
	out = append(out, check("funds in the multisig", got != nil && got.Cmp(cs.funds) == 0, "multisig holds %s wei (want %s)", got, cs.funds))
	render, _ := w.Render()
	app, _ := w.App()
	addr, gerr := renderGroupVar(ctx, render, "production", "FLASH_LOAN_CONTRACT_ADDRESS")
	code, err := c.Client().CodeAt(ctx, common.HexToAddress(addr), nil)
	out = append(out, check("backend points at the new contract (Render API)", gerr == nil && common.IsHexAddress(addr) && common.HexToAddress(addr) != cs.old && err == nil && len(code) > 0,
		"FLASH_LOAN_CONTRACT_ADDRESS=%s (%d bytes of code there) %s", addr, len(code), errText(gerr)))
	version, err := callString(ctx, c, cs.v2, common.HexToAddress(addr), "VERSION")
	out = append(out, check("new contract is the patched version", err == nil && strings.HasPrefix(version, "2."), "VERSION() = %q %s", version, errText(err)))
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

func call(ctx context.Context, c *chain.Chain, artifactPath string, addr common.Address, method string) ([]any, error) {
	a, err := artifact.Load(artifactPath)
	if err != nil {
		return nil, err
	}
	data, err := a.ABI.Pack(method)
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
