/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The console: built into dist/console (the engine serves it at /, apps/engine/src/console), every asset bundled (no
 * CDN, font or script from outside). `npm run console:dev` serves it with hot reload against an engine on :3000.
 * Its unit tests (src/**\/*.test.ts[x]) run in vitest with jsdom.
 */
export default defineConfig({
  root,
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: true,
  },
  server: { proxy: { '/v1': 'http://localhost:3000', '/health': 'http://localhost:3000' } },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    setupFiles: ['src/test-setup.ts'],
    // the counts npm test's closing line adds to jest's (test/support/summary-reporter.js)
    outputFile: { json: fileURLToPath(new URL('../../dist/console-tests.json', import.meta.url)) },
  },
});
