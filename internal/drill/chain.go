package drill

import (
	"context"
	"embed"
	"fmt"
	"os"
	"path/filepath"

	"github.com/alpha-orion/runbook/plugins/contract/chain"
)

// contractFixtures are the compiled test contracts (FlashLoanArbitrage, its
// patched V2, an ERC-20 token, Safe and SafeProxy), copies of the contract
// plugin's testdata artifacts.
//
//go:embed fixtures/contract/*.json
var contractFixtures embed.FS

// Chain starts (once) a simulated Ethereum chain serving JSON-RPC on loopback.
func (w *World) Chain(ctx context.Context) (*chain.Chain, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.chain != nil {
		return w.chain, nil
	}
	c, err := chain.Start(ctx, chain.Options{})
	if err != nil {
		return nil, fmt.Errorf("drill: start simulated chain: %w", err)
	}
	w.chain = c
	w.closers = append(w.closers, c.Close)
	return c, nil
}

// writeFixtures copies embedded files under prefix into dir and returns dir.
func writeFixtures(fsys embed.FS, prefix, dir string) (string, error) {
	entries, err := fsys.ReadDir(prefix)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, e := range entries {
		data, err := fsys.ReadFile(prefix + "/" + e.Name())
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}
