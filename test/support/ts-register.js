/**
 * `node -r ./test/support/ts-register.js some.ts`: runs the TypeScript sources without a build, for tests that need
 * the engine in a child process (kill -9, SIGTERM, restarts). Each .ts file is transpiled on load with the repo's
 * compiler options (decorator metadata included), cached by content hash in the temp dir, and the @journey/* path
 * aliases resolve to libs/<name>/src.
 */
const Module = require('node:module');
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, writeFileSync, renameSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
const cacheDir = join(tmpdir(), 'journey-ts-register');
mkdirSync(cacheDir, { recursive: true });
let compilerOptions;
const tsconfig = readFileSync(join(root, 'tsconfig.json'), 'utf8');

function transpile(source, filename) {
  const ts = require('typescript');
  if (!compilerOptions) {
    const { config } = ts.parseConfigFileTextToJson('tsconfig.json', tsconfig);
    const { options } = ts.convertCompilerOptionsFromJson(config.compilerOptions, root);
    compilerOptions = { ...options, sourceMap: false, inlineSourceMap: true, declaration: false };
  }
  return ts.transpileModule(source, { compilerOptions, fileName: filename }).outputText;
}

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const alias = /^@journey\/([a-z-]+)$/.exec(request);
  return resolveFilename.call(this, alias ? join(root, 'libs', alias[1], 'src') : request, ...rest);
};

require.extensions['.ts'] = (module, filename) => {
  const source = readFileSync(filename, 'utf8');
  const cached = join(cacheDir, `${createHash('sha1').update(tsconfig).update(filename).update(source).digest('hex')}.js`);
  let output;
  try {
    output = readFileSync(cached, 'utf8');
  } catch {
    output = transpile(source, filename);
    const partial = `${cached}.${process.pid}`;
    writeFileSync(partial, output);
    renameSync(partial, cached);
  }
  module._compile(output, filename);
};
