import { ContractFactory, type Signer } from 'ethers';
import { loadArtifacts } from './compile.ts';
import { decodeChainError, DEFAULT_REGISTRY_PARAMETERS, Registry, type RegistryParameters } from './registry.ts';

/**
 * Deploys SherdRegistry. Tools only (`sherd chain deploy`, the devnet, tests): it needs the
 * bytecode, so it compiles with solc (a devDependency); applications never import this.
 */
export async function deployRegistry(signer: Signer, parameters: RegistryParameters = DEFAULT_REGISTRY_PARAMETERS): Promise<Registry> {
  const artifact = (await loadArtifacts()).SherdRegistry!;
  const factory = new ContractFactory(artifact.abi as never, artifact.bytecode, signer);
  try {
    const p = parameters;
    const contract = await factory.deploy(
      p.minStake,
      p.exitDelay,
      p.feePerByteEpoch,
      p.epochBlocks,
      p.challengeWindow,
      p.slashAmount,
      p.reporterShareBps,
      p.repairWindow,
    );
    await contract.waitForDeployment();
    return Registry.at(await contract.getAddress(), signer);
  } catch (error) {
    throw decodeChainError(error, 'deploying SherdRegistry');
  }
}
