package contract

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"

	"github.com/alpha-orion/runbook/plugins/contract/artifact"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

// callInputs are a call or read step's inputs, checked and encoded.
type callInputs struct {
	to     common.Address
	abi    *abi.ABI
	method abi.Method
	args   []any // the runbook's values, for display
	data   []byte
	value  *big.Int
	gas    uint64
}

// display renders the call as pause() or withdraw(0x…).
func (c *callInputs) display() string { return display(c.method.RawName, c.args) }

// parseCall checks a call or read step's inputs and encodes the calldata.
// For a call (tx true) it refuses a view function and ether sent to a
// function that is not payable.
func parseCall(in map[string]any, tx bool) (*callInputs, error) {
	to, err := parseAddress("address", in["address"])
	if err != nil {
		return nil, err
	}
	path, _ := in["abi"].(string)
	art, err := artifact.Load(path)
	if err != nil {
		return nil, sdk.BadInput("contract: abi: %v", err)
	}
	name, _ := in["method"].(string)
	m, err := findMethod(&art.ABI, name)
	if err != nil {
		return nil, err
	}
	args, _ := in["args"].([]any)
	vals, err := toArgs(m.Inputs, args, m.Sig)
	if err != nil {
		return nil, err
	}
	data, err := art.ABI.Pack(m.Name, vals...)
	if err != nil {
		return nil, sdk.BadInput("contract: %s: %v", m.Sig, err)
	}
	c := &callInputs{to: to, abi: &art.ABI, method: m, args: args, data: data, value: new(big.Int)}
	if !tx {
		return c, nil
	}
	if m.IsConstant() {
		return nil, sdk.BadInput("contract: %s is a view function: read it with contract.read; a transaction would only burn gas", m.Sig)
	}
	if c.value, err = parseValue(in["value"]); err != nil {
		return nil, err
	}
	if c.value.Sign() > 0 && !m.IsPayable() {
		return nil, sdk.BadInput("contract: %s is not payable: it cannot take value %s wei", m.Sig, c.value)
	}
	if c.gas, err = parseGas(in["gas_limit"]); err != nil {
		return nil, err
	}
	return c, nil
}

// deployInputs are a deploy step's inputs, checked and encoded.
type deployInputs struct {
	art   *artifact.Artifact
	args  []any
	data  []byte // bytecode and constructor arguments
	value *big.Int
	gas   uint64
}

func (d *deployInputs) display() string {
	name := d.art.Name
	if name == "" {
		name = "the contract"
	}
	return display(name, d.args)
}

func parseDeploy(in map[string]any) (*deployInputs, error) {
	path, _ := in["artifact"].(string)
	art, err := artifact.Load(path)
	if err != nil {
		return nil, sdk.BadInput("contract: artifact: %v", err)
	}
	if len(art.Bytecode) == 0 {
		return nil, sdk.BadInput("contract: artifact %s has no bytecode: give the compiled artifact (Hardhat's artifacts/…/Name.json), not the bare ABI", path)
	}
	args, _ := in["args"].([]any)
	ctor := art.ABI.Constructor
	vals, err := toArgs(ctor.Inputs, args, "the constructor")
	if err != nil {
		return nil, err
	}
	packed, err := art.ABI.Pack("", vals...)
	if err != nil {
		return nil, sdk.BadInput("contract: constructor arguments: %v", err)
	}
	d := &deployInputs{art: art, args: args, data: append(append([]byte(nil), art.Bytecode...), packed...)}
	if d.value, err = parseValue(in["value"]); err != nil {
		return nil, err
	}
	if d.value.Sign() > 0 && !ctor.IsPayable() {
		return nil, sdk.BadInput("contract: the constructor is not payable: it cannot take value %s wei", d.value)
	}
	if d.gas, err = parseGas(in["gas_limit"]); err != nil {
		return nil, err
	}
	return d, nil
}

// findMethod finds a function by name or by signature.
func findMethod(a *abi.ABI, name string) (abi.Method, error) {
	name = strings.TrimSpace(name)
	if strings.Contains(name, "(") {
		sig := strings.ReplaceAll(name, " ", "")
		for _, m := range a.Methods {
			if m.Sig == sig {
				return m, nil
			}
		}
		return abi.Method{}, sdk.BadInput("contract: the ABI has no function %s; it has %s", name, methodList(a))
	}
	var found []abi.Method
	for _, m := range a.Methods {
		if m.RawName == name {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 0:
		return abi.Method{}, sdk.BadInput("contract: the ABI has no function %q; it has %s", name, methodList(a))
	case 1:
		return found[0], nil
	}
	sigs := make([]string, len(found))
	for i, m := range found {
		sigs[i] = m.Sig
	}
	sort.Strings(sigs)
	return abi.Method{}, sdk.BadInput("contract: %q is overloaded: give the signature, one of %s", name, strings.Join(sigs, ", "))
}

func methodList(a *abi.ABI) string {
	var sigs []string
	for _, m := range a.Methods {
		sigs = append(sigs, m.Sig)
	}
	if len(sigs) == 0 {
		return "no functions"
	}
	sort.Strings(sigs)
	return strings.Join(sigs, ", ")
}

// parseAddress reads an address; a mixed-case one must carry a valid
// EIP-55 checksum, which catches a mistyped multisig address.
func parseAddress(what string, v any) (common.Address, error) {
	s, ok := v.(string)
	if !ok {
		return common.Address{}, sdk.BadInput("contract: %s must be an address string (0x…), not %T", what, v)
	}
	s = strings.TrimSpace(s)
	if !common.IsHexAddress(s) {
		return common.Address{}, sdk.BadInput("contract: %s %q is not an address (0x and 40 hex digits)", what, s)
	}
	addr := common.HexToAddress(s)
	body := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	mixed := strings.ToLower(body) != body && strings.ToUpper(body) != body
	if mixed && addr.Hex()[2:] != body {
		return common.Address{}, sdk.BadInput("contract: %s %s has a bad checksum (mistyped?): the checksummed form of that address is %s", what, s, addr.Hex())
	}
	return addr, nil
}

// units are the suffixes parseValue accepts, in wei.
var units = map[string]*big.Int{
	"wei":   big.NewInt(1),
	"gwei":  big.NewInt(1e9),
	"ether": big.NewInt(1e18),
	"eth":   big.NewInt(1e18),
}

// parseValue reads ether to send: wei as a decimal string, or a number
// and a unit ("0.5 ether", "20 gwei"). Absent is zero.
func parseValue(v any) (*big.Int, error) {
	switch x := v.(type) {
	case nil:
		return new(big.Int), nil
	case int:
		if x < 0 {
			return nil, sdk.BadInput("contract: value must not be negative")
		}
		return big.NewInt(int64(x)), nil
	case string:
		return parseWei(x)
	}
	return nil, sdk.BadInput("contract: value must be a string of wei (\"1000\") or with a unit (\"0.5 ether\"), not %T", v)
}

func parseWei(s string) (*big.Int, error) {
	fields := strings.Fields(strings.ToLower(s))
	if len(fields) == 0 {
		return new(big.Int), nil
	}
	unit := big.NewInt(1)
	if len(fields) == 2 {
		u, ok := units[fields[1]]
		if !ok {
			return nil, sdk.BadInput("contract: value %q: unknown unit %q (wei, gwei or ether)", s, fields[1])
		}
		unit = u
	} else if len(fields) > 2 {
		return nil, sdk.BadInput("contract: value %q is not an amount (e.g. \"1000\" wei or \"0.5 ether\")", s)
	}
	r, ok := new(big.Rat).SetString(fields[0])
	if !ok || r.Sign() < 0 {
		return nil, sdk.BadInput("contract: value %q is not an amount (e.g. \"1000\" wei or \"0.5 ether\")", s)
	}
	r.Mul(r, new(big.Rat).SetInt(unit))
	if !r.IsInt() {
		return nil, sdk.BadInput("contract: value %q is not a whole number of wei", s)
	}
	return r.Num(), nil
}

func parseGas(v any) (uint64, error) {
	n, _ := v.(int)
	if n < 0 {
		return 0, sdk.BadInput("contract: gas_limit must not be negative")
	}
	return uint64(n), nil
}

// formatEther renders wei as ether with up to 18 decimals, trailing zeros trimmed.
func formatEther(wei *big.Int) string {
	s := new(big.Rat).SetFrac(wei, big.NewInt(1e18)).FloatString(18)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// display renders name(arg, …) for logs and messages.
func display(name string, args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprint(a)
		if f, ok := a.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1e15 {
			parts[i] = fmt.Sprintf("%.0f", f)
		}
	}
	return name + "(" + strings.Join(parts, ", ") + ")"
}
