// Package contractspec is the contract plugin's catalogue entry: what validate and plan
// need to know about its actions, without the plugin's dependencies, so the
// runbook core can link it.
package contractspec

import "github.com/alpha-orion/runbook/engine/catalog"

// Defaults of the configuration keys that name environment variables.
const (
	DefaultKeyFileEnv  = "RUNBOOK_CONTRACT_KEY_FILE"
	DefaultPasswordEnv = "RUNBOOK_CONTRACT_KEY_PASSWORD"
	// DefaultOwnerKeysEnv holds the Safe owners' key file paths.
	DefaultOwnerKeysEnv = "RUNBOOK_SAFE_OWNER_KEY_FILES"
	// DefaultOwnerPasswordEnv holds the password of owner keystores.
	DefaultOwnerPasswordEnv = "RUNBOOK_SAFE_OWNER_KEY_PASSWORD"
)

var (
	addressIn = catalog.Field{Name: "address", Type: catalog.String, Required: true, Description: "the contract's address (0x…; mixed case must be a valid checksum)"}
	abiIn     = catalog.Field{Name: "abi", Type: catalog.String, Required: true, Description: "path of the contract's ABI (JSON array) or compiled artifact (Hardhat, Foundry, solc)"}
	methodIn  = catalog.Field{Name: "method", Type: catalog.String, Required: true, Description: "the function's name, or its signature (withdraw(address)) when it is overloaded"}
	argsIn    = catalog.Field{Name: "args", Type: catalog.List, Description: "the function's arguments in order; addresses, big integers and bytes as strings"}
	valueIn   = catalog.Field{Name: "value", Type: catalog.String, Description: `ether to send: wei as a decimal string ("1000"), or with a unit ("0.5 ether", "20 gwei"); default 0`}
	confIn    = catalog.Field{Name: "confirmations", Type: catalog.Int, Description: "blocks to wait for, the transaction's own included (default 1)"}
	gasIn     = catalog.Field{Name: "gas_limit", Type: catalog.Int, Description: "gas limit; default the node's estimate plus 20%"}
	maxFeeIn  = catalog.Field{Name: "max_fee_gwei", Type: catalog.Number, Description: "the most a unit of gas may cost (maxFeePerGas), in gwei: the first fee is capped there, and replacements stop there; required with bump_after"}
	bumpIn    = catalog.Field{Name: "bump_after", Type: catalog.Duration, Description: "when the transaction is not mined within this time, replace it (same nonce) with fees raised by bump_percent, again and again up to max_fee_gwei, then fail naming every hash sent; default no replacement"}
	percentIn = catalog.Field{Name: "bump_percent", Type: catalog.Int, Description: "how much each replacement raises the tip (maxPriorityFeePerGas, or a legacy gasPrice), in percent (default 20; at least 10, the rise a geth node requires of both fees to replace a pending transaction); maxFeePerGas rises by those 10% or to twice the base fee plus the new tip, whichever is more"}

	txOut = []catalog.Field{
		{Name: "tx_hash", Type: catalog.String, Description: "the transaction's hash"},
		{Name: "from", Type: catalog.String, Description: "the signer's address"},
		{Name: "nonce", Type: catalog.Int, Description: "the transaction's nonce"},
		{Name: "block", Type: catalog.Int, Description: "the block it was mined in (0 while pending)"},
		{Name: "gas_used", Type: catalog.Int, Description: "gas it used (0 while pending)"},
		{Name: "status", Type: catalog.String, Description: "success, or pending when wait is false"},
		{Name: "tx_hashes", Type: catalog.List, Description: "every transaction sent for the nonce, first to last (replacements with higher fees); tx_hash is the one mined"},
		{Name: "max_fee_gwei", Type: catalog.Number, Description: "the maxFeePerGas (gasPrice on a chain without a base fee) of tx_hash, in gwei"},
	}
)

// Name is the plugin's name in runbooks: `uses: contract.call`.
const Name = "contract"

// Spec is the plugin's catalogue entry.
var Spec = catalog.Plugin{
	Name:        Name,
	Description: "Ethereum contracts over JSON-RPC: call a function (pause, withdraw), read a view, deploy an artifact, read a balance.",
	Config: []catalog.Field{
		{Name: "rpc_url", Type: catalog.String, Required: true, Secret: true,
			Description: "the node's JSON-RPC endpoint (http, https, ws, wss); provider URLs carry an API key, so pass it as ${{ secrets.NAME }} or ${{ env.NAME }}"},
		{Name: "chain_id", Type: catalog.Int, Required: true,
			Description: "the chain the runbook is meant for (1 mainnet, 11155111 Sepolia, 1337 the simulated chain); a node on any other chain is refused before anything is signed"},
		{Name: "key_file_env", Type: catalog.String,
			Description: "the environment variable holding the path of the signer's key file (64 hex digits, or a keystore V3 JSON); default " + DefaultKeyFileEnv},
		{Name: "password_env", Type: catalog.String,
			Description: "the environment variable holding the keystore's password; default " + DefaultPasswordEnv},
		{Name: "state_dir", Type: catalog.String,
			Description: "folder of the records of signed transactions, by idempotency key, and of the nonce locks (one per chain and sender, held from choosing a nonce until the transaction is mined, so two runs sharing the folder never use one nonce); default runbook/contract in the user's cache folder"},
		{Name: "safe_owner_keys_env", Type: catalog.String,
			Description: "for call with safe: the environment variable holding the paths of the Safe owners' key files (64 hex digits, or a keystore V3 JSON), separated like PATH (':' on Unix); at least the Safe's on-chain threshold of them must be owners; default " + DefaultOwnerKeysEnv},
		{Name: "safe_owner_password_env", Type: catalog.String,
			Description: "the environment variable holding the password of the owner key files that are keystores; default " + DefaultOwnerPasswordEnv},
	},
	Actions: []catalog.Action{
		{
			Name:        "call",
			Description: "Send a transaction calling a contract function (pause, withdraw, …) and wait for its receipt, directly or through a Safe multisig that owns the contract. A call that would revert is refused with the decoded reason.",
			Inputs: []catalog.Field{addressIn, abiIn, methodIn, argsIn, valueIn,
				{Name: "safe", Type: catalog.String, Description: "the Safe multisig (v1.3 or later) that makes the call: the owners' keys (safe_owner_keys_env) sign its EIP-712 transaction, at least its on-chain threshold of them, and the signer sends execTransaction; empty: the signer calls directly"},
				{Name: "wait", Type: catalog.Bool, Description: "wait for the receipt (default true); false returns once the node has the transaction"},
				confIn, gasIn, maxFeeIn, bumpIn, percentIn},
			Outputs: append(append([]catalog.Field(nil), txOut...),
				catalog.Field{Name: "safe_tx_hash", Type: catalog.String, Description: "through a Safe: the Safe transaction's EIP-712 hash the owners signed"},
				catalog.Field{Name: "safe_nonce", Type: catalog.Int, Description: "through a Safe: the Safe's nonce the transaction used"},
				catalog.Field{Name: "signers", Type: catalog.List, Description: "through a Safe: the owners who signed"},
			),
			Destructive: true,
		},
		{
			Name:        "read",
			Description: "Call a view function (paused(), owner(), balanceOf(…)) without a transaction.",
			Inputs:      []catalog.Field{addressIn, abiIn, methodIn, argsIn},
			Outputs: []catalog.Field{
				{Name: "result", Type: catalog.Any, Description: "the first return value; integers wider than 48 bits as decimal strings, addresses and bytes as 0x… strings"},
				{Name: "results", Type: catalog.List, Description: "every return value, in order"},
			},
			Idempotent: true,
			ReadOnly:   true,
		},
		{
			Name:        "deploy",
			Description: "Deploy a contract from a compiled artifact (ABI and bytecode) and wait for its receipt.",
			Inputs: []catalog.Field{
				{Name: "artifact", Type: catalog.String, Required: true, Description: "path of the compiled artifact: Hardhat's or Foundry's JSON, with abi and bytecode"},
				{Name: "args", Type: catalog.List, Description: "the constructor's arguments in order"},
				valueIn, confIn, gasIn, maxFeeIn, bumpIn, percentIn,
			},
			Outputs: append([]catalog.Field{
				{Name: "address", Type: catalog.String, Description: "the new contract's address"},
			}, txOut...),
			Destructive: true,
		},
		{
			Name:        "balance",
			Description: "Read an address's ether balance, and its balance of each ERC-20 token listed (balanceOf).",
			Inputs: []catalog.Field{
				{Name: "address", Type: catalog.String, Required: true, Description: "any address: a contract, the signer, the multisig"},
				{Name: "tokens", Type: catalog.List, Description: "ERC-20 token contracts whose balanceOf(address) to read too"},
			},
			Outputs: []catalog.Field{
				{Name: "address", Type: catalog.String, Description: "the address, checksummed"},
				{Name: "wei", Type: catalog.String, Description: "the balance in wei, a decimal string (too big for an int)"},
				{Name: "ether", Type: catalog.Number, Description: "the balance in ether (rounded; use wei for exact sums)"},
				{Name: "tokens", Type: catalog.Map, Description: "each listed token's checksummed address to the balance in whole tokens by its decimals() (rounded; 18 decimals when the token has no decimals())"},
				{Name: "token_units", Type: catalog.Map, Description: "each listed token's checksummed address to the balance in base units, a decimal string"},
			},
			Idempotent: true,
			ReadOnly:   true,
		},
	},
}
