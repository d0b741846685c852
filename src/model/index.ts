// The model's public surface: the reducer, its state types, selectors and summaries.
export { reduce, reduceAll } from './reduce.js';
export * from './state.js';
export * from './selectors.js';
export { findingsSummary } from './summary.js';
export { NOTE_CLASSES } from './finding-classes.js';
export { requestOf } from './request.js';
export { parseExceptions, type ExceptionRule } from './exceptions.js';
