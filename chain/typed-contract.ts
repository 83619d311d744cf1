import type { Contract, ContractTransactionResponse } from 'ethers';

/**
 * Types for calling an ethers v6 Contract from an `as const` ABI (chain/abi.ts), so arguments
 * and results are checked against the Solidity instead of hand-typed tuples. They describe
 * what ethers decodes: every integer as bigint, addresses, bytes and strings as strings,
 * structs and multiple outputs as objects with the ABI's field names (`decodeOutput` builds
 * those objects from ethers' positional Results).
 */
export interface AbiParameter {
  readonly type: string;
  readonly name?: string;
  readonly components?: readonly AbiParameter[];
}

interface AbiFunction {
  readonly type: 'function';
  readonly name: string;
  readonly inputs: readonly AbiParameter[];
  readonly outputs: readonly AbiParameter[];
  readonly stateMutability: string;
}

type ElementOf<P extends AbiParameter, Inner extends string> = Omit<P, 'type'> & { readonly type: Inner };

/** What ethers returns for a parameter. */
export type Decoded<P extends AbiParameter> = P['type'] extends `${infer Inner}[]`
  ? Decoded<ElementOf<P, Inner>>[]
  : P['type'] extends 'tuple'
    ? Fields<NonNullable<P['components']>>
    : P['type'] extends 'bool'
      ? boolean
      : P['type'] extends `uint${string}` | `int${string}`
        ? bigint
        : string;

/** What ethers accepts for a parameter. */
export type Encodable<P extends AbiParameter> = P['type'] extends `${infer Inner}[]`
  ? readonly Encodable<ElementOf<P, Inner>>[]
  : P['type'] extends 'tuple'
    ? { readonly [C in NonNullable<P['components']>[number] as NonNullable<C['name']>]: Encodable<C> }
    : P['type'] extends 'bool'
      ? boolean
      : P['type'] extends `uint${string}` | `int${string}`
        ? bigint | number
        : P['type'] extends `bytes${string}`
          ? string | Uint8Array
          : string;

type Fields<Ps extends readonly AbiParameter[]> = { [P in Ps[number] as NonNullable<P['name']>]: Decoded<P> };

type FunctionOf<Abi extends readonly unknown[], Name extends string> = Extract<Abi[number], AbiFunction & { readonly name: Name }>;
export type FunctionName<Abi extends readonly unknown[], Mutability extends string = string> = Extract<
  Abi[number],
  AbiFunction & { readonly stateMutability: Mutability }
>['name'];
export type ViewName<Abi extends readonly unknown[]> = FunctionName<Abi, 'view' | 'pure'>;
export type WriteName<Abi extends readonly unknown[]> = FunctionName<Abi, 'nonpayable' | 'payable'>;

// A mapped type over a type parameter keeps the tuple's shape (a homomorphic mapped type).
type EncodableTuple<Inputs extends readonly AbiParameter[]> = {
  -readonly [I in keyof Inputs]: Inputs[I] extends AbiParameter ? Encodable<Inputs[I]> : never;
};
export type Arguments<Abi extends readonly unknown[], Name extends string> = EncodableTuple<FunctionOf<Abi, Name>['inputs']>;

/** One output: its value; several: an object keyed by their names. */
export type Returns<Abi extends readonly unknown[], Name extends string> = FunctionOf<Abi, Name>['outputs'] extends readonly [
  infer Only extends AbiParameter,
]
  ? Decoded<Only>
  : Fields<FunctionOf<Abi, Name>['outputs']>;

/** Turns ethers' positional Result into the named, plain values `Decoded` describes, guided by the ABI. */
export function decodeOutput(parameter: AbiParameter, value: unknown): unknown {
  if (parameter.type.endsWith('[]')) {
    const element = { ...parameter, type: parameter.type.slice(0, -2) };
    return Array.from(value as ArrayLike<unknown>, (item) => decodeOutput(element, item));
  }
  if (parameter.type === 'tuple') {
    const tuple = value as ArrayLike<unknown>;
    return Object.fromEntries((parameter.components ?? []).map((c, i) => [c.name, decodeOutput(c, tuple[i])]));
  }
  return value;
}

/** A Contract whose reads and writes are typed by its ABI. */
export class TypedContract<Abi extends readonly unknown[]> {
  constructor(
    readonly contract: Contract,
    private readonly abi: Abi,
  ) {}

  private outputs(name: string): readonly AbiParameter[] {
    const fn = this.abi.find((entry) => (entry as AbiFunction).type === 'function' && (entry as AbiFunction).name === name);
    if (!fn) throw new Error(`the ABI has no function ${name}`);
    return (fn as AbiFunction).outputs;
  }

  async read<Name extends ViewName<Abi>>(name: Name, ...args: Arguments<Abi, Name>): Promise<Returns<Abi, Name>> {
    return this.decode(name, await this.contract.getFunction(name).staticCallResult(...(args as unknown[])));
  }

  /** A dry run of a transaction against the latest block: what it would return, or its revert. */
  async simulate<Name extends WriteName<Abi>>(name: Name, args: Arguments<Abi, Name>): Promise<Returns<Abi, Name>> {
    return this.decode(name, await this.contract.getFunction(name).staticCallResult(...(args as unknown[])));
  }

  send<Name extends WriteName<Abi>>(
    name: Name,
    args: Arguments<Abi, Name>,
    overrides: { value?: bigint; gasLimit?: bigint } = {},
  ): Promise<ContractTransactionResponse> {
    return this.contract.getFunction(name)(...(args as unknown[]), overrides) as Promise<ContractTransactionResponse>;
  }

  private decode<Name extends string>(name: Name, result: ArrayLike<unknown>): Returns<Abi, Name> {
    const outputs = this.outputs(name);
    if (outputs.length === 1) return decodeOutput(outputs[0]!, result[0]) as Returns<Abi, Name>;
    return Object.fromEntries(outputs.map((o, i) => [o.name, decodeOutput(o, result[i])])) as Returns<Abi, Name>;
  }
}
