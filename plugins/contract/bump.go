package contract

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
)

// minBumpPercent is the rise a geth node's pool requires of both fees to
// replace a pending transaction (txpool.pricebump, default 10).
const minBumpPercent = 10

// defaultBumpPercent is each replacement's rise when bump_percent is unset.
const defaultBumpPercent = 20

// feePolicy is what a step allows its transaction to cost.
type feePolicy struct {
	maxFee  *big.Int      // wei per gas; nil: no cap
	after   time.Duration // replace when not mined within this; 0: never
	percent int64         // each replacement's rise
}

// parseFeePolicy reads max_fee_gwei, bump_after and bump_percent.
func parseFeePolicy(in map[string]any) (feePolicy, error) {
	p := feePolicy{percent: defaultBumpPercent}
	switch v := in["max_fee_gwei"].(type) {
	case nil:
	case int:
		p.maxFee = new(big.Int).Mul(big.NewInt(int64(v)), big.NewInt(1e9))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) || v > 1e12 {
			return p, sdk.BadInput("contract: max_fee_gwei %v is not a fee", v)
		}
		p.maxFee, _ = new(big.Float).Mul(big.NewFloat(v), big.NewFloat(1e9)).Int(nil)
	default:
		return p, sdk.BadInput("contract: max_fee_gwei must be a number of gwei, not %T", v)
	}
	if p.maxFee != nil && p.maxFee.Sign() <= 0 {
		return p, sdk.BadInput("contract: max_fee_gwei must be positive")
	}
	if d, ok := in["bump_after"].(time.Duration); ok {
		if d < 0 {
			return p, sdk.BadInput("contract: bump_after must not be negative")
		}
		p.after = d
	}
	if n, ok := in["bump_percent"].(int); ok {
		if n < minBumpPercent || n > 1000 {
			return p, sdk.BadInput("contract: bump_percent %d: a replacement must raise the fees by %d%% to %d%% (a geth node refuses less than %d%%)", n, minBumpPercent, 1000, minBumpPercent)
		}
		p.percent = int64(n)
	}
	if p.after > 0 && p.maxFee == nil {
		return p, sdk.BadInput("contract: bump_after needs max_fee_gwei, the most the replacements may pay per gas")
	}
	return p, nil
}

// capFees applies the policy's cap to a new transaction's fees. It refuses
// a cap below the base fee, which no transaction could be mined under.
func (p feePolicy) capFees(op string, base, feeCap, tip *big.Int) (*big.Int, *big.Int, error) {
	if p.maxFee == nil {
		return feeCap, tip, nil
	}
	if base != nil && p.maxFee.Cmp(base) < 0 {
		return nil, nil, sdk.Conflict("contract: %s: max_fee_gwei %s is below the current base fee of %s gwei, so the transaction could not be mined: raise max_fee_gwei; nothing was sent", op, gwei(p.maxFee), gwei(base))
	}
	if feeCap.Cmp(p.maxFee) > 0 {
		feeCap = new(big.Int).Set(p.maxFee)
	}
	if tip != nil && tip.Cmp(feeCap) > 0 {
		tip = new(big.Int).Set(feeCap)
	}
	return feeCap, tip, nil
}

// raise returns x raised by percent, and at least by one wei.
func raise(x *big.Int, percent int64) *big.Int {
	y := new(big.Int).Mul(x, big.NewInt(100+percent))
	y.Div(y, big.NewInt(100))
	if y.Cmp(x) <= 0 {
		y.Add(x, big.NewInt(1))
	}
	return y
}

// replaces reports whether a fee of next may replace one of old in a geth
// pool: strictly higher, and at least old*(100+10)/100.
func replaces(next, old *big.Int) bool {
	min := new(big.Int).Mul(old, big.NewInt(100+minBumpPercent))
	min.Div(min, big.NewInt(100))
	return next.Cmp(old) > 0 && next.Cmp(min) >= 0
}

// replacer re-sends a stuck transaction with higher fees on its nonce.
type replacer struct {
	s      *signer
	cfg    *config
	st     store
	policy feePolicy
}

// replace signs and sends a replacement of rec's last transaction. It
// returns false, sending nothing, when the cap leaves no fee a node would
// take as a replacement.
func (rp *replacer) replace(ctx context.Context, cl *ethclient.Client, rec *record, t txSpec, log sdk.Logger) (bool, error) {
	raw, err := hexutil.Decode(rec.Raw)
	if err != nil {
		return false, sdk.Permanent(fmt.Errorf("contract: transaction record of %s is damaged: %w", rec.Hash, err))
	}
	var last types.Transaction
	if err := last.UnmarshalBinary(raw); err != nil {
		return false, sdk.Permanent(fmt.Errorf("contract: transaction record of %s is damaged: %w", rec.Hash, err))
	}
	var txdata types.TxData
	var feeCap, tip *big.Int
	switch last.Type() {
	case types.DynamicFeeTxType:
		head, err := cl.HeaderByNumber(ctx, nil)
		if err != nil {
			return false, rpcError(t.op+": read the latest block", err)
		}
		tip = raise(last.GasTipCap(), rp.policy.percent)
		if sug, err := cl.SuggestGasTipCap(ctx); err == nil && sug.Cmp(tip) > 0 {
			tip = sug
		}
		// The tip buys inclusion; the max fee rises only as geth's
		// replacement rule requires, and to cover twice the base fee
		// plus the new tip, so the cap leaves room for the tip to grow.
		feeCap = raise(last.GasFeeCap(), minBumpPercent)
		if head.BaseFee != nil {
			if need := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip); need.Cmp(feeCap) > 0 {
				feeCap = need
			}
		}
		if feeCap.Cmp(rp.policy.maxFee) > 0 {
			feeCap = new(big.Int).Set(rp.policy.maxFee)
		}
		if tip.Cmp(feeCap) > 0 {
			tip = new(big.Int).Set(feeCap)
		}
		if !replaces(feeCap, last.GasFeeCap()) || !replaces(tip, last.GasTipCap()) {
			return false, nil
		}
		txdata = &types.DynamicFeeTx{ChainID: rp.cfg.chainID, Nonce: last.Nonce(), GasTipCap: tip, GasFeeCap: feeCap,
			Gas: last.Gas(), To: last.To(), Value: last.Value(), Data: last.Data()}
	default:
		feeCap = raise(last.GasPrice(), rp.policy.percent)
		if feeCap.Cmp(rp.policy.maxFee) > 0 {
			feeCap = new(big.Int).Set(rp.policy.maxFee)
		}
		if !replaces(feeCap, last.GasPrice()) {
			return false, nil
		}
		txdata = &types.LegacyTx{Nonce: last.Nonce(), GasPrice: feeCap, Gas: last.Gas(), To: last.To(), Value: last.Value(), Data: last.Data()}
	}
	tx, err := types.SignNewTx(rp.s.key, types.LatestSignerForChainID(rp.cfg.chainID), txdata)
	if err != nil {
		return false, sdk.Permanent(fmt.Errorf("contract: %s: sign the replacement: %w", t.op, err))
	}
	enc, err := tx.MarshalBinary()
	if err != nil {
		return false, sdk.Permanent(fmt.Errorf("contract: %s: encode the replacement: %w", t.op, err))
	}
	prev := rec.Hash
	next := sent{Hash: tx.Hash().Hex(), Raw: hexutil.Encode(enc), MaxFee: feeCap.String(), At: time.Now().UTC()}
	if tip != nil {
		next.Tip = tip.String()
	}
	rec.add(next)
	if rec.Key != "" {
		if err := rp.st.put(rec); err != nil {
			return false, err
		}
	}
	log.Printf("%s not mined after %s: replacing it (nonce %d) with %s, max fee %s gwei%s", prev, rp.policy.after, rec.Nonce, next.Hash, gwei(feeCap), tipText(tip))
	if err := cl.SendTransaction(ctx, tx); err != nil && !isAlreadyKnown(err) {
		if isNonceTooLow(err) {
			// A transaction of ours was mined meanwhile: the caller's next
			// receipt lookup finds which.
			return true, nil
		}
		return false, rpcError(t.op+": send the replacement "+next.Hash, err)
	}
	return true, nil
}

func tipText(tip *big.Int) string {
	if tip == nil {
		return ""
	}
	return ", tip " + gwei(tip) + " gwei"
}

// capReached is the error of a transaction still pending when its fees
// reached max_fee_gwei. Any hash sent may yet be mined.
func capReached(t txSpec, rec *record, p feePolicy) error {
	return sdk.Permanent(fmt.Errorf("contract: %s: not mined, and the fees reached max_fee_gwei %s after %d replacement(s): sent %s for nonce %d; any of them may still be mined, and the next attempt (or reconcile) looks them all up before sending anything; raise max_fee_gwei to pay more",
		t.op, gwei(p.maxFee), len(rec.hashes())-1, strings.Join(rec.hashes(), ", "), rec.Nonce))
}
