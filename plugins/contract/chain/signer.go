package chain

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"
)

// Signer is a fresh account whose key is in a file, as the contract plugin
// reads it.
type Signer struct {
	// Address is the account's address.
	Address common.Address
	// KeyFile is the file holding the key: a hex private key, or a keystore
	// (V3 JSON) when the signer was made by NewKeystoreSigner.
	KeyFile string
	// Key is the private key, for a test that signs in-process.
	Key *ecdsa.PrivateKey
}

// NewSigner makes a fresh account, writes its hex private key to a file
// in dir (mode 0600), and funds it with wei from the faucet (none when wei
// is nil or zero).
func (c *Chain) NewSigner(ctx context.Context, dir string, wei *big.Int) (*Signer, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	s := &Signer{Address: crypto.PubkeyToAddress(key.PublicKey), Key: key}
	s.KeyFile = filepath.Join(dir, s.Address.Hex()+".key")
	if err := WriteKeyFile(s.KeyFile, key); err != nil {
		return nil, err
	}
	return s, c.fundSigner(ctx, s, wei)
}

// NewKeystoreSigner is NewSigner with the key in a keystore file encrypted
// with password (light scrypt parameters, so tests stay fast).
func (c *Chain) NewKeystoreSigner(ctx context.Context, dir, password string, wei *big.Int) (*Signer, error) {
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	s := &Signer{Address: crypto.PubkeyToAddress(key.PublicKey), Key: key}
	s.KeyFile = filepath.Join(dir, s.Address.Hex()+".json")
	if err := WriteKeystore(s.KeyFile, password, key); err != nil {
		return nil, err
	}
	return s, c.fundSigner(ctx, s, wei)
}

func (c *Chain) fundSigner(ctx context.Context, s *Signer, wei *big.Int) error {
	if wei == nil || wei.Sign() == 0 {
		return nil
	}
	return c.Fund(ctx, s.Address, wei)
}

// WriteKeyFile writes key as 64 hex digits and a newline, mode 0600: the
// format of geth's --nodekey and `crypto.LoadECDSA`.
func WriteKeyFile(path string, key *ecdsa.PrivateKey) error {
	text := hex.EncodeToString(crypto.FromECDSA(key)) + "\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return fmt.Errorf("chain: write key file: %w", err)
	}
	return nil
}

// WriteKeystore writes key as a V3 keystore file encrypted with password,
// mode 0600, with light scrypt parameters.
func WriteKeystore(path, password string, key *ecdsa.PrivateKey) error {
	id, err := uuid.NewRandom()
	if err != nil {
		return err
	}
	k := &keystore.Key{Id: id, Address: crypto.PubkeyToAddress(key.PublicKey), PrivateKey: key}
	data, err := keystore.EncryptKey(k, password, keystore.LightScryptN, keystore.LightScryptP)
	if err != nil {
		return fmt.Errorf("chain: encrypt keystore: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("chain: write keystore: %w", err)
	}
	return nil
}
