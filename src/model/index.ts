// The model's public surface: the reducer, its state types, selectors and summaries.
export { reduce, reduceAll } from './reduce.js';
export * from './state.js';
export * from './selectors.js';
export { vmaWalk, legacyWalk, exeMappings } from './vma-walk.js';
export { findingsSummary, type FindingsSummary } from './summary.js';
export { FINDING_KIND, NOTE_CLASSES, FINDING_CLASS_TABLE } from './finding-classes.js';
export { isLoaderName } from './files.js';
