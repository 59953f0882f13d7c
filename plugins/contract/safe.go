package contract

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// safeABI is the part of the Safe (v1.3 and later) interface the plugin
// uses, from the Safe's published ABI.
const safeABI = `[
 {"type":"function","name":"getOwners","inputs":[],"outputs":[{"name":"","type":"address[]"}],"stateMutability":"view"},
 {"type":"function","name":"getThreshold","inputs":[],"outputs":[{"name":"","type":"uint256"}],"stateMutability":"view"},
 {"type":"function","name":"nonce","inputs":[],"outputs":[{"name":"","type":"uint256"}],"stateMutability":"view"},
 {"type":"function","name":"getTransactionHash","inputs":[{"name":"to","type":"address"},{"name":"value","type":"uint256"},{"name":"data","type":"bytes"},{"name":"operation","type":"uint8"},{"name":"safeTxGas","type":"uint256"},{"name":"baseGas","type":"uint256"},{"name":"gasPrice","type":"uint256"},{"name":"gasToken","type":"address"},{"name":"refundReceiver","type":"address"},{"name":"_nonce","type":"uint256"}],"outputs":[{"name":"","type":"bytes32"}],"stateMutability":"view"},
 {"type":"function","name":"execTransaction","inputs":[{"name":"to","type":"address"},{"name":"value","type":"uint256"},{"name":"data","type":"bytes"},{"name":"operation","type":"uint8"},{"name":"safeTxGas","type":"uint256"},{"name":"baseGas","type":"uint256"},{"name":"gasPrice","type":"uint256"},{"name":"gasToken","type":"address"},{"name":"refundReceiver","type":"address"},{"name":"signatures","type":"bytes"}],"outputs":[{"name":"success","type":"bool"}],"stateMutability":"payable"}
]`

var parsedSafeABI = func() abi.ABI {
	a, err := abi.JSON(strings.NewReader(safeABI))
	if err != nil {
		panic(err)
	}
	return a
}()

// safeCall is a Safe transaction, signed by enough owners, and the call
// to execTransaction that executes it.
type safeCall struct {
	nonce   uint64
	hash    common.Hash
	signers []common.Address
	data    []byte // execTransaction's calldata
}

// safeTx builds the Safe transaction of c (a plain call: no delegatecall,
// no gas refund), has the owners' keys named in cfg sign it, and returns
// the execTransaction call. It refuses, signing nothing, when the Safe is
// not one, when a key is not an owner's, when fewer keys than the Safe's
// threshold are given, or when the call would revert as the Safe makes it.
func (p *Plugin) safeTx(ctx context.Context, cl *ethclient.Client, cfg *config, safe common.Address, c *callInputs) (*safeCall, error) {
	op := fmt.Sprintf("call %s on %s through the Safe %s", c.display(), c.to.Hex(), safe.Hex())
	paths := filepath.SplitList(os.Getenv(cfg.ownerKeysEnv))
	if len(paths) == 0 {
		return nil, sdk.Unauthenticated("contract: %s: no owner keys: set %s to the paths of the Safe owners' key files, separated by %q", op, cfg.ownerKeysEnv, string(os.PathListSeparator))
	}
	code, err := cl.CodeAt(ctx, safe, nil)
	if err != nil {
		return nil, rpcError(op+": read the Safe's code", err)
	}
	if len(code) == 0 {
		return nil, sdk.NotFound("contract: %s: there is no contract at %s on chain %s; nothing was signed", op, safe.Hex(), cfg.chainID)
	}
	var owners []common.Address
	var threshold, nonce *big.Int
	for _, r := range []struct {
		method string
		into   any
	}{{"getOwners", &owners}, {"getThreshold", &threshold}, {"nonce", &nonce}} {
		if err := safeRead(ctx, cl, safe, r.method, r.into); err != nil {
			return nil, sdk.Errorf(sdk.KindOf(err), "contract: %s: is %s a Safe? %s() failed: %v; nothing was signed", op, safe.Hex(), r.method, err)
		}
	}
	if threshold.Sign() <= 0 || !threshold.IsInt64() || threshold.Int64() > int64(len(owners)) {
		return nil, sdk.Permanent(fmt.Errorf("contract: %s: the Safe reports threshold %s with %d owners; nothing was signed", op, threshold, len(owners)))
	}
	isOwner := map[common.Address]bool{}
	for _, o := range owners {
		isOwner[o] = true
	}
	keys := map[common.Address]*signer{}
	for i, path := range paths {
		k, err := readKeyFile(path, cfg.ownerKeysEnv, cfg.ownerPasswordEnv, "Safe owner")
		if err != nil {
			return nil, err
		}
		if !isOwner[k.address] {
			return nil, sdk.Errorf(sdk.KindPermissionDenied, "contract: %s: key file %d of %s is for %s, which is not an owner of the Safe (owners: %s); nothing was signed", op, i+1, cfg.ownerKeysEnv, k.address.Hex(), addrList(owners))
		}
		if keys[k.address] == nil {
			keys[k.address] = k
		}
	}
	need := int(threshold.Int64())
	if len(keys) < need {
		return nil, sdk.Errorf(sdk.KindPermissionDenied, "contract: %s: the Safe needs %d owner signatures (threshold %d of %d owners), but only %d owner key(s) are given in %s; nothing was signed",
			op, need, need, len(owners), len(keys), cfg.ownerKeysEnv)
	}

	// The call as the Safe would make it: a revert here is the contract's
	// own reason, which execTransaction would hide behind GS013.
	if _, err := cl.CallContract(ctx, ethereum.CallMsg{From: safe, To: &c.to, Value: c.value, Data: c.data}, nil); err != nil {
		if isRevert(err) {
			return nil, notSigned(revertError(op, c.abi, err))
		}
		return nil, rpcError(op+": simulate the call", err)
	}

	var zero common.Address
	hash, err := safeTxHash(cfg.chainID, safe, c.to, c.value, c.data, nonce)
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("contract: %s: EIP-712 hash: %w", op, err))
	}
	// The Safe computes the same hash, or it is a version whose typed data
	// differs and its owners' signatures would not verify.
	var onChain [32]byte
	if err := safeRead(ctx, cl, safe, "getTransactionHash", &onChain, c.to, c.value, c.data, uint8(0), new(big.Int), new(big.Int), new(big.Int), zero, zero, nonce); err != nil {
		return nil, sdk.Errorf(sdk.KindOf(err), "contract: %s: getTransactionHash: %v; nothing was signed", op, err)
	}
	if common.Hash(onChain) != hash {
		return nil, sdk.Permanent(fmt.Errorf("contract: %s: the Safe's transaction hash %s differs from the EIP-712 hash %s of a v1.3+ Safe transaction (an older Safe?); nothing was signed", op, common.Hash(onChain).Hex(), hash.Hex()))
	}

	// Signatures of the first `need` owners by address, in ascending
	// order, as the Safe's checkNSignatures requires: r, s, v (27 or 28).
	signers := make([]common.Address, 0, len(keys))
	for a := range keys {
		signers = append(signers, a)
	}
	sort.Slice(signers, func(i, j int) bool { return bytes.Compare(signers[i][:], signers[j][:]) < 0 })
	signers = signers[:need]
	var sigs []byte
	for _, a := range signers {
		sig, err := crypto.Sign(hash[:], keys[a].key)
		if err != nil {
			return nil, sdk.Permanent(fmt.Errorf("contract: %s: sign as %s: %w", op, a.Hex(), err))
		}
		sig[64] += 27
		sigs = append(sigs, sig...)
	}
	data, err := parsedSafeABI.Pack("execTransaction", c.to, c.value, c.data, uint8(0), new(big.Int), new(big.Int), new(big.Int), zero, zero, sigs)
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("contract: %s: encode execTransaction: %w", op, err))
	}
	return &safeCall{nonce: nonce.Uint64(), hash: hash, signers: signers, data: data}, nil
}

// safeTxHash is the EIP-712 hash of a Safe transaction (v1.3+: the domain
// is the chain id and the Safe's address) calling to with value and data.
func safeTxHash(chainID *big.Int, safe, to common.Address, value *big.Int, data []byte, nonce *big.Int) (common.Hash, error) {
	td := apitypes.TypedData{
		Types: apitypes.Types{
			"EIP712Domain": {{Name: "chainId", Type: "uint256"}, {Name: "verifyingContract", Type: "address"}},
			"SafeTx": {
				{Name: "to", Type: "address"}, {Name: "value", Type: "uint256"}, {Name: "data", Type: "bytes"},
				{Name: "operation", Type: "uint8"}, {Name: "safeTxGas", Type: "uint256"}, {Name: "baseGas", Type: "uint256"},
				{Name: "gasPrice", Type: "uint256"}, {Name: "gasToken", Type: "address"}, {Name: "refundReceiver", Type: "address"},
				{Name: "nonce", Type: "uint256"},
			},
		},
		PrimaryType: "SafeTx",
		Domain:      apitypes.TypedDataDomain{ChainId: (*math.HexOrDecimal256)(chainID), VerifyingContract: safe.Hex()},
		Message: apitypes.TypedDataMessage{
			"to": to.Hex(), "value": value.String(), "data": hexutil.Encode(data),
			"operation": "0", "safeTxGas": "0", "baseGas": "0", "gasPrice": "0",
			"gasToken": common.Address{}.Hex(), "refundReceiver": common.Address{}.Hex(),
			"nonce": nonce.String(),
		},
	}
	h, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		return common.Hash{}, err
	}
	return common.BytesToHash(h), nil
}

// safeRead calls a view function of the Safe and decodes its one result.
func safeRead(ctx context.Context, cl *ethclient.Client, safe common.Address, method string, into any, args ...any) error {
	data, err := parsedSafeABI.Pack(method, args...)
	if err != nil {
		return sdk.Permanent(err)
	}
	out, err := cl.CallContract(ctx, ethereum.CallMsg{To: &safe, Data: data}, nil)
	if err != nil {
		return rpcError(method, err)
	}
	vals, err := parsedSafeABI.Unpack(method, out)
	if err != nil || len(vals) != 1 {
		return sdk.Permanent(fmt.Errorf("cannot decode %s()'s result: %v", method, err))
	}
	switch dst := into.(type) {
	case *[]common.Address:
		v, ok := vals[0].([]common.Address)
		if !ok {
			return sdk.Permanent(fmt.Errorf("%s() returned %T", method, vals[0]))
		}
		*dst = v
	case **big.Int:
		v, ok := vals[0].(*big.Int)
		if !ok {
			return sdk.Permanent(fmt.Errorf("%s() returned %T", method, vals[0]))
		}
		*dst = v
	case *[32]byte:
		v, ok := vals[0].([32]byte)
		if !ok {
			return sdk.Permanent(fmt.Errorf("%s() returned %T", method, vals[0]))
		}
		*dst = v
	}
	return nil
}

func addrList(as []common.Address) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.Hex()
	}
	return strings.Join(s, ", ")
}

// notSigned adds that nothing was signed to a pre-flight failure.
func notSigned(err error) error {
	return sdk.Errorf(sdk.KindOf(err), "%s (nothing was signed)", err.Error())
}
