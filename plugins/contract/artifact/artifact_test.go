package artifact_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/plugins/contract/artifact"
)

const abiJSON = `[{"type":"function","name":"pause","inputs":[],"outputs":[],"stateMutability":"nonpayable"}]`

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		code      int    // bytecode length
		err       string // "" means success
	}{
		{"bare ABI", abiJSON, 0, ""},
		{"hardhat", `{"contractName":"X","abi":` + abiJSON + `,"bytecode":"0x6080"}`, 2, ""},
		{"foundry", `{"abi":` + abiJSON + `,"bytecode":{"object":"0x60806040"}}`, 4, ""},
		{"solc", `{"abi":` + abiJSON + `,"evm":{"bytecode":{"object":"6080"}}}`, 2, ""},
		{"interface", `{"abi":` + abiJSON + `,"bytecode":"0x"}`, 0, ""},
		{"unlinked", `{"abi":` + abiJSON + `,"bytecode":"0x6080__$abc$__"}`, 0, "unlinked"},
		{"no abi", `{"bytecode":"0x6080"}`, 0, `no "abi"`},
		{"bad abi", `{"abi":[{"type":"function","name":1}]}`, 0, "not a valid ABI"},
		{"bad hex", `{"abi":` + abiJSON + `,"bytecode":"0xzz"}`, 0, "not hex"},
		{"not json", `hello`, 0, "neither an ABI"},
	} {
		a, err := artifact.Parse([]byte(tc.src))
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: err = %v, want one mentioning %q", tc.name, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err == "" && (len(a.Bytecode) != tc.code || a.ABI.Methods["pause"].Name != "pause"):
			t.Errorf("%s: %d bytes of code, methods %v", tc.name, len(a.Bytecode), a.ABI.Methods)
		}
	}
	if _, err := artifact.Parse([]byte(`{"abi":[],"bytecode":"0x__$x$__"}`)); !errors.Is(err, artifact.ErrLinkReferences) {
		t.Errorf("unlinked bytecode: %v", err)
	}
}

// TestCommittedArtifacts checks the artifacts build.sh compiles.
func TestCommittedArtifacts(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"FlashLoanArbitrage", "FlashLoanArbitrageV2"} {
		a, err := artifact.Load(filepath.Join("..", "testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != name || len(a.Bytecode) < 1000 {
			t.Errorf("%s: name %q, %d bytes of code", name, a.Name, len(a.Bytecode))
		}
		for _, m := range []string{"pause", "unpause", "paused", "withdraw", "deposit", "owner"} {
			if _, ok := a.ABI.Methods[m]; !ok {
				t.Errorf("%s has no %s()", name, m)
			}
		}
		for _, e := range []string{"EnforcedPause", "OwnableUnauthorizedAccount", "NothingToWithdraw"} {
			if _, ok := a.ABI.Errors[e]; !ok {
				t.Errorf("%s's ABI has no error %s", name, e)
			}
		}
	}
	if _, err := artifact.Load("missing.json"); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}
