package contract

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// Receipt polling: first after pollMin, then 1.5 times longer each time up
// to pollMax (a mainnet block is 12 s; the simulated chain's is 20 ms).
const (
	pollMin = 50 * time.Millisecond
	pollMax = 2 * time.Second
)

// txSpec is one transaction a step wants on chain.
type txSpec struct {
	action        string // "call" or "deploy"
	op            string // for messages: "call pause() on 0x…"
	to            *common.Address
	value         *big.Int
	data          []byte
	gas           uint64 // 0: estimate
	abi           *abi.ABI
	wait          bool
	confirmations uint64
	fee           feePolicy
	// prepare, when set, completes the transaction just before a new one
	// is signed (not when an earlier attempt's is resumed): a call
	// through a Safe has its owners sign then, for the Safe's nonce then.
	prepare func(context.Context, *ethclient.Client) (txSpec, error)
	safe    *safeCall // set by prepare for a call through a Safe
}

// connect returns the node's client, checking once that the node serves
// the configured chain.
func (p *Plugin) connect(ctx context.Context, cfg *config) (*ethclient.Client, error) {
	p.mu.Lock()
	cl, checked := p.client, p.checked
	p.mu.Unlock()
	where := redactURL(cfg.rpcURL)
	if cl == nil {
		c, err := ethclient.DialContext(ctx, cfg.rpcURL)
		if err != nil {
			return nil, rpcError("connect to "+where, err)
		}
		p.mu.Lock()
		if p.client == nil && p.cfg == cfg {
			p.client = c
		} else if p.client != nil {
			c.Close()
			c = p.client
		}
		p.mu.Unlock()
		cl = c
	}
	if checked {
		return cl, nil
	}
	id, err := cl.ChainID(ctx)
	if err != nil {
		return nil, rpcError("connect to "+where+": read the chain id", err)
	}
	if id.Cmp(cfg.chainID) != 0 {
		return nil, sdk.BadInput("contract: wrong chain: %s serves chain id %s, but chain_id is %s; refusing to read or sign anything (check rpc_url and chain_id)", where, id, cfg.chainID)
	}
	p.mu.Lock()
	if p.cfg == cfg {
		p.checked = true
	}
	p.mu.Unlock()
	return cl, nil
}

// transact gets t on chain once per idempotency key and returns the
// step's outputs.
func (p *Plugin) transact(ctx context.Context, cfg *config, req sdk.Request, t txSpec, log sdk.Logger) (map[string]any, error) {
	cl, err := p.connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s, err := p.loadSigner(cfg)
	if err != nil {
		return nil, err
	}
	if s.looseMode {
		log.Warnf("the signer's key file %s can be read by other users: chmod 600 it", s.file)
	}
	st := store{dir: cfg.stateDir, chainID: cfg.chainID}
	// Held from choosing the nonce until the transaction is mined.
	unlock, err := lockNonce(ctx, cfg.stateDir, cfg.chainID, s.address, req.StepID, log)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rp := &replacer{s: s, cfg: cfg, st: st, policy: t.fee}
	if req.IdempotencyKey != "" {
		rec, err := st.get(req.IdempotencyKey)
		if err != nil {
			return nil, err
		}
		if rec != nil {
			out, done, err := p.resume(ctx, cl, rec, t, rp, log)
			if err != nil || done {
				return out, err
			}
		}
	} else {
		log.Warnf("no idempotency key: a retry of this step cannot tell whether its transaction was sent")
	}
	if t.prepare != nil {
		if t, err = t.prepare(ctx, cl); err != nil {
			return nil, err
		}
	}
	rec, err := p.send(ctx, cl, cfg, s, st, req, t, log)
	if err != nil {
		return nil, err
	}
	if !t.wait {
		return pendingOutputs(rec), nil
	}
	return await(ctx, cl, rec, t, rp, log)
}

// send signs a new transaction, records it, then sends it.
func (p *Plugin) send(ctx context.Context, cl *ethclient.Client, cfg *config, s *signer, st store, req sdk.Request, t txSpec, log sdk.Logger) (*record, error) {
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	if t.to != nil {
		code, err := cl.CodeAt(ctx, *t.to, nil)
		if err != nil {
			return nil, rpcError(t.op+": read the contract's code", err)
		}
		if len(code) == 0 {
			return nil, sdk.NotFound("contract: %s: there is no contract at %s on chain %s; nothing was sent", t.op, t.to.Hex(), cfg.chainID)
		}
	}
	nonce, err := cl.PendingNonceAt(ctx, s.address)
	if err != nil {
		return nil, rpcError(t.op+": read the signer's nonce", err)
	}
	gas := t.gas
	if gas == 0 {
		est, err := cl.EstimateGas(ctx, ethereum.CallMsg{From: s.address, To: t.to, Value: t.value, Data: t.data})
		switch {
		case err != nil && isRevert(err):
			return nil, notSent(revertError(t.op, t.abi, err))
		case err != nil && isInsufficientFunds(err):
			return nil, fundsError(ctx, cl, t.op, s.address, t.value)
		case err != nil:
			return nil, rpcError(t.op+": estimate gas", err)
		}
		gas = est + est/5
	}
	txdata, maxFee, tip, err := fees(ctx, cl, cfg.chainID, nonce, gas, t)
	if err != nil {
		return nil, err
	}
	need := new(big.Int).Add(new(big.Int).Mul(new(big.Int).SetUint64(gas), maxFee), t.value)
	bal, err := cl.BalanceAt(ctx, s.address, nil)
	if err != nil {
		return nil, rpcError(t.op+": read the signer's balance", err)
	}
	if bal.Cmp(need) < 0 {
		return nil, fundsError(ctx, cl, t.op, s.address, need)
	}
	tx, err := types.SignNewTx(s.key, types.LatestSignerForChainID(cfg.chainID), txdata)
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("contract: %s: sign: %w", t.op, err))
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("contract: %s: encode: %w", t.op, err))
	}
	rec := &record{
		Key: req.IdempotencyKey, Action: t.action, Step: req.StepID, ChainID: cfg.chainID.String(),
		From: s.address.Hex(), Nonce: nonce, Created: time.Now().UTC(),
	}
	first := sent{Hash: tx.Hash().Hex(), Raw: hexutil.Encode(raw), MaxFee: maxFee.String(), At: rec.Created}
	if tip != nil {
		first.Tip = tip.String()
	}
	rec.add(first)
	if t.safe != nil {
		n := t.safe.nonce
		rec.SafeTxHash, rec.SafeNonce = t.safe.hash.Hex(), &n
		for _, a := range t.safe.signers {
			rec.Signers = append(rec.Signers, a.Hex())
		}
	}
	if t.to != nil {
		rec.To = t.to.Hex()
	} else {
		rec.Contract = crypto.CreateAddress(s.address, nonce).Hex()
	}
	if rec.Key != "" {
		if err := st.put(rec); err != nil {
			return nil, err
		}
	}
	if t.safe != nil {
		log.Printf("Safe transaction %s signed by %d owner(s): %s", rec.SafeTxHash, len(rec.Signers), strings.Join(rec.Signers, ", "))
	}
	log.Printf("sending %s from %s: nonce %d, gas limit %d, max fee %s gwei%s", t.op, rec.From, nonce, gas, gwei(maxFee), tipText(tip))
	if err := cl.SendTransaction(ctx, tx); err != nil && !isAlreadyKnown(err) {
		return nil, sendError(ctx, cl, t, s.address, need, err)
	}
	log.Printf("sent transaction %s", rec.Hash)
	return rec, nil
}

// fees builds the unsigned transaction with fees from the node: EIP-1559
// (max fee twice the base fee plus the suggested tip) where the chain has
// a base fee, a legacy gas price otherwise. It returns the most a unit of
// gas may cost and the tip (nil for a legacy transaction), both within
// max_fee_gwei.
func fees(ctx context.Context, cl *ethclient.Client, chainID *big.Int, nonce, gas uint64, t txSpec) (types.TxData, *big.Int, *big.Int, error) {
	head, err := cl.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, nil, nil, rpcError(t.op+": read the latest block", err)
	}
	if head.BaseFee == nil {
		price, err := cl.SuggestGasPrice(ctx)
		if err != nil {
			return nil, nil, nil, rpcError(t.op+": read the gas price", err)
		}
		if price, _, err = t.fee.capFees(t.op, nil, price, nil); err != nil {
			return nil, nil, nil, err
		}
		return &types.LegacyTx{Nonce: nonce, GasPrice: price, Gas: gas, To: t.to, Value: t.value, Data: t.data}, price, nil, nil
	}
	tip, err := cl.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, nil, nil, rpcError(t.op+": read the gas tip", err)
	}
	feeCap := new(big.Int).Add(tip, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	if feeCap, tip, err = t.fee.capFees(t.op, head.BaseFee, feeCap, tip); err != nil {
		return nil, nil, nil, err
	}
	return &types.DynamicFeeTx{
		ChainID: chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap,
		Gas: gas, To: t.to, Value: t.value, Data: t.data,
	}, feeCap, tip, nil
}

// txState is what the node knows of a recorded transaction.
type txState int

const (
	txMined    txState = iota // it has a receipt
	txPending                 // the node has it but it is not mined yet
	txReplaced                // unknown, and its nonce went to another transaction
	txLost                    // unknown, and its nonce is still free
)

// lookup asks the node about every transaction rec sent for its nonce
// (the first and its replacements); at most one of them can be mined.
func lookup(ctx context.Context, cl *ethclient.Client, rec *record) (txState, *types.Receipt, error) {
	if r, err := minedOne(ctx, cl, rec); err != nil || r != nil {
		return txMined, r, err
	}
	for _, h := range rec.hashes() {
		if _, _, err := cl.TransactionByHash(ctx, common.HexToHash(h)); err == nil {
			return txPending, nil, nil
		} else if !notYet(err) {
			return 0, nil, rpcError("look up transaction "+h, err)
		}
	}
	n, err := cl.NonceAt(ctx, common.HexToAddress(rec.From), nil)
	if err != nil {
		return 0, nil, rpcError("read the nonce of "+rec.From, err)
	}
	if n <= rec.Nonce {
		return txLost, nil, nil
	}
	// The nonce is used: by one of ours if it was mined meanwhile.
	if r, err := minedOne(ctx, cl, rec); err != nil || r != nil {
		return txMined, r, err
	}
	return txReplaced, nil, nil
}

// minedOne returns the receipt of whichever of rec's transactions was
// mined, or nil.
func minedOne(ctx context.Context, cl *ethclient.Client, rec *record) (*types.Receipt, error) {
	for _, h := range rec.hashes() {
		r, err := cl.TransactionReceipt(ctx, common.HexToHash(h))
		if err == nil {
			return r, nil
		}
		if !notYet(err) {
			return nil, rpcError("look up transaction "+h, err)
		}
	}
	return nil, nil
}

// resume handles a step whose earlier attempt recorded rec. done is false
// when a new transaction must be signed: the recorded one reverted, or its
// nonce went to another transaction. Otherwise it never signs anything.
func (p *Plugin) resume(ctx context.Context, cl *ethclient.Client, rec *record, t txSpec, rp *replacer, log sdk.Logger) (map[string]any, bool, error) {
	state, r, err := lookup(ctx, cl, rec)
	if err != nil {
		return nil, true, err
	}
	switch state {
	case txMined:
		if r.Status != types.ReceiptStatusSuccessful {
			log.Warnf("transaction %s of an earlier attempt reverted in block %s; signing a new one", rec.Hash, r.BlockNumber)
			return nil, false, nil
		}
		log.Printf("transaction %s of an earlier attempt was mined in block %s; not sending another", r.TxHash.Hex(), r.BlockNumber)
	case txPending:
		log.Printf("transaction %s of an earlier attempt is pending (sent for nonce %d: %s); waiting for it instead of sending another", rec.Hash, rec.Nonce, strings.Join(rec.hashes(), ", "))
	case txReplaced:
		log.Warnf("nonce %d of the earlier attempt's transaction %s went to another transaction; signing a new one", rec.Nonce, rec.Hash)
		return nil, false, nil
	case txLost:
		if err := rebroadcast(ctx, cl, rec, t); err != nil {
			return nil, true, err
		}
		log.Printf("re-sent the signed transaction %s of an earlier attempt (nonce %d): the node did not have it", rec.Hash, rec.Nonce)
	}
	if !t.wait {
		return pendingOutputs(rec), true, nil
	}
	out, err := await(ctx, cl, rec, t, rp, log)
	return out, true, err
}

// rebroadcast sends rec's signed bytes again: the same nonce and hash, so
// it can be mined at most once however often it is sent.
func rebroadcast(ctx context.Context, cl *ethclient.Client, rec *record, t txSpec) error {
	raw, err := hexutil.Decode(rec.Raw)
	if err != nil {
		return sdk.Permanent(fmt.Errorf("contract: transaction record of %s is damaged: %w", rec.Hash, err))
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(raw); err != nil {
		return sdk.Permanent(fmt.Errorf("contract: transaction record of %s is damaged: %w", rec.Hash, err))
	}
	if err := cl.SendTransaction(ctx, &tx); err != nil && !isAlreadyKnown(err) {
		if isNonceTooLow(err) {
			// Mined (or replaced) between the lookup and now: the next
			// attempt's lookup tells which.
			return sdk.Retryable(fmt.Errorf("contract: %s: re-send %s: %w", t.op, rec.Hash, err))
		}
		return rpcError(t.op+": re-send "+rec.Hash, err)
	}
	return nil
}

// await waits for the receipt of rec's transaction (or of one of its
// replacements) and its confirmations. A reverted transaction is an error
// with the decoded reason. With bump_after, a transaction not mined in
// time is replaced with higher fees on its nonce, up to max_fee_gwei.
func await(ctx context.Context, cl *ethclient.Client, rec *record, t txSpec, rp *replacer, log sdk.Logger) (map[string]any, error) {
	delay, told := pollMin, false
	lastSend := time.Now()
	for {
		r, err := minedOne(ctx, cl, rec)
		if err == nil && r == nil {
			err = ethereum.NotFound
		}
		switch {
		case err == nil && r.Status != types.ReceiptStatusSuccessful:
			return nil, revertedOnChain(ctx, cl, rec, t, r)
		case err == nil && t.confirmations <= 1:
			log.Printf("mined in block %s, gas used %d", r.BlockNumber, r.GasUsed)
			return minedOutputs(rec, r), nil
		case err == nil:
			head, err := cl.BlockNumber(ctx)
			if err != nil {
				return nil, rpcError(t.op+": read the block number", err)
			}
			if head+1 >= r.BlockNumber.Uint64()+t.confirmations {
				log.Printf("mined in block %s, gas used %d, %d confirmations", r.BlockNumber, r.GasUsed, head+1-r.BlockNumber.Uint64())
				return minedOutputs(rec, r), nil
			}
			if !told {
				log.Printf("mined in block %s; waiting for %d confirmations", r.BlockNumber, t.confirmations)
				told = true
			}
		case !notYet(err):
			return nil, rpcError(t.op+": wait for transaction "+rec.Hash, err)
		case rp != nil && rp.policy.after > 0 && time.Since(lastSend) >= rp.policy.after:
			ok, err := rp.replace(ctx, cl, rec, t, log)
			if err != nil {
				return nil, err
			}
			if !ok {
				// One last look: the last replacement may have just been mined.
				if r, err := minedOne(ctx, cl, rec); err == nil && r != nil {
					continue
				}
				return nil, capReached(t, rec, rp.policy)
			}
			lastSend, delay = time.Now(), pollMin
			continue
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("contract: %s: waiting for transaction %s (sent for nonce %d: %s; any may still be mined; the next attempt picks it up): %w", t.op, rec.Hash, rec.Nonce, strings.Join(rec.hashes(), ", "), ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*3/2, pollMax)
	}
}

// revertedOnChain explains a mined transaction with status 0: out of gas,
// or the reason the call gives when replayed on the state before its block
// or, when that succeeds (an earlier transaction in the same block changed
// the state), on the state after it.
func revertedOnChain(ctx context.Context, cl *ethclient.Client, rec *record, t txSpec, r *types.Receipt) error {
	op := fmt.Sprintf("%s: transaction %s reverted in block %s", t.op, r.TxHash.Hex(), r.BlockNumber)
	tx, _, err := cl.TransactionByHash(ctx, r.TxHash)
	if err == nil && r.GasUsed >= tx.Gas() {
		return sdk.Permanent(fmt.Errorf("contract: %s: it ran out of gas (gas limit %d): raise gas_limit", op, tx.Gas()))
	}
	msg := ethereum.CallMsg{From: common.HexToAddress(rec.From), To: t.to, Value: t.value, Data: t.data}
	if err == nil {
		// Replay what was sent: a resumed call through a Safe has no
		// calldata of its own until it is prepared.
		msg.To, msg.Value, msg.Data, msg.Gas = tx.To(), tx.Value(), tx.Data(), tx.Gas()
	}
	for _, at := range []*big.Int{new(big.Int).Sub(r.BlockNumber, big.NewInt(1)), r.BlockNumber} {
		if _, err := cl.CallContract(ctx, msg, at); err != nil && isRevert(err) {
			e := revertError(op, t.abi, err)
			return sdk.Errorf(sdk.KindOf(e), "%s", strings.Replace(e.Error(), ": reverted: ", ": ", 1))
		}
	}
	return sdk.Conflict("contract: %s (no reason available: the call succeeds when replayed)", op)
}

func minedOutputs(rec *record, r *types.Receipt) map[string]any {
	out := map[string]any{
		"tx_hash":  r.TxHash.Hex(),
		"from":     rec.From,
		"nonce":    int(rec.Nonce),
		"block":    int(r.BlockNumber.Int64()),
		"gas_used": int(r.GasUsed),
		"status":   "success",
	}
	if rec.Action == "deploy" {
		out["address"] = r.ContractAddress.Hex()
	}
	addSent(out, rec, r.TxHash.Hex())
	return out
}

// addSent adds every hash sent for the nonce, the fee of hash, and a Safe
// call's details to a step's outputs.
func addSent(out map[string]any, rec *record, hash string) {
	hashes := rec.hashes()
	list := make([]any, len(hashes))
	for i, h := range hashes {
		list[i] = h
	}
	out["tx_hashes"] = list
	for _, s := range rec.Sent {
		if s.Hash == hash {
			if fee, ok := new(big.Int).SetString(s.MaxFee, 10); ok {
				f, _ := new(big.Rat).SetFrac(fee, big.NewInt(1e9)).Float64()
				out["max_fee_gwei"] = f
			}
		}
	}
	if rec.SafeNonce != nil {
		out["safe_tx_hash"] = rec.SafeTxHash
		out["safe_nonce"] = int(*rec.SafeNonce)
		signers := make([]any, len(rec.Signers))
		for i, s := range rec.Signers {
			signers[i] = s
		}
		out["signers"] = signers
	}
}

func pendingOutputs(rec *record) map[string]any {
	out := map[string]any{
		"tx_hash":  rec.Hash,
		"from":     rec.From,
		"nonce":    int(rec.Nonce),
		"block":    0,
		"gas_used": 0,
		"status":   "pending",
	}
	if rec.Action == "deploy" {
		out["address"] = rec.Contract
	}
	addSent(out, rec, rec.Hash)
	return out
}

// fundsError reports a signer that cannot pay need wei: permanent, since
// only funding the signer helps.
func fundsError(ctx context.Context, cl *ethclient.Client, op string, from common.Address, need *big.Int) error {
	have := "an unknown balance"
	if bal, err := cl.BalanceAt(ctx, from, nil); err == nil {
		have = fmt.Sprintf("%s ether (%s wei)", formatEther(bal), bal)
	}
	return sdk.Permanent(fmt.Errorf("contract: %s: insufficient funds: the signer %s has %s but needs up to %s ether (%s wei) for gas and value; fund the signer and retry; nothing was sent",
		op, from.Hex(), have, formatEther(need), need))
}

// sendError classifies a refused eth_sendRawTransaction.
func sendError(ctx context.Context, cl *ethclient.Client, t txSpec, from common.Address, need *big.Int, err error) error {
	switch {
	case isInsufficientFunds(err):
		return fundsError(ctx, cl, t.op, from, need)
	case isNonceTooLow(err):
		return sdk.Retryable(fmt.Errorf("contract: %s: another transaction from %s took the nonce; the next attempt signs with a fresh one: %w", t.op, from.Hex(), err))
	case strings.Contains(strings.ToLower(err.Error()), "underpriced"), strings.Contains(err.Error(), "fee cap"):
		return sdk.Retryable(fmt.Errorf("contract: %s: the node refused the fees: %w", t.op, err))
	}
	return rpcError(t.op+": send", err)
}

// notSent adds that nothing reached the chain to a pre-flight failure.
func notSent(err error) error {
	return sdk.Errorf(sdk.KindOf(err), "%s (nothing was sent)", err.Error())
}

func notYet(err error) bool {
	return errors.Is(err, ethereum.NotFound) || strings.Contains(err.Error(), "indexing is in progress")
}

func isInsufficientFunds(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "insufficient funds")
}

func isNonceTooLow(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "nonce too low")
}

func isAlreadyKnown(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "already known") || strings.Contains(msg, "known transaction") || strings.Contains(msg, "already imported")
}

func gwei(wei *big.Int) string {
	s := new(big.Rat).SetFrac(wei, big.NewInt(1e9)).FloatString(9)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
