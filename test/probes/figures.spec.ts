import { eventStreamOperations, parseJunit, slope } from './figures';

describe('probe figures', () => {
  it('fits the least-squares slope (MB per minute of a soak)', () => {
    expect(
      slope([
        [0, 100],
        [1, 110],
        [2, 120],
      ]),
    ).toBeCloseTo(10);
    expect(
      slope([
        [0, 100],
        [1, 120],
        [2, 100],
        [3, 120],
      ]),
    ).toBeCloseTo(4);
    expect(
      slope([
        [0, 5],
        [1, 5],
      ]),
    ).toBe(0);
    expect(slope([[1, 5]])).toBeNaN();
    expect(
      slope([
        [1, 5],
        [1, 6],
      ]),
    ).toBeNaN();
  });

  it("reads schemathesis' JUnit report: a 5xx is a failure of its operation, a tool error is kept apart", () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?>
<testsuites errors="1" failures="1" skipped="0" tests="3" time="1.7">
  <testsuite name="schemathesis" hostname="vm" errors="1" failures="1" skipped="0" tests="3" time="1.7">
    <testcase name="GET /v1/customers/{id}" time="0.3" />
    <testcase name="GET /boom" time="1.78">
      <failure type="failure" message="ST101">1. Test Case ID: v4cDN9

- ST101 Server error

[500] Internal Server Error:

    \`{&quot;statusCode&quot;:500}\`

Reproduce with:

    curl -X GET 'http://127.0.0.1:39555/boom?q=&lt;'</failure>
    </testcase>
    <testcase name="POST /v1/triggers" time="13.1">
      <error type="error" message="Runtime Error">AST constructor recursion depth mismatch</error>
    </testcase>
  </testsuite>
</testsuites>`;
    const cases = parseJunit(xml);
    expect(cases.map((c) => [c.name, c.failures.length, c.errors.length])).toEqual([
      ['GET /v1/customers/{id}', 0, 0],
      ['GET /boom', 1, 0],
      ['POST /v1/triggers', 0, 1],
    ]);
    expect(cases[1].failures[0]).toContain(`curl -X GET 'http://127.0.0.1:39555/boom?q=<'`);
    expect(cases[1].failures[0]).toContain('{"statusCode":500}');
    expect(cases[2].errors[0]).toBe('Runtime Error\nAST constructor recursion depth mismatch');
  });

  it('names the operations whose answers are event streams, and only those', () => {
    const doc = {
      paths: {
        '/v1/work': { get: { operationId: 'WorkController_list', responses: { '200': { content: { 'application/json': {} } } } } },
        '/v1/work/stream': {
          get: { operationId: 'WorkController_stream', responses: { '200': { content: { 'text/event-stream': {} } }, '400': {} } },
        },
        '/health': { get: { operationId: 'health', responses: { '200': { description: 'ok' } } } },
      },
    };
    expect(eventStreamOperations(doc)).toEqual(['WorkController_stream']);
    expect(eventStreamOperations({})).toEqual([]);
  });
});
