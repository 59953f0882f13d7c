// Compiles contracts/*.sol with solcjs and writes one Hardhat-style artifact
// per contract next to this script, then copies Safe's published artifacts
// (the real Safe multisig) next to them. Usage: node build.js DIR NODE_MODULES
'use strict';
const fs = require('fs');
const path = require('path');

const [dir, modules] = process.argv.slice(2);
const solc = require(path.join(modules, 'solc'));

const sources = {};
for (const f of fs.readdirSync(path.join(dir, 'contracts')).sort()) {
  if (f.endsWith('.sol')) {
    sources['contracts/' + f] = { content: fs.readFileSync(path.join(dir, 'contracts', f), 'utf8') };
  }
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};
function findImports(p) {
  try {
    return { contents: fs.readFileSync(path.join(modules, p), 'utf8') };
  } catch (e) {
    return { error: 'not found: ' + p };
  }
}
const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
let failed = false;
for (const e of out.errors || []) {
  console.error(e.formattedMessage);
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);
for (const [source, contracts] of Object.entries(out.contracts)) {
  if (!source.startsWith('contracts/')) continue;
  for (const [name, c] of Object.entries(contracts)) {
    const artifact = {
      _format: 'hh-sol-artifact-1',
      contractName: name,
      sourceName: source,
      abi: c.abi,
      bytecode: '0x' + c.evm.bytecode.object,
      deployedBytecode: '0x' + c.evm.deployedBytecode.object,
      linkReferences: {},
      deployedLinkReferences: {},
    };
    fs.writeFileSync(path.join(dir, name + '.json'), JSON.stringify(artifact, null, 2) + '\n');
    console.log('wrote ' + name + '.json (solc ' + solc.version() + ')');
  }
}

// The Safe multisig: its package ships Hardhat artifacts; copy them as they are.
const safeArtifacts = path.join(modules, '@safe-global/safe-smart-account/build/artifacts/contracts');
for (const [rel, name] of [['Safe.sol/Safe.json', 'Safe'], ['proxies/SafeProxy.sol/SafeProxy.json', 'SafeProxy']]) {
  const a = JSON.parse(fs.readFileSync(path.join(safeArtifacts, rel), 'utf8'));
  fs.writeFileSync(path.join(dir, name + '.json'), JSON.stringify(a, null, 2) + '\n');
  console.log('copied ' + name + '.json (@safe-global/safe-smart-account)');
}
