/**
 * A minimal ustar writer for tests (the system's tar and Python's tarfile make the archives
 * where the format's variants matter): regular members, GNU long names past 100 bytes.
 */
const BLOCK = 512;

function header(name: string, size: number, type: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name.slice(0, 100), 0, 'utf8');
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  block.write('00000000000\0', 136);
  block.write('        ', 148);
  block.write(type, 156);
  block.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

const pad = (bytes: Uint8Array) => Buffer.concat([Buffer.from(bytes), Buffer.alloc((BLOCK - (bytes.length % BLOCK)) % BLOCK)]);

export function makeTar(members: ReadonlyArray<readonly [name: string, bytes: Uint8Array]>): Uint8Array {
  const parts: Buffer[] = [];
  for (const [name, bytes] of members) {
    if (Buffer.byteLength(name) > 100) {
      const long = Buffer.from(`${name}\0`);
      parts.push(header('././@LongLink', long.length, 'L'), pad(long));
    }
    parts.push(header(name, bytes.length, '0'), pad(bytes));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return new Uint8Array(Buffer.concat(parts));
}
