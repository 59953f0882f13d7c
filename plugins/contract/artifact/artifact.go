// Package artifact reads contract ABIs and compiled artifacts: a bare ABI
// (a JSON array), a Hardhat artifact (`abi`, `bytecode` as a hex string), a
// Foundry artifact (`abi`, `bytecode.object`) or solc's standard JSON output
// for one contract (`abi`, `evm.bytecode.object`).
package artifact

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
)

// MaxSize bounds the file Load reads; real artifacts are well below it.
const MaxSize = 32 << 20

// Artifact is a contract's interface and, when the file has one, its
// creation bytecode.
type Artifact struct {
	// Name is the contract's name when the file gives one.
	Name string
	// ABI is the contract's interface.
	ABI abi.ABI
	// Bytecode is the creation code; empty for a bare ABI or an interface.
	Bytecode []byte
}

// ErrLinkReferences reports bytecode that still has library placeholders.
var ErrLinkReferences = errors.New("bytecode has unlinked library references (__$…$__); link the libraries first")

// Load reads the ABI or artifact at path.
func Load(path string) (*Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxSize+1)); err != nil {
		return nil, err
	}
	if buf.Len() > MaxSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, MaxSize>>20)
	}
	a, err := Parse(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Parse reads an ABI or artifact from its JSON text.
func Parse(data []byte) (*Artifact, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		parsed, err := abi.JSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("not a valid ABI: %w", err)
		}
		return &Artifact{ABI: parsed}, nil
	}
	var raw struct {
		ContractName string          `json:"contractName"`
		ABI          json.RawMessage `json:"abi"`
		Bytecode     json.RawMessage `json:"bytecode"`
		EVM          *struct {
			Bytecode json.RawMessage `json:"bytecode"`
		} `json:"evm"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("neither an ABI (a JSON array) nor an artifact (a JSON object): %w", err)
	}
	if len(raw.ABI) == 0 {
		return nil, errors.New(`artifact has no "abi"`)
	}
	parsed, err := abi.JSON(bytes.NewReader(raw.ABI))
	if err != nil {
		return nil, fmt.Errorf(`artifact's "abi" is not a valid ABI: %w`, err)
	}
	code := raw.Bytecode
	if len(code) == 0 && raw.EVM != nil {
		code = raw.EVM.Bytecode
	}
	bin, err := bytecode(code)
	if err != nil {
		return nil, err
	}
	return &Artifact{Name: raw.ContractName, ABI: parsed, Bytecode: bin}, nil
}

// bytecode decodes "0x…" or {"object": "0x…"}; absent means none.
func bytecode(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var obj struct {
			Object string `json:"object"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, errors.New(`artifact's "bytecode" is neither a hex string nor {"object": hex}`)
		}
		s = obj.Object
	}
	s = strings.TrimPrefix(strings.TrimSpace(s), "0x")
	if strings.Contains(s, "__") {
		return nil, ErrLinkReferences
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf(`artifact's "bytecode" is not hex: %w`, err)
	}
	return b, nil
}
