import * as path from 'node:path';
import { defaultCodeCacheDir, runWithCodeCache } from './cli/codeCache';

// The package's bin (dist/cli.js): runs the CLI's bundle (dist/cli-main.js) from V8's code cache.
const run = runWithCodeCache(path.join(__dirname, 'cli-main.js'), defaultCodeCacheDir());
process.once('exit', () => run.save());
