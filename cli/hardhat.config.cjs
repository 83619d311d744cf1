// Hardhat is used only as a local chain (in-process, or its JSON-RPC server); contracts are
// compiled by chain/compile.ts with the solc npm package, never by `hardhat compile`.
module.exports = {
  solidity: '0.8.28',
  networks: {
    hardhat: {
      hardfork: 'prague',
      chainId: 31337,
      // Hardhat's well-known development mnemonic: test keys, never for real money (`sherd chain local` writes them out).
      accounts: {
        mnemonic: 'test test test test test test test test test test test junk',
        count: 10,
        accountsBalance: '1000000000000000000000000',
      },
      blockGasLimit: 60_000_000,
    },
  },
};
