/**
 * A jest transform for the few dependencies published only as ES modules (email-reply-parser): jest's CommonJS
 * runtime cannot load them on Node 20, where the engine itself loads them with require(esm). TypeScript's transpiler
 * rewrites import/export to CommonJS; a module's own `require = createRequire(import.meta.url)` is CommonJS's `require`,
 * and any other `import.meta.url` this file's URL.
 */
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const ts = require('typescript');

const SELF = readFileSync(module.filename, 'utf8');

module.exports = {
  /** Cached transforms are this file's too: a change here is not answered from the cache. */
  getCacheKey(source, filename) {
    return createHash('sha256').update(SELF).update('\0').update(filename).update('\0').update(source).digest('hex');
  },
  process(source, filename) {
    const code = source
      .replace(/^const require = createRequire\(import\.meta\.url\);$/m, '')
      .replace(/import\.meta\.url/g, 'require("node:url").pathToFileURL(__filename).href');
    const out = ts.transpileModule(code, {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, allowJs: true },
    });
    return { code: out.outputText };
  },
};
