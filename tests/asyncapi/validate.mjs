// Reads an AsyncAPI document on stdin and checks it with the AsyncAPI project's own parser
// (@asyncapi/parser from npm, which scripts/install-deps puts in .cache/node; that folder is
// the first argument). Prints every diagnostic; exits 1 when the parser found an error or a
// warning, 0 when it found neither.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(path.resolve(process.argv[2]), 'package.json'));
const { Parser } = require('@asyncapi/parser');

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const text = Buffer.concat(chunks).toString('utf8');

const severities = ['error', 'warning', 'info', 'hint'];
const { document, diagnostics } = await new Parser().parse(text);
let failed = !document;
for (const d of diagnostics) {
  const severity = severities[d.severity] ?? String(d.severity);
  console.log(`${severity}: ${d.code}: ${d.message} at /${d.path.join('/')}`);
  if (d.severity <= 1) failed = true;
}
console.log(failed ? 'asyncapi: the document is not valid' : 'asyncapi: the document is valid');
process.exit(failed ? 1 : 0);
