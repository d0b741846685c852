// The real model binding: src/model's reducer with the dashboard's selectors.
import { reduce } from '../src/model/reduce.js';
import { initialState, type ModelOptions, type ModelState } from '../src/model/state.js';
import type { ModelBinding } from './model-binding.js';
import { selectFindings, selectView } from './view-model.js';

/** The binding with model options (e.g. the exception rules from --exceptions). */
export function exetraceModelWith(options: Partial<ModelOptions>): ModelBinding<ModelState> {
  return {
    initialState: () => initialState(options),
    initialLineState: () => initialState({ ...options, maxEndedMms: 0 }),
    reduce: (state, event) => reduce(state, event),
    view: selectView,
    findings: selectFindings,
  };
}

export const exetraceModel: ModelBinding<ModelState> = exetraceModelWith({});
