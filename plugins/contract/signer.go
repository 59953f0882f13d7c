package contract

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"io"
	"os"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// maxKeyFile bounds a key file; a keystore is about 500 bytes.
const maxKeyFile = 64 << 10

// signer is the account that signs the plugin's transactions.
type signer struct {
	address common.Address
	key     *ecdsa.PrivateKey
	file    string
	// looseMode is set when others may read the key file.
	looseMode bool
}

// loadSigner reads the key file the environment names. Its errors name
// the variable and the file, never the file's content.
func (p *Plugin) loadSigner(cfg *config) (*signer, error) {
	p.mu.Lock()
	s := p.signer
	p.mu.Unlock()
	if s != nil {
		return s, nil
	}
	s, err := readSigner(cfg)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg == cfg {
		p.signer = s
	}
	return s, nil
}

func readSigner(cfg *config) (*signer, error) {
	return readKey(cfg.keyFileEnv, cfg.passwordEnv, "signer")
}

// readKey reads the key file whose path is in keyEnv, a keystore's
// password in passEnv; role names the key in errors ("signer", "Safe
// owner").
func readKey(keyEnv, passEnv, role string) (*signer, error) {
	path := os.Getenv(keyEnv)
	if path == "" {
		return nil, sdk.Unauthenticated("contract: no %s: set %s to the path of the %s's key file (64 hex digits, or a keystore JSON with its password in %s)", role, keyEnv, role, passEnv)
	}
	return readKeyFile(path, keyEnv, passEnv, role)
}

// readKeyFile reads the key file at path, named in the variable keyEnv.
func readKeyFile(path, keyEnv, passEnv, role string) (*signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, sdk.Unauthenticated("contract: %s key file (from %s): %v", role, keyEnv, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, sdk.Unauthenticated("contract: %s key file %s: %v", role, path, err)
	}
	if len(data) > maxKeyFile {
		return nil, sdk.Unauthenticated("contract: %s key file %s is too large to be a key", role, path)
	}
	s := &signer{file: path}
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		s.looseMode = true
	}
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		s.key, err = decryptKeystore(passEnv, role, path, data)
	} else {
		s.key, err = parseHexKey(role, path, data)
	}
	if err != nil {
		return nil, err
	}
	s.address = crypto.PubkeyToAddress(s.key.PublicKey)
	return s, nil
}

func decryptKeystore(passEnv, role, path string, data []byte) (*ecdsa.PrivateKey, error) {
	password, ok := os.LookupEnv(passEnv)
	if !ok {
		return nil, sdk.Unauthenticated("contract: %s key file %s is a keystore: set %s to its password", role, path, passEnv)
	}
	k, err := keystore.DecryptKey(data, password)
	switch {
	case errors.Is(err, keystore.ErrDecrypt):
		return nil, sdk.Unauthenticated("contract: %s keystore %s: the password in %s does not open it", role, path, passEnv)
	case err != nil:
		// DecryptKey's other errors are about the JSON's structure.
		return nil, sdk.Unauthenticated("contract: %s keystore %s is not a valid V3 keystore", role, path)
	}
	return k.PrivateKey, nil
}

// parseHexKey reads 64 hex digits (0x optional). It reports what is wrong
// without quoting any of it.
func parseHexKey(role, path string, data []byte) (*ecdsa.PrivateKey, error) {
	data = bytes.TrimPrefix(bytes.TrimPrefix(data, []byte("0x")), []byte("0X"))
	bad := sdk.Unauthenticated("contract: %s key file %s holds neither a private key (64 hex digits) nor a keystore (V3 JSON)", role, path)
	if len(data) != 64 {
		return nil, bad
	}
	raw := make([]byte, 32)
	if _, err := hex.Decode(raw, data); err != nil {
		return nil, bad
	}
	key, err := crypto.ToECDSA(raw)
	if err != nil {
		return nil, sdk.Unauthenticated("contract: %s key file %s does not hold a valid secp256k1 private key", role, path)
	}
	return key, nil
}
