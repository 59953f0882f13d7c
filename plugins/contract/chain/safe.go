package chain

import (
	"context"
	"fmt"
	"math/big"

	"github.com/alpha-orion/runbook/plugins/contract/artifact"
	"github.com/ethereum/go-ethereum/common"
)

// DeploySafe deploys a Safe multisig the way Safe's own factory does: the
// Safe singleton (the logic), a SafeProxy pointing at it, then the proxy's
// setup(owners, threshold, …) with no modules, fallback handler or payment.
// safe and proxy are the Safe and SafeProxy artifacts of
// @safe-global/safe-smart-account. It returns the proxy, which is the Safe.
func (c *Chain) DeploySafe(ctx context.Context, safe, proxy *artifact.Artifact, owners []common.Address, threshold int) (common.Address, error) {
	if threshold < 1 || threshold > len(owners) {
		return common.Address{}, fmt.Errorf("chain: deploy Safe: threshold %d with %d owners", threshold, len(owners))
	}
	singleton, err := c.Deploy(ctx, nil, safe)
	if err != nil {
		return common.Address{}, fmt.Errorf("chain: deploy the Safe singleton: %w", err)
	}
	addr, err := c.Deploy(ctx, nil, proxy, singleton)
	if err != nil {
		return common.Address{}, fmt.Errorf("chain: deploy the Safe proxy: %w", err)
	}
	var zero common.Address
	data, err := safe.ABI.Pack("setup", owners, big.NewInt(int64(threshold)), zero, []byte{}, zero, zero, new(big.Int), zero)
	if err != nil {
		return common.Address{}, fmt.Errorf("chain: Safe setup: %w", err)
	}
	if _, err := c.Transact(ctx, nil, &addr, nil, data); err != nil {
		return common.Address{}, fmt.Errorf("chain: Safe setup: %w", err)
	}
	return addr, nil
}
