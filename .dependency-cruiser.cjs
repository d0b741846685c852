// Layers (docs/architecture.md), checked by `npm test` through scripts/test.sh:
//   src/kernel ← src/trace ← src/model ← src/report, src/fleet ← dashboards/ ← src/cli
// ("←" reads "may be imported by"). The model imports nothing outside itself except
// src/trace/events.ts (the event types and the kernel ABI constants they are read with), which
// imports only the name lists (event-constants.ts) and, type-only, the TypeBox schema its types
// derive from (event-schema.ts, itself TypeBox and the name lists only): so the model reaches
// no module that does I/O. No cycles anywhere.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles hide layering mistakes and make load order matter.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'kernel-is-the-bottom',
      severity: 'error',
      comment: 'src/kernel reads facts from the running kernel; it uses no other layer.',
      from: { path: '^src/kernel/' },
      to: { path: '^(src/(trace|model|report|fleet|cli)|dashboards)/' },
    },
    {
      name: 'trace-below-model',
      severity: 'error',
      comment: 'src/trace turns bpftrace output into events; it may use src/kernel only.',
      from: { path: '^src/trace/' },
      to: { path: '^(src/(model|report|fleet|cli)|dashboards)/' },
    },
    {
      name: 'model-is-pure',
      severity: 'error',
      comment: 'The model imports only itself and src/trace/events.ts: no I/O, no packages.',
      from: { path: '^src/model/' },
      to: { pathNot: ['^src/model/', '^src/trace/events\\.ts$'] },
    },
    {
      name: 'events-reaches-no-io',
      severity: 'error',
      comment:
        'src/trace/events.ts (event types and the kernel ABI constants they use) imports only the name lists and the schema its types derive from, so the model cannot reach I/O through it.',
      from: { path: '^src/trace/events\\.ts$' },
      to: { pathNot: ['^src/trace/event-(constants|schema)\\.ts$', '(^|/)node_modules/@sinclair/typebox/'] },
    },
    {
      name: 'events-types-only-from-schema',
      severity: 'error',
      comment: 'events.ts takes only types from the schema (and TypeBox): at run time the model loads events.ts and the name lists, nothing more.',
      from: { path: '^src/trace/events\\.ts$' },
      to: { path: ['^src/trace/event-schema\\.ts$', '(^|/)node_modules/'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'event-constants-is-a-leaf',
      severity: 'error',
      comment: 'src/trace/event-constants.ts (the name lists events carry) imports nothing: the model loads it.',
      from: { path: '^src/trace/event-constants\\.ts$' },
      to: {},
    },
    {
      name: 'fleet-is-a-consumer',
      comment:
        'src/fleet (NATS publisher and reader, metrics exporter) consumes events like src/report; the dashboards and the CLI sit above it, and the report does not need it.',
      from: { path: '^src/fleet/' },
      to: { path: '^(src/(report|cli)|dashboards)/' },
    },
    {
      name: 'report-not-fleet',
      comment: 'The report writers know nothing of where a trace came from.',
      from: { path: '^src/report/' },
      to: { path: '^src/fleet/' },
    },
    {
      name: 'event-schema-is-pure',
      severity: 'error',
      comment: 'The event schema uses TypeBox and the name lists only (no I/O), so the types derived from it cost the model nothing.',
      from: { path: '^src/trace/event-schema\\.ts$' },
      to: { pathNot: ['^src/trace/event-constants\\.ts$', '(^|/)node_modules/@sinclair/typebox/'] },
    },
    {
      name: 'report-below-cli',
      severity: 'error',
      comment: 'src/report writes what the model found; the dashboards and the CLI sit above it.',
      from: { path: '^src/report/' },
      to: { path: '^(src/cli|dashboards)/' },
    },
    {
      name: 'dashboards-below-cli',
      severity: 'error',
      comment: 'The terminal UI is started by src/cli and never the other way round.',
      from: { path: '^dashboards/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'scripts-not-from-test',
      severity: 'error',
      comment: 'scripts/ are tools of the project; test code may use them, not the reverse.',
      from: { path: '^scripts/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve would hide a dependency from these rules.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|\\.cache)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
