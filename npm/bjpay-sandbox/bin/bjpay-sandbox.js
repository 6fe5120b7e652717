#!/usr/bin/env node
// Runs this platform's bjpay-sandbox binary, which npm installed with the
// @bjpay-sandbox/<os>-<cpu> package (an optional dependency whose os and cpu
// fields match only one platform), as esbuild and biome do: nothing is
// downloaded at install time.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const platform = `${process.platform}-${process.arch}`;
const pkg = `@bjpay-sandbox/${platform}`;
let bin;
try {
  bin = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'bin',
    process.platform === 'win32' ? 'bjpay-sandbox.exe' : 'bjpay-sandbox');
} catch {
  console.error(`bjpay-sandbox: ${pkg}, the binary for ${platform}, is not installed.
Binaries exist for linux, darwin and win32 on x64 and arm64. If npm left optional
dependencies out (--omit=optional, --no-optional), install again without that;
or use a release archive: https://github.com/bjpay/bjpay-sandbox/releases`);
  process.exit(1);
}

const child = spawn(bin, process.argv.slice(2), { stdio: 'inherit' });
// Pass signals on, so that `serve` stops gracefully when this process is
// told to (a process manager signals only the launcher).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (err) => {
  console.error(`bjpay-sandbox: cannot run ${bin}: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal); // end as the binary ended
  }
  process.exit(code ?? 1);
});
