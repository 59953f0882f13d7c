package contract

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

// record is what the plugin writes about a step's transaction before the
// transaction leaves the process. The raw transaction is signed and public
// once sent; it holds no key.
type record struct {
	Key      string    `json:"idempotency_key"`
	Action   string    `json:"action"`
	Step     string    `json:"step,omitempty"`
	ChainID  string    `json:"chain_id"`
	From     string    `json:"from"`
	To       string    `json:"to,omitempty"`       // empty for a deployment
	Contract string    `json:"contract,omitempty"` // a deployment's address
	Nonce    uint64    `json:"nonce"`
	Hash     string    `json:"tx_hash"`
	Raw      string    `json:"raw_tx"` // the signed transaction, 0x…
	Created  time.Time `json:"created"`
	// Sent is every transaction signed for Nonce, first to last: Hash and
	// Raw are the last. Replacements with higher fees are added before
	// they leave the process, so a lookup after a crash asks for them all.
	Sent []sent `json:"sent,omitempty"`
	// SafeTxHash and SafeNonce describe a call made through a Safe.
	SafeTxHash string   `json:"safe_tx_hash,omitempty"`
	SafeNonce  *uint64  `json:"safe_nonce,omitempty"`
	Signers    []string `json:"signers,omitempty"`
}

// sent is one signed transaction for a record's nonce.
type sent struct {
	Hash   string    `json:"tx_hash"`
	Raw    string    `json:"raw_tx"`
	MaxFee string    `json:"max_fee_wei"` // maxFeePerGas, or gasPrice
	Tip    string    `json:"tip_wei,omitempty"`
	At     time.Time `json:"at"`
}

// hashes is every hash sent for the record's nonce, first to last. A
// record written before replacements existed has only Hash.
func (r *record) hashes() []string {
	if len(r.Sent) == 0 {
		return []string{r.Hash}
	}
	out := make([]string, len(r.Sent))
	for i, s := range r.Sent {
		out[i] = s.Hash
	}
	return out
}

// add records t as the latest transaction for the nonce.
func (r *record) add(t sent) {
	r.Sent = append(r.Sent, t)
	r.Hash, r.Raw = t.Hash, t.Raw
}

// store keeps one record per chain and idempotency key, a file each.
type store struct {
	dir     string
	chainID *big.Int
}

func (s store) path(key string) string {
	sum := sha256.Sum256([]byte(s.chainID.String() + "\x00" + key))
	return filepath.Join(s.dir, hex.EncodeToString(sum[:16])+".json")
}

// get returns the record for key, or nil.
func (s store) get(key string) (*record, error) {
	b, err := os.ReadFile(s.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("contract: read transaction record: %w", err))
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil || r.Key != key {
		return nil, sdk.Permanent(fmt.Errorf("contract: transaction record %s is damaged; inspect it before re-running the step", s.path(key)))
	}
	return &r, nil
}

// put writes r durably (temporary file, fsync, rename, fsync of the
// folder), so a crash right after put still finds it.
func (s store) put(r *record) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return sdk.Permanent(fmt.Errorf("contract: state_dir: %w", err))
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return sdk.Permanent(err)
	}
	final := s.path(r.Key)
	tmp, err := os.CreateTemp(s.dir, ".record-*")
	if err != nil {
		return sdk.Permanent(fmt.Errorf("contract: write transaction record: %w", err))
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return sdk.Permanent(fmt.Errorf("contract: write transaction record: %w", err))
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return sdk.Permanent(fmt.Errorf("contract: write transaction record: %w", err))
	}
	if err := tmp.Close(); err != nil {
		return sdk.Permanent(fmt.Errorf("contract: write transaction record: %w", err))
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return sdk.Permanent(fmt.Errorf("contract: write transaction record: %w", err))
	}
	if d, err := os.Open(s.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
