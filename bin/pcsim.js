#!/usr/bin/env node
// Checked before anything loads: plug-ins need node:module's register() (Node 20.6).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 6)) {
  process.stderr.write(`pcsim: needs Node.js 20.6 or later, found ${process.version}\n`);
  process.exit(2);
}
const { runCli } = await import('../dist/cli.js');
runCli();
