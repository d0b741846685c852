// The real model binding: src/model's reducer with the dashboard's selectors.
import { reduce } from '../src/model/reduce.js';
import { initialState, type ModelState } from '../src/model/state.js';
import type { ModelBinding } from './model-binding.js';
import { selectFindings, selectView } from './view-model.js';

export const exetraceModel: ModelBinding<ModelState> = {
  initialState: () => initialState(),
  reduce: (state, event) => reduce(state, event),
  view: selectView,
  findings: selectFindings,
};
