#!/usr/bin/env node
/**
 * The `scriptorium` command (`npx scriptorium --help`). Runs the compiled CLI from dist/ when it has
 * been built, and otherwise the TypeScript sources through tsx (a development checkout).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const compiled = path.join(root, 'dist', 'infra', 'cli', 'cli.js');
const sources = path.join(root, 'infra', 'cli', 'cli.ts');

if (fs.existsSync(sources) && !fs.existsSync(compiled)) {
  require('tsx/cjs');
  require(sources).main();
} else {
  require(compiled).main();
}
