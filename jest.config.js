/** One jest run for unit, contract, e2e and acceptance suites. Benchmarks live in test/bench and are not tests. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/bench/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    '/node_modules/email-reply-parser/.+\\.js$': '<rootDir>/test/support/esm-to-cjs.js',
  },
  // ES-module-only dependencies, transformed to CommonJS for jest (the engine loads them with require(esm))
  transformIgnorePatterns: ['/node_modules/(?!email-reply-parser/)'],
  moduleNameMapper: {
    '^@journey/(domain|event-store|read-models|reactors|messaging|integration)$': '<rootDir>/libs/$1/src',
  },
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
