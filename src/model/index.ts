// The model's public surface: the reducer, its state types, selectors and summaries.
export { reduce, reduceAll } from './reduce.js';
export * from './state.js';
export * from './selectors.js';
export { vmaWalk, legacyWalk, exeMappings } from './vma-walk.js';
export { findingsSummary, summarizeFindings, type FindingsSummary } from './summary.js';
export { FINDING_KIND } from './findings.js';
export { isLoaderName } from './files.js';
