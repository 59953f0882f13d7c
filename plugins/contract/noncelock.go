package contract

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/sys/unix"
)

// lockPoll is how often a step waiting for a nonce lock tries again.
const lockPoll = 100 * time.Millisecond

// lockNonce takes the advisory lock of (chain, sender) in the state folder
// and returns its release. A step holds it from choosing its nonce until
// its transaction is mined (or the step gives up), so two runs, in two
// processes or one, never sign two transactions for one nonce: the second
// waits, then reads the pending nonce after the first is mined. The lock
// is an flock(2) on its own open file, so the kernel drops it when the
// holder dies.
func lockNonce(ctx context.Context, dir string, chainID *big.Int, from common.Address, step string, log sdk.Logger) (func(), error) {
	locks := filepath.Join(dir, "locks")
	if err := os.MkdirAll(locks, 0o700); err != nil {
		return nil, sdk.Permanent(fmt.Errorf("contract: nonce lock folder: %w", err))
	}
	path := filepath.Join(locks, fmt.Sprintf("%s-%s.lock", chainID, from.Hex()))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("contract: nonce lock: %w", err))
	}
	told := false
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, sdk.Permanent(fmt.Errorf("contract: nonce lock %s: %w", path, err))
		}
		if !told {
			holder, _ := os.ReadFile(path)
			log.Printf("waiting for the nonce lock of %s on chain %s, held by %s, until its transaction is mined", from.Hex(), chainID, describeHolder(holder))
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("contract: waiting for the nonce lock of %s (another run is sending from it): %w", from.Hex(), ctx.Err())
		case <-time.After(lockPoll):
		}
	}
	// Say who holds it, for the next waiter's message.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d, step %s, since %s\n", os.Getpid(), step, time.Now().UTC().Format(time.RFC3339))), 0)
	}
	return func() {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

func describeHolder(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" || len(s) > 200 {
		return "another run"
	}
	return "another run (" + s + ")"
}
