'use strict';
// Prints the bytes of JavaScript the handler module loads (every file in require.cache after
// requiring it, the handler included): the "size" scripts/bench reports for this baseline.
const fs = require('node:fs');
require('./handler');
const files = Object.keys(require.cache);
const bytes = files.reduce((sum, f) => sum + fs.statSync(f).size, 0);
console.log(JSON.stringify({ files: files.length, bytes }));
