package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// rpcError gives a failed JSON-RPC call a kind: transport failures,
// timeouts, 429 and 5xx are worth retrying; 401 and 403 are credentials;
// anything else the node refused will be refused again.
func rpcError(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("contract: %s: %w", op, err)
	}
	kind := rpcKind(err)
	return sdk.Errorf(kind, "contract: %s: %w", op, err)
}

func rpcKind(err error) sdk.Kind {
	var httpErr rpc.HTTPError
	if errors.As(err, &httpErr) {
		switch c := httpErr.StatusCode; {
		case c == http.StatusUnauthorized || c == http.StatusForbidden:
			return sdk.KindUnauthenticated
		case c == http.StatusTooManyRequests || c == http.StatusRequestTimeout || c >= 500:
			return sdk.KindRetryable
		}
		return sdk.KindPermanent
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return sdk.KindRetryable
	}
	var rpcErr rpc.Error
	if errors.As(err, &rpcErr) {
		switch rpcErr.ErrorCode() {
		case -32005: // limit exceeded (rate limiting)
			return sdk.KindRetryable
		case -32602: // invalid params
			return sdk.KindBadInput
		}
	}
	msg := strings.ToLower(err.Error())
	for _, transient := range []string{"connection refused", "connection reset", "timeout", "too many requests", "rate limit", "try again", "eof"} {
		if strings.Contains(msg, transient) {
			return sdk.KindRetryable
		}
	}
	return sdk.KindPermanent
}

// Selectors of Solidity's built-in revert payloads.
var (
	errorSelector = []byte{0x08, 0xc3, 0x79, 0xa0} // Error(string)
	panicSelector = []byte{0x4e, 0x48, 0x7b, 0x71} // Panic(uint256)
)

// revertData returns the revert payload a node attached to a failed
// eth_call or eth_estimateGas, if any.
func revertData(err error) ([]byte, bool) {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return nil, false
	}
	s, ok := de.ErrorData().(string)
	if !ok {
		return nil, false
	}
	b, err := hexutil.Decode(s)
	if err != nil {
		return nil, false
	}
	return b, true
}

// isRevert reports whether err says the EVM reverted.
func isRevert(err error) bool {
	if _, ok := revertData(err); ok {
		return true
	}
	return strings.Contains(err.Error(), "execution reverted")
}

// decodeRevert renders a revert payload: Error(string)'s message, a
// Panic's meaning, or a custom error from the ABI with its arguments,
// e.g. EnforcedPause() or OwnableUnauthorizedAccount(0x…).
func decodeRevert(a *abi.ABI, data []byte) string {
	switch {
	case len(data) == 0:
		return "no reason given"
	case len(data) < 4:
		return fmt.Sprintf("malformed revert data %s", hexutil.Encode(data))
	case bytes.Equal(data[:4], errorSelector):
		if s, err := abi.UnpackRevert(data); err == nil {
			return fmt.Sprintf("Error(%q)", s)
		}
	case bytes.Equal(data[:4], panicSelector):
		if s, err := abi.UnpackRevert(data); err == nil {
			return "Panic: " + s
		}
	}
	if a != nil {
		var sel [4]byte
		copy(sel[:], data)
		if e, err := a.ErrorByID(sel); err == nil {
			if vals, err := e.Inputs.Unpack(data[4:]); err == nil {
				args := make([]any, len(vals))
				for i, v := range vals {
					args[i] = fromABI(e.Inputs[i].Type, reflect.ValueOf(v))
				}
				return display(e.Name, args)
			}
			return e.Name + "(…)"
		}
	}
	return fmt.Sprintf("custom error %s (not in the ABI)", hexutil.Encode(data[:4]))
}

// revertKind classifies a revert: a caller the contract does not allow is
// a permission problem, anything else a conflict with the contract's state.
func revertKind(reason string) sdk.Kind {
	for _, s := range []string{"Unauthorized", "AccessControl", "caller is not the owner", "NotOwner"} {
		if strings.Contains(reason, s) {
			return sdk.KindPermissionDenied
		}
	}
	return sdk.KindConflict
}

// revertError is the error for a call or deployment that reverts.
func revertError(op string, a *abi.ABI, err error) error {
	data, _ := revertData(err)
	reason := decodeRevert(a, data)
	if len(data) == 0 {
		reason = strings.TrimPrefix(err.Error(), "execution reverted: ")
		if reason == "execution reverted" {
			reason = "no reason given"
		}
	}
	return sdk.Errorf(revertKind(reason), "contract: %s: reverted: %s", op, reason)
}
