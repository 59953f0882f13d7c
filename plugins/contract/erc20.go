package contract

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
)

// erc20ABI is the part of the ERC-20 interface (EIP-20) balance reads.
var erc20ABI = func() abi.ABI {
	a, err := abi.JSON(strings.NewReader(`[
 {"type":"function","name":"balanceOf","inputs":[{"name":"owner","type":"address"}],"outputs":[{"name":"","type":"uint256"}],"stateMutability":"view"},
 {"type":"function","name":"decimals","inputs":[],"outputs":[{"name":"","type":"uint8"}],"stateMutability":"view"}
]`))
	if err != nil {
		panic(err)
	}
	return a
}()

// tokenBalance reads holder's balance of token and the token's decimals
// (18 when it has no decimals(), which EIP-20 makes optional).
func tokenBalance(ctx context.Context, cl *ethclient.Client, token, holder common.Address) (*big.Int, uint8, error) {
	op := fmt.Sprintf("read balanceOf(%s) from the token %s", holder.Hex(), token.Hex())
	data, _ := erc20ABI.Pack("balanceOf", holder)
	out, err := cl.CallContract(ctx, ethereum.CallMsg{To: &token, Data: data}, nil)
	if err != nil {
		return nil, 0, rpcError(op, err)
	}
	vals, err := erc20ABI.Unpack("balanceOf", out)
	if err != nil || len(vals) != 1 {
		if code, cerr := cl.CodeAt(ctx, token, nil); cerr == nil && len(code) == 0 {
			return nil, 0, sdk.NotFound("contract: %s: there is no contract at %s", op, token.Hex())
		}
		return nil, 0, sdk.Permanent(fmt.Errorf("contract: %s: not an ERC-20 balance (is %s a token?)", op, token.Hex()))
	}
	bal, _ := vals[0].(*big.Int)
	dec := uint8(18)
	data, _ = erc20ABI.Pack("decimals")
	if out, err := cl.CallContract(ctx, ethereum.CallMsg{To: &token, Data: data}, nil); err == nil {
		if v, err := erc20ABI.Unpack("decimals", out); err == nil && len(v) == 1 {
			dec, _ = v[0].(uint8)
		}
	}
	return bal, dec, nil
}
