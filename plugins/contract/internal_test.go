package contract

import (
	"errors"
	"fmt"
	"math/big"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"
)

func TestParseWei(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string // want "" means an error
	}{
		{"0", "0"},
		{"", "0"},
		{"1000", "1000"},
		{"1 wei", "1"},
		{"20 gwei", "20000000000"},
		{"0.5 ether", "500000000000000000"},
		{"1.5 ETH", "1500000000000000000"},
		{"115792089237316195423570985008687907853269984665640564039457584007913129639935", "115792089237316195423570985008687907853269984665640564039457584007913129639935"},
		{"0.5", ""},
		{"-1", ""},
		{"1 finney", ""},
		{"one ether", ""},
		{"1 ether please", ""},
	} {
		got, err := parseWei(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("parseWei(%q) = %s, want an error", tc.in, got)
		case tc.want != "" && (err != nil || got.String() != tc.want):
			t.Errorf("parseWei(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestFormatEther(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"0": "0", "1000000000000000000": "1", "2500000000000000000": "2.5", "1": "0.000000000000000001"} {
		n, _ := new(big.Int).SetString(in, 10)
		if got := formatEther(n); got != want {
			t.Errorf("formatEther(%s) = %s, want %s", in, got, want)
		}
	}
}

func mustType(t *testing.T, s string, comps ...abi.ArgumentMarshaling) abi.Type {
	t.Helper()
	typ, err := abi.NewType(s, "", comps)
	if err != nil {
		t.Fatal(err)
	}
	return typ
}

// TestABIRoundTrip converts runbook values to ABI values, packs them,
// unpacks them and converts them back.
func TestABIRoundTrip(t *testing.T) {
	t.Parallel()
	addr := "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	tuple := []abi.ArgumentMarshaling{{Name: "to", Type: "address"}, {Name: "amount", Type: "uint256"}, {Name: "ok", Type: "bool"}}
	for _, tc := range []struct {
		typ      string
		comps    []abi.ArgumentMarshaling
		in, want any
	}{
		{"uint8", nil, 255, 255},
		{"int16", nil, -300, -300},
		{"uint64", nil, "18446744073709551615", "18446744073709551615"},
		{"uint256", nil, "0xff", "255"},
		{"int256", nil, -5, "-5"},
		{"uint256", nil, 12.0, "12"},
		{"bool", nil, "true", true},
		{"string", nil, "hello", "hello"},
		{"address", nil, strings.ToLower(addr), addr},
		{"bytes", nil, "0xdeadbeef", "0xdeadbeef"},
		{"bytes4", nil, "0xdeadbeef", "0xdeadbeef"},
		{"uint32[]", nil, []any{1, 2, 3}, []any{1, 2, 3}},
		{"address[2]", nil, []any{addr, addr}, []any{addr, addr}},
		{"tuple", tuple, map[string]any{"to": addr, "amount": "7", "ok": true}, map[string]any{"to": addr, "amount": "7", "ok": true}},
		{"tuple", tuple, []any{addr, 7, false}, map[string]any{"to": addr, "amount": "7", "ok": false}},
	} {
		name := fmt.Sprintf("%s %v", tc.typ, tc.in)
		typ := mustType(t, tc.typ, tc.comps...)
		v, err := toABI(typ, tc.in)
		if err != nil {
			t.Errorf("%s: toABI: %v", name, err)
			continue
		}
		args := abi.Arguments{{Type: typ}}
		packed, err := args.Pack(v.Interface())
		if err != nil {
			t.Errorf("%s: Pack: %v", name, err)
			continue
		}
		out, err := unpackOutputs(args, packed)
		if err != nil {
			t.Errorf("%s: unpack: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(out[0], tc.want) {
			t.Errorf("%s: round trip = %#v, want %#v", name, out[0], tc.want)
		}
	}
}

func TestToABIErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typ  string
		in   any
		want string
	}{
		{"uint8", 256, "out of range"},
		{"uint256", -1, "out of range"},
		{"int8", 128, "out of range"},
		{"uint256", 1.5, "not an integer"},
		{"uint256", "12abc", "not an integer"},
		{"bool", "yes", "true or false"},
		{"address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "bad checksum"},
		{"bytes4", "0xdead", "want 4 bytes"},
		{"bytes", "dead", "hex"},
		{"uint8[2]", []any{1}, "want 2 elements"},
		{"uint8[]", []any{1, 300}, "element 1"},
		{"string", 5, "want a string"},
	} {
		_, err := toABI(mustType(t, tc.typ), tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("toABI(%s, %v) = %v, want an error mentioning %q", tc.typ, tc.in, err, tc.want)
		}
	}
}

func TestParseAddress(t *testing.T) {
	t.Parallel()
	good := "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	for _, s := range []string{good, strings.ToLower(good), "0x" + strings.ToUpper(good[2:])} {
		if a, err := parseAddress("address", s); err != nil || a.Hex() != good {
			t.Errorf("parseAddress(%s) = %v, %v", s, a, err)
		}
	}
	if _, err := parseAddress("address", good[:41]+"D"); sdk.KindOf(err) != sdk.KindBadInput {
		t.Errorf("bad checksum accepted: %v", err)
	}
}

// errorsABI declares two custom errors like OpenZeppelin's.
const errorsABI = `[
 {"type":"error","name":"EnforcedPause","inputs":[]},
 {"type":"error","name":"OwnableUnauthorizedAccount","inputs":[{"name":"account","type":"address"}]}
]`

func TestDecodeRevert(t *testing.T) {
	t.Parallel()
	a, err := abi.JSON(strings.NewReader(errorsABI))
	if err != nil {
		t.Fatal(err)
	}
	acct := common.HexToAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
	paused, ownable := a.Errors["EnforcedPause"].ID, a.Errors["OwnableUnauthorizedAccount"].ID
	unauthorized, _ := a.Errors["OwnableUnauthorizedAccount"].Inputs.Pack(acct)
	str, _ := abi.Arguments{{Type: mustType(t, "string")}}.Pack("Ownable: caller is not the owner")
	code, _ := abi.Arguments{{Type: mustType(t, "uint256")}}.Pack(big.NewInt(0x11))
	for _, tc := range []struct {
		data []byte
		want string
		kind sdk.Kind
	}{
		{nil, "no reason given", sdk.KindConflict},
		{paused[:4], "EnforcedPause()", sdk.KindConflict},
		{append(ownable[:4:4], unauthorized...), "OwnableUnauthorizedAccount(" + acct.Hex() + ")", sdk.KindPermissionDenied},
		{append(append([]byte(nil), errorSelector...), str...), `Error("Ownable: caller is not the owner")`, sdk.KindPermissionDenied},
		{append(append([]byte(nil), panicSelector...), code...), "Panic: arithmetic underflow or overflow", sdk.KindConflict},
		{[]byte{1, 2, 3, 4}, "custom error 0x01020304 (not in the ABI)", sdk.KindConflict},
	} {
		got := decodeRevert(&a, tc.data)
		if got != tc.want {
			t.Errorf("decodeRevert(%x) = %q, want %q", tc.data, got, tc.want)
		}
		if k := revertKind(got); k != tc.kind {
			t.Errorf("revertKind(%q) = %s, want %s", got, k, tc.kind)
		}
	}
}

func TestRPCKind(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	for _, tc := range []struct {
		err  error
		want sdk.Kind
	}{
		{rpc.HTTPError{StatusCode: 401, Status: "401 Unauthorized"}, sdk.KindUnauthenticated},
		{rpc.HTTPError{StatusCode: 403, Status: "403 Forbidden"}, sdk.KindUnauthenticated},
		{rpc.HTTPError{StatusCode: 429, Status: "429 Too Many Requests"}, sdk.KindRetryable},
		{rpc.HTTPError{StatusCode: 502, Status: "502 Bad Gateway"}, sdk.KindRetryable},
		{rpc.HTTPError{StatusCode: 404, Status: "404 Not Found"}, sdk.KindPermanent},
		{fmt.Errorf("post: %w", refused), sdk.KindRetryable},
		{errors.New("method eth_foo does not exist"), sdk.KindPermanent},
		{errors.New("request timeout"), sdk.KindRetryable},
	} {
		if got := rpcKind(tc.err); got != tc.want {
			t.Errorf("rpcKind(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://127.0.0.1:8545":                       "127.0.0.1:8545",
		"https://mainnet.infura.io/v3/0123456789abcd": "mainnet.infura.io/…",
		"wss://user:pass@node.example/ws":             "node.example/…",
		"https://node.example/?key=secret":            "node.example/…",
		"::not a url":                                 "the rpc_url",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFindMethodOverloads(t *testing.T) {
	t.Parallel()
	a, err := abi.JSON(strings.NewReader(`[
	 {"type":"function","name":"withdraw","inputs":[{"name":"to","type":"address"}],"outputs":[],"stateMutability":"nonpayable"},
	 {"type":"function","name":"withdraw","inputs":[{"name":"to","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[],"stateMutability":"nonpayable"}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := findMethod(&a, "withdraw"); err == nil || !strings.Contains(err.Error(), "withdraw(address,uint256)") {
		t.Errorf("an overloaded name: %v", err)
	}
	m, err := findMethod(&a, "withdraw(address, uint256)")
	if err != nil || len(m.Inputs) != 2 {
		t.Errorf("by signature: %v, %v", m.Sig, err)
	}
}
