// Builds the native addon with node-gyp and the machine's compiler, against Node's installed
// headers (npm passes its `nodedir` setting on): run by `npm install`. A failed build is not a
// failed install: Sherd then codes and commits in JavaScript (same bytes, slower) and says so
// once at run time.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const candidates = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter((path) => path && existsSync(path));

const nodeGyp = candidates[0];
if (!nodeGyp) {
  process.stderr.write('sherd: node-gyp not found; the native addon is not built (JavaScript fallback)\n');
  process.exit(0);
}
const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--release', '--loglevel=warn'], {
  cwd: here,
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (result.status !== 0) {
  process.stderr.write('sherd: the native addon did not build (see above); Sherd falls back to JavaScript, same bytes, slower\n');
  if (process.env.SHERD_REQUIRE_NATIVE === '1') process.exit(1);
}
