package contract

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
)

// call sends a transaction to a contract function.
func (p *Plugin) call(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	cfg, err := p.config()
	if err != nil {
		return nil, err
	}
	c, err := parseCall(req.Inputs, true)
	if err != nil {
		return nil, err
	}
	wait := true
	if w, ok := req.Inputs["wait"].(bool); ok {
		wait = w
	}
	fee, err := parseFeePolicy(req.Inputs)
	if err != nil {
		return nil, err
	}
	safe, err := parseSafe(req.Inputs)
	if err != nil {
		return nil, err
	}
	t := txSpec{
		action:        "call",
		op:            fmt.Sprintf("call %s on %s", c.display(), c.to.Hex()),
		to:            &c.to,
		value:         c.value,
		data:          c.data,
		gas:           c.gas,
		abi:           c.abi,
		wait:          wait,
		confirmations: confirmations(req.Inputs),
		fee:           fee,
	}
	if safe != nil {
		t.op += " through the Safe " + safe.Hex()
		direct := t
		t.prepare = func(ctx context.Context, cl *ethclient.Client) (txSpec, error) {
			sc, err := p.safeTx(ctx, cl, cfg, *safe, c)
			if err != nil {
				return direct, err
			}
			via := direct
			via.op = fmt.Sprintf("call %s on %s through the Safe %s (Safe nonce %d)", c.display(), c.to.Hex(), safe.Hex(), sc.nonce)
			via.to, via.value, via.data, via.abi, via.safe = safe, new(big.Int), sc.data, &parsedSafeABI, sc
			return via, nil
		}
	}
	return p.transact(ctx, cfg, req, t, log)
}

// parseSafe reads a call's safe input: nil when absent or empty.
func parseSafe(in map[string]any) (*common.Address, error) {
	if v, ok := in["safe"]; !ok || v == nil || v == "" {
		return nil, nil
	}
	a, err := parseAddress("safe", in["safe"])
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// deploy sends a contract creation.
func (p *Plugin) deploy(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	cfg, err := p.config()
	if err != nil {
		return nil, err
	}
	d, err := parseDeploy(req.Inputs)
	if err != nil {
		return nil, err
	}
	fee, err := parseFeePolicy(req.Inputs)
	if err != nil {
		return nil, err
	}
	return p.transact(ctx, cfg, req, txSpec{
		fee:           fee,
		action:        "deploy",
		op:            "deploy " + d.display(),
		value:         d.value,
		data:          d.data,
		gas:           d.gas,
		abi:           &d.art.ABI,
		wait:          true,
		confirmations: confirmations(req.Inputs),
	}, log)
}

func confirmations(in map[string]any) uint64 {
	if n, ok := in["confirmations"].(int); ok && n > 1 {
		return uint64(n)
	}
	return 1
}

// read calls a view function with eth_call.
func (p *Plugin) read(ctx context.Context, req sdk.Request) (map[string]any, error) {
	cfg, err := p.config()
	if err != nil {
		return nil, err
	}
	c, err := parseCall(req.Inputs, false)
	if err != nil {
		return nil, err
	}
	op := fmt.Sprintf("read %s from %s", c.display(), c.to.Hex())
	cl, err := p.connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	out, err := cl.CallContract(ctx, ethereum.CallMsg{To: &c.to, Data: c.data}, nil)
	switch {
	case err != nil && isRevert(err):
		return nil, revertError(op, c.abi, err)
	case err != nil:
		return nil, rpcError(op, err)
	}
	if len(out) == 0 && len(c.method.Outputs) > 0 {
		if code, err := cl.CodeAt(ctx, c.to, nil); err == nil && len(code) == 0 {
			return nil, sdk.NotFound("contract: %s: there is no contract at %s on chain %s", op, c.to.Hex(), cfg.chainID)
		}
	}
	vals, err := unpackOutputs(c.method.Outputs, out)
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("contract: %s: cannot decode the result as %s (does the ABI match the contract?): %w", op, argTypes(c.method.Outputs), err))
	}
	var result any
	if len(vals) > 0 {
		result = vals[0]
	}
	return map[string]any{"result": result, "results": vals}, nil
}

// balance reads an address's ether balance.
func (p *Plugin) balance(ctx context.Context, req sdk.Request) (map[string]any, error) {
	cfg, err := p.config()
	if err != nil {
		return nil, err
	}
	addr, err := parseAddress("address", req.Inputs["address"])
	if err != nil {
		return nil, err
	}
	tokens, err := parseTokens(req.Inputs["tokens"])
	if err != nil {
		return nil, err
	}
	cl, err := p.connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	wei, err := cl.BalanceAt(ctx, addr, nil)
	if err != nil {
		return nil, rpcError("read the balance of "+addr.Hex(), err)
	}
	ether, _ := new(big.Rat).SetFrac(wei, big.NewInt(1e18)).Float64()
	out := map[string]any{"address": addr.Hex(), "wei": wei.String(), "ether": ether}
	whole, units := map[string]any{}, map[string]any{}
	for _, tok := range tokens {
		bal, dec, err := tokenBalance(ctx, cl, tok, addr)
		if err != nil {
			return nil, err
		}
		f, _ := new(big.Rat).SetFrac(bal, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dec)), nil)).Float64()
		whole[tok.Hex()], units[tok.Hex()] = f, bal.String()
	}
	out["tokens"], out["token_units"] = whole, units
	return out, nil
}

// parseTokens reads a list of ERC-20 token addresses.
func parseTokens(v any) ([]common.Address, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, sdk.BadInput("contract: tokens must be a list of token addresses, not %T", v)
	}
	out := make([]common.Address, 0, len(list))
	for i, x := range list {
		a, err := parseAddress(fmt.Sprintf("tokens[%d]", i), x)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// pendingWait bounds how long Reconcile waits for a pending transaction.
const pendingWait = 2 * time.Minute

// reconcile answers for a call or deploy step from its record.
func (p *Plugin) reconcile(ctx context.Context, cfg *config, req sdk.Request) (sdk.Reconciliation, error) {
	st := store{dir: cfg.stateDir, chainID: cfg.chainID}
	rec, err := st.get(req.IdempotencyKey)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	if rec == nil {
		// The record is written before a transaction leaves the process:
		// without one, nothing was sent for this step.
		return sdk.Reconciliation{State: sdk.NotApplied}, nil
	}
	cl, err := p.connect(ctx, cfg)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	// Wait for a pending transaction, but answer before the caller gives up.
	budget := pendingWait
	if dl, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(dl)*3/4)
	}
	giveUp := time.After(budget)
	delay := pollMin
	for {
		state, r, err := lookup(ctx, cl, rec)
		if err != nil {
			return sdk.Reconciliation{}, err
		}
		switch state {
		case txMined:
			if r.Status != types.ReceiptStatusSuccessful {
				return sdk.Reconciliation{State: sdk.NotApplied}, nil
			}
			return sdk.Reconciliation{State: sdk.Applied, Outputs: minedOutputs(rec, r)}, nil
		case txReplaced, txLost:
			return sdk.Reconciliation{State: sdk.NotApplied}, nil
		}
		// Pending: it may yet be mined, so only its receipt can tell.
		select {
		case <-ctx.Done():
			return sdk.Reconciliation{State: sdk.Unknown}, nil
		case <-giveUp:
			return sdk.Reconciliation{State: sdk.Unknown}, nil
		case <-time.After(delay):
		}
		delay = min(delay*3/2, pollMax)
	}
}
