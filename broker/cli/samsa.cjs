#!/usr/bin/env node
// The `samsa` command (package.json bin): runs broker/cli/samsa.ts from its bundle
// (broker/bundle.cjs), so a tool starts in a fraction of the time transpiling its modules takes.
// `npx tsx broker/cli/samsa.ts` runs the same command from the sources.
'use strict';
const { bundled } = require('../bundle.cjs');

bundled('broker/cli/samsa.ts', 'samsa')
  .then((url) => import(url))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
